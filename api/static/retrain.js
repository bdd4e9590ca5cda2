// Start a retraining run through the API and wait for it (it runs in the background on the server),
// then show the page again for that run, whose before/after table is then complete.
"use strict";
(function () {
  const root = document.getElementById("retrain");
  if (!root) return;
  const round = root.dataset.round;
  const button = document.getElementById("retrain-button");
  const message = document.getElementById("retrain-message");
  const api = "/api/v1/rounds/" + encodeURIComponent(round) + "/retrain";

  async function json(response) {
    try { return await response.json(); } catch (e) { return null; }
  }

  function poll(id) {
    const started = Date.now();
    const tick = async () => {
      const response = await fetch(api + "/" + id, { credentials: "same-origin", headers: { Accept: "application/json" } });
      const data = await json(response);
      if (!response.ok) {
        if (message) message.textContent = "Cannot read the run: " + (data && data.error ? data.error.message : response.status);
        return;
      }
      if (data.status !== "running") {
        window.location.assign(location.pathname + "?run=" + encodeURIComponent(id));
        return;
      }
      if (message) message.textContent = "Retraining (run " + id + ") is running… " + Math.round((Date.now() - started) / 1000) + " s";
      setTimeout(tick, 1000);
    };
    setTimeout(tick, 1000);
  }

  if (button) {
    button.addEventListener("click", async () => {
      button.disabled = true;
      message.textContent = "Starting…";
      const response = await fetch(api, { method: "POST", credentials: "same-origin", headers: { Accept: "application/json" } });
      const data = await json(response);
      if (!response.ok) {
        message.textContent = "Not started: " + (data && data.error ? data.error.message : "the server answered " + response.status);
        button.disabled = false;
        return;
      }
      poll(data.id);
    });
  }
  const activate = document.getElementById("activate-button");
  if (activate) {
    activate.addEventListener("click", async () => {
      const note = document.getElementById("activate-message");
      activate.disabled = true;
      const response = await fetch(api + "/" + encodeURIComponent(activate.dataset.run) + "/activate",
        { method: "POST", credentials: "same-origin", headers: { Accept: "application/json" } });
      const data = await json(response);
      if (!response.ok) {
        note.textContent = "Not changed: " + (data && data.error ? data.error.message : "the server answered " + response.status);
        activate.disabled = false;
        return;
      }
      window.location.assign(location.pathname + "?run=" + encodeURIComponent(activate.dataset.run));
    });
  }
  if (root.dataset.status === "running" && root.dataset.run) poll(root.dataset.run);
})();
