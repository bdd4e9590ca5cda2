// The grid's round controls: switch blind coding (programme, admin) and declare one's coding of the
// round finished (coders). Both go through the JSON API; the page is then shown again as it now is.
"use strict";
(function () {
  const root = document.getElementById("round-controls");
  if (!root) return;
  const api = "/api/v1/rounds/" + encodeURIComponent(root.dataset.round);
  const message = document.getElementById("round-message");

  async function send(method, path, body, confirmText) {
    if (confirmText && !window.confirm(confirmText)) return;
    const response = await fetch(api + path, {
      method: method,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify(body),
    });
    if (response.ok) { window.location.reload(); return; }
    let text = "the server answered " + response.status;
    try { const data = await response.json(); if (data.error) text = data.error.message; } catch (e) { /* keep */ }
    message.textContent = "Not changed: " + text;
    message.classList.add("error");
  }

  const blind = document.getElementById("blind-toggle");
  if (blind) blind.addEventListener("click", () => send("PUT", "/settings", { blind_coding: blind.dataset.blind !== "true" }));
  const finish = document.getElementById("finish-round");
  if (finish) finish.addEventListener("click", () => send("POST", "/finish", { finished: true },
    "Mark your coding of this round finished? Answers you left in progress become done, and in a blind round you will see the others' codes (and can no longer change yours)."));
})();
