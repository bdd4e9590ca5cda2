// The coding view's keyboard and its calls to the JSON API. No framework: the page is rendered by the
// server with everything on it as data attributes; this script moves a cursor over the suggestions,
// sends decisions, and updates what is shown from the API's answers (never guessing success).
"use strict";
(function () {
  const root = document.getElementById("coding");
  if (!root) return;
  const round = root.dataset.round;
  const answer = root.dataset.answer;
  const canCode = root.dataset.canCode === "true";
  const base = "/api/v1/rounds/" + encodeURIComponent(round) + "/answers/" + encodeURIComponent(answer);
  const live = document.getElementById("live");
  const items = Array.from(document.querySelectorAll("#suggestions .suggestion"));
  const boxes = Array.from(document.querySelectorAll("#theme-options input[type=checkbox]"));
  const memo = document.getElementById("memo");
  const statusBadge = document.getElementById("my-status");
  let current = items.length ? 0 : -1;
  let savedMemo = memo ? memo.value : "";
  let busy = false;

  function say(text, isError) {
    live.textContent = text;
    live.classList.toggle("error", !!isError);
  }

  async function call(method, path, body) {
    const response = await fetch(base + path, {
      method: method,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    let data = null;
    try { data = await response.json(); } catch (e) { data = null; }
    if (!response.ok) {
      const message = data && data.error ? data.error.message : "the server answered " + response.status;
      if (response.status === 401) window.location.assign("/login?next=" + encodeURIComponent(location.pathname + location.search));
      throw new Error(message);
    }
    return data;
  }

  function setStatus(status) {
    const labels = { done: "Done", in_progress: "In progress" };
    statusBadge.textContent = labels[status] || "Not started";
    statusBadge.className = "status status-" + (status || "not_started");
  }

  // ---------------------------------------------------------------- the cursor over the suggestions
  function highlight() {
    const theme = current >= 0 ? items[current].dataset.theme : null;
    items.forEach((li, i) => li.classList.toggle("current", i === current));
    document.querySelectorAll("#answer-text mark").forEach((mark) => {
      mark.classList.toggle("active", theme !== null && mark.dataset.themes.split(" ").includes(theme));
    });
  }

  function move(step) {
    if (!items.length) return;
    current = (current + step + items.length) % items.length;
    highlight();
    items[current].focus({ preventScroll: false });
  }

  // ---------------------------------------------------------------- decisions
  function show(theme, present, decision) {
    const li = items.find((x) => x.dataset.theme === theme);
    if (li) {
      li.dataset.state = present ? "accept" : "reject";
      li.querySelector("[data-state-label]").textContent = present ? "✓ accepted" : "✗ rejected";
    }
    const box = boxes.find((x) => x.dataset.theme === theme);
    if (box) {
      box.checked = present;
      box.closest(".theme-option").dataset.on = present ? "true" : "false";
    }
  }

  // Decisions are queued, not dropped: a coder typing "r 3 a" quickly gets all three, in order.
  let pending = Promise.resolve();

  function decide(theme, decision) {
    if (!canCode) return pending;
    pending = pending.then(() => send(theme, decision));
    return pending;
  }

  async function send(theme, decision) {
    try {
      const result = await call("POST", "/decisions", { theme: theme, decision: decision });
      const present = decision === "accept" || decision === "add";
      show(theme, present, decision);
      if (result && result.status) setStatus(result.status);
      else if (statusBadge.textContent === "Not started") setStatus("in_progress");
      const label = (boxes.find((x) => x.dataset.theme === theme) || {}).parentElement;
      say((present ? "Applied " : "Removed ") + (label ? label.textContent.trim().replace(/^\d\s*/, "") : theme) + ".");
    } catch (error) {
      say("Not saved: " + error.message, true);
      const box = boxes.find((x) => x.dataset.theme === theme);
      if (box) box.checked = box.closest(".theme-option").dataset.on === "true";
    }
  }

  function decideCurrent(decision) {
    if (current < 0) return;
    decide(items[current].dataset.theme, decision);
  }

  function toggle(box) {
    const on = box.closest(".theme-option").dataset.on === "true";
    const suggested = box.dataset.suggested === "true";
    const decision = on ? (suggested ? "reject" : "remove") : (suggested ? "accept" : "add");
    decide(box.dataset.theme, decision);
  }

  // ---------------------------------------------------------------- memo, outcomes, moving on
  async function saveMemo() {
    if (!canCode || !memo || memo.value === savedMemo) return true;
    try {
      const result = await call("PUT", "/memo", { text: memo.value });
      savedMemo = memo.value;
      document.getElementById("memo-saved").textContent = "Version " + (result && result.version ? result.version : "") + " saved just now.";
      return true;
    } catch (error) {
      say("Memo not saved: " + error.message, true);
      return false;
    }
  }

  async function doneAndNext() {
    if (busy) return;
    if (!canCode) { go(root.dataset.nextUrl || root.dataset.gridUrl); return; }
    busy = true;
    try {
      await pending;  // every decision typed before "next" is saved first
      if (!(await saveMemo())) return;
      await call("PUT", "/status", { status: "done" });
      setStatus("done");
      say("Marked done.");
      go(root.dataset.nextUrl || root.dataset.gridUrl);
    } catch (error) {
      say("Not marked done: " + error.message, true);
    } finally {
      busy = false;
    }
  }

  async function go(url) {
    await saveMemo();
    window.location.assign(url);
  }

  const outcomesForm = document.getElementById("outcomes-form");
  const addOutcome = document.getElementById("add-outcome");
  if (outcomesForm && canCode) {
    outcomesForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      const chosen = Array.from(outcomesForm.querySelectorAll("input[name=outcome]:checked")).map((x) => x.value);
      if (addOutcome && addOutcome.value && !chosen.includes(addOutcome.value)) chosen.push(addOutcome.value);
      try {
        const result = await call("PUT", "/outcomes", { outcomes: chosen });
        const saved = result && result.outcomes ? result.outcomes : chosen;
        if (addOutcome && addOutcome.value) {
          const text = addOutcome.options[addOutcome.selectedIndex].text;
          const label = document.createElement("label");
          const input = document.createElement("input");
          input.type = "checkbox"; input.name = "outcome"; input.value = addOutcome.value; input.checked = true;
          label.append(input, " " + text);
          const none = document.getElementById("no-outcomes");
          if (none) none.remove();
          document.getElementById("outcome-checks").append(label);
          addOutcome.value = "";
        }
        say("Outcomes saved: " + (saved.length ? saved.join(", ") : "none") + ".");
      } catch (error) {
        say("Outcomes not saved: " + error.message, true);
      }
    });
  }

  // ---------------------------------------------------------------- wiring
  items.forEach((li, i) => {
    li.addEventListener("click", () => { current = i; highlight(); });
    li.querySelectorAll("button[data-action]").forEach((button) => {
      button.addEventListener("click", (event) => {
        event.stopPropagation();
        current = i; highlight();
        decide(li.dataset.theme, button.dataset.action);
      });
    });
  });
  boxes.forEach((box) => box.addEventListener("change", (event) => {
    event.preventDefault();
    toggle(box);
  }));
  if (memo) {
    memo.addEventListener("blur", saveMemo);
  }
  const doneButton = document.getElementById("done-next");
  if (doneButton) doneButton.addEventListener("click", doneAndNext);

  function typing(target) {
    return target && (target.tagName === "TEXTAREA" || target.tagName === "SELECT" ||
      (target.tagName === "INPUT" && target.type !== "checkbox"));
  }

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const target = event.target;
    if (typing(target)) {
      if (event.key === "Escape") { target.blur(); if (items[current]) items[current].focus(); }
      return;
    }
    const onControl = target && (target.tagName === "BUTTON" || target.tagName === "A" || target.tagName === "SUMMARY");
    const key = event.key;
    let handled = true;
    if (key === "j" || key === "ArrowDown") move(1);
    else if (key === "k" || key === "ArrowUp") move(-1);
    else if (key === "a") decideCurrent("accept");
    else if (key === "r") decideCurrent("reject");
    else if (key === "m" && memo && !memo.disabled) memo.focus();
    else if (key === "n" || (key === "Enter" && !onControl)) doneAndNext();
    else if (key === "p") go(root.dataset.prevUrl || root.dataset.gridUrl);
    else if (/^[1-9]$/.test(key) && boxes[Number(key) - 1] && !boxes[Number(key) - 1].disabled) toggle(boxes[Number(key) - 1]);
    else handled = false;
    if (handled) event.preventDefault();
  });

  highlight();
  if (items.length) items[0].focus({ preventScroll: true });
})();
