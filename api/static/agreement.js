// The disagreement queue: record a consensus through the JSON API, then show the page again (the
// figures against the consensus change with it) with a note of what was recorded.
"use strict";
(function () {
  document.querySelectorAll("form.consensus-form").forEach((form) => {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const message = form.querySelector(".form-message");
      const button = form.querySelector("button[type=submit]");
      const answer = form.dataset.answerId;
      const themes = Array.from(form.querySelectorAll("input[name=theme]:checked")).map((x) => x.value);
      const note = form.querySelector("textarea[name=note]").value;
      const roundName = decodeURIComponent(location.pathname.split("/")[2]);
      button.disabled = true;
      message.textContent = "Saving…";
      try {
        const response = await fetch("/api/v1/rounds/" + encodeURIComponent(roundName) + "/answers/" + answer + "/consensus", {
          method: "POST",
          credentials: "same-origin",
          headers: { "Content-Type": "application/json", "Accept": "application/json" },
          body: JSON.stringify({ themes: themes, note: note }),
        });
        if (!response.ok) {
          let text = "the server answered " + response.status;
          try { const data = await response.json(); if (data.error) text = data.error.message; } catch (e) { /* keep */ }
          throw new Error(text);
        }
        window.location.assign(location.pathname + "?settled=" + encodeURIComponent(answer));
      } catch (error) {
        message.textContent = "Not recorded: " + error.message;
        message.classList.add("error");
        button.disabled = false;
      }
    });
  });
})();
