// The chair's letter pages. Drafting: upload the review and its notes, then ask for the machine draft.
// Editing: the page holds the version it was loaded from; a save sends the whole edited draft with
// that version, and if someone saved since (HTTP 409) the chair's text stays where it is and the page
// says which version to reload. Nothing here merges or overwrites anyone's work.
"use strict";
(function () {
  async function readJson(response) {
    try { return await response.json(); } catch (e) { return null; }
  }

  function errorText(data, response) {
    return data && data.error ? data.error.message : "the server answered " + response.status;
  }

  // ------------------------------------------------------------------ drafting a new letter
  const newForm = document.getElementById("new-letter");
  if (newForm) {
    const message = document.getElementById("new-letter-message");
    newForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      const button = newForm.querySelector("button[type=submit]");
      const body = new FormData();
      const notes = document.getElementById("notes-file").files[0];
      if (notes) body.append("notes", notes);
      const record = document.getElementById("record-file").files[0];
      if (record) body.append("record", await record.text());
      ["cluster", "health_board", "review_date", "chair", "sppc_representative", "reviewing", "outcomes", "attendees", "round"]
        .forEach((name) => {
          const field = newForm.elements[name];
          if (field && field.value.trim()) body.append(name, field.value.trim());
        });
      button.disabled = true;
      message.classList.remove("error");
      message.textContent = "Recording the review…";
      try {
        let response = await fetch("/api/v1/reviews/upload", { method: "POST", body: body, credentials: "same-origin" });
        let data = await readJson(response);
        if (!response.ok) throw new Error(errorText(data, response));
        message.textContent = "Drafting the letter from the notes (this takes a few seconds)…";
        response = await fetch("/api/v1/reviews/" + data.id + "/letters", { method: "POST", credentials: "same-origin" });
        data = await readJson(response);
        if (!response.ok) throw new Error(errorText(data, response));
        window.location.assign("/letters/" + data.letter_id);
      } catch (error) {
        message.textContent = "Not drafted: " + error.message;
        message.classList.add("error");
        button.disabled = false;
      }
    });
  }

  // ------------------------------------------------------------------ editing
  const root = document.getElementById("letter-editor");
  if (!root) return;
  const letterId = root.dataset.letterId;
  const baseVersion = Number(root.dataset.baseVersion);
  const draft = JSON.parse(document.getElementById("draft-data").textContent);
  const form = document.getElementById("letter-form");
  const conflict = document.getElementById("conflict");
  const saveMessage = document.getElementById("save-message");

  // Each sentence box grows to show all of its text (a scrolled box hides what is being edited).
  function fit(area) {
    area.style.height = "auto";
    area.style.height = area.scrollHeight + 4 + "px";
  }
  form.querySelectorAll("textarea").forEach((area) => {
    fit(area);
    area.addEventListener("input", () => fit(area));
  });

  function edited() {
    const copy = JSON.parse(JSON.stringify(draft));
    const byId = {};
    copy.sentences.forEach((s) => { byId[s.id] = s; });
    copy.actions.forEach((a) => { byId[a.id] = a; });
    form.querySelectorAll(".item[data-id]").forEach((div) => {
      const item = byId[div.dataset.id];
      if (!item) return;
      div.querySelectorAll("[data-field]").forEach((field) => {
        const value = field.value.trim();
        item[field.dataset.field] = field.dataset.field === "text" ? value : (value || null);
      });
    });
    copy.next_steps = document.getElementById("next-steps").value;
    return copy;
  }

  function showConflict(data) {
    const details = (data && data.error && data.error.details) || {};
    const latest = details.latest_version;
    conflict.replaceChildren();
    const strong = document.createElement("strong");
    strong.textContent = latest
      ? "Someone else saved version " + latest + " while you were editing version " + baseVersion + " — reload to see it."
      : "This letter changed while you were editing — reload to see the latest version.";
    const detail = document.createElement("p");
    detail.textContent = (data && data.error ? data.error.message + " " : "") +
      "Your text is still on this page: copy what you need, open the latest version, and apply your changes to it.";
    const open = document.createElement("a");
    open.href = "/letters/" + letterId;
    open.target = "_blank";
    open.rel = "noopener";
    open.textContent = "Open the latest version in a new tab";
    const reload = document.createElement("button");
    reload.type = "button";
    reload.textContent = "Reload (discards your changes here)";
    reload.addEventListener("click", () => window.location.assign("/letters/" + letterId));
    detail.append(" ");
    conflict.append(strong, detail, open, " ", reload);
    conflict.hidden = false;
    conflict.scrollIntoView({ block: "center" });
  }

  if (root.dataset.canEdit === "true") {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const button = document.getElementById("save-button");
      button.disabled = true;
      saveMessage.classList.remove("error");
      saveMessage.textContent = "Saving…";
      try {
        const comment = document.getElementById("save-comment").value.trim();
        const response = await fetch("/api/v1/letters/" + letterId, {
          method: "PUT",
          credentials: "same-origin",
          headers: { "Content-Type": "application/json", "Accept": "application/json" },
          body: JSON.stringify({ base_version: baseVersion, draft: edited(), comment: comment || null }),
        });
        const data = await readJson(response);
        if (response.status === 409) {
          saveMessage.textContent = "Not saved: someone else saved first.";
          saveMessage.classList.add("error");
          showConflict(data);
          return;
        }
        if (!response.ok) throw new Error(errorText(data, response));
        window.location.assign("/letters/" + letterId + "?saved=" + data.version);
      } catch (error) {
        saveMessage.textContent = "Not saved: " + error.message;
        saveMessage.classList.add("error");
      } finally {
        button.disabled = false;
      }
    });
  }

  // ------------------------------------------------------------------ comparing versions
  const compare = document.getElementById("compare-form");
  if (compare) {
    const out = document.getElementById("compare-result");
    compare.addEventListener("submit", async (event) => {
      event.preventDefault();
      const from = document.getElementById("compare-from").value;
      const to = document.getElementById("compare-to").value;
      const response = await fetch("/api/v1/letters/" + letterId + "/compare?from=" + from + "&to=" + to, { credentials: "same-origin" });
      const data = await readJson(response);
      out.replaceChildren();
      if (!response.ok) { out.textContent = "Cannot compare: " + errorText(data, response); return; }
      const heading = document.createElement("p");
      heading.textContent = data.items.length
        ? data.items.length + " change" + (data.items.length === 1 ? "" : "s") + " from version " + from + " to " + to + ":"
        : "No differences between version " + from + " and " + to + ".";
      const list = document.createElement("ul");
      list.className = "changes";
      data.items.forEach((change) => {
        const li = document.createElement("li");
        li.dataset.itemId = change.id;
        const what = document.createElement("strong");
        what.textContent = change.kind + " " + change.id + " " + change.change + (change.fields.length ? " (" + change.fields.join(", ") + ")" : "") + ": ";
        li.append(what);
        const text = (value) => (value && typeof value === "object" ? value.text : value) || "";
        if (change.before) { const d = document.createElement("del"); d.textContent = text(change.before); li.append(d, " → "); }
        if (change.after) { const i = document.createElement("ins"); i.textContent = text(change.after); li.append(i); }
        list.append(li);
      });
      out.append(heading, list);
    });
  }
})();
