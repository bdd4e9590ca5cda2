// Log-out: the API ends the session and clears the cookie; then back to the log-in form.
"use strict";
(function () {
  const form = document.getElementById("logout-form");
  if (!form) return;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    await fetch("/api/v1/logout", { method: "POST", credentials: "same-origin" });
    window.location.assign("/login");
  });
})();
