// Clientele's only script: small progressive enhancements. Pages work without it.
"use strict";

// Forms with data-confirm ask before they submit.
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (form instanceof HTMLFormElement && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
    event.preventDefault();
  }
});

// The workspace queue refreshes itself from a JSON endpoint every few seconds.
(() => {
  const table = document.getElementById("queue");
  if (!table || !table.dataset.poll) return;
  const body = table.querySelector("tbody");
  const status = document.getElementById("queue-status");
  const cell = (text) => {
    const td = document.createElement("td");
    td.textContent = text;
    return td;
  };
  const render = (rows) => {
    body.replaceChildren(...rows.map((row) => {
      const tr = document.createElement("tr");
      tr.dataset.id = String(row.id);
      const who = document.createElement("td");
      const link = document.createElement("a");
      link.href = `/conversations/${row.id}`;
      link.textContent = row.who;
      who.append(link);
      if (!row.known) {
        const pill = document.createElement("span");
        pill.className = "pill pill-warn";
        pill.textContent = "unknown";
        who.append(" ", pill);
      }
      const preview = cell(row.preview);
      preview.className = "wrap";
      tr.append(who, cell(row.channel), preview, cell(row.assignees.join(", ")), cell(row.age));
      return tr;
    }));
    if (rows.length === 0) {
      const tr = document.createElement("tr");
      const td = cell("No open conversations.");
      td.colSpan = 5;
      td.className = "empty";
      tr.append(td);
      body.append(tr);
    }
  };
  let last = "";
  const poll = async () => {
    try {
      const response = await fetch(table.dataset.poll, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      if (!response.ok) return;
      const data = await response.json();
      const signature = JSON.stringify(data.conversations.map((r) => [r.id, r.last_message_at, r.assignees]));
      if (signature !== last) {
        if (last !== "") status.textContent = "Updated with new messages.";
        last = signature;
        render(data.conversations);
      }
    } catch (_) {
      // Offline for a moment: the next poll tries again.
    }
  };
  poll();
  setInterval(poll, 5000);
})();

// An open conversation shows new messages and delivery states as they happen.
(() => {
  const thread = document.getElementById("thread");
  if (!thread || !thread.dataset.poll) return;
  const signatureOf = (messages) => JSON.stringify(messages.map((m) => [m.id, m.delivery]));
  let last = signatureOf(
    Array.from(thread.querySelectorAll("li[data-id]")).map((li) => ({
      id: Number(li.dataset.id),
      delivery: li.querySelector(".delivery")?.textContent ?? null,
    })),
  );
  const line = (m) => {
    const li = document.createElement("li");
    li.className = m.outbound ? "out" : "in";
    li.dataset.id = String(m.id);
    const who = document.createElement("p");
    who.className = "who";
    who.textContent = `${m.author} · ${m.sent}`;
    if (m.delivery) {
      const state = document.createElement("span");
      state.className = "delivery";
      state.textContent = m.delivery;
      who.append(" · ", state);
    }
    const body = document.createElement("p");
    body.className = "body";
    body.textContent = m.body;
    li.append(who, body);
    return li;
  };
  const poll = async () => {
    try {
      const response = await fetch(thread.dataset.poll, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      if (!response.ok) return;
      const data = await response.json();
      const signature = signatureOf(data.messages);
      if (signature !== last) {
        last = signature;
        thread.replaceChildren(...data.messages.map(line));
      }
    } catch (_) {
      // The next poll tries again.
    }
  };
  setInterval(poll, 4000);
})();

// Customers page: "select all" ticks every row of the page; the comparison list offers
// only the operators that fit the chosen property (the server checks again).
document.addEventListener("change", (event) => {
  const target = event.target;
  if (target instanceof HTMLInputElement && target.id === "select-all") {
    document.querySelectorAll("input.row-select").forEach((box) => {
      box.checked = target.checked;
    });
  }
  if (target instanceof HTMLSelectElement && target.id === "fp") {
    fitOperators(target);
  }
});

function fitOperators(propertySelect) {
  const operatorSelect = document.getElementById("fo");
  if (!(operatorSelect instanceof HTMLSelectElement)) return;
  const chosen = propertySelect.selectedOptions[0];
  const allowed = chosen && chosen.dataset.operators ? chosen.dataset.operators.trim().split(" ") : null;
  let firstAllowed = null;
  for (const option of operatorSelect.options) {
    const fits = !allowed || allowed.includes(option.value);
    option.hidden = !fits;
    option.disabled = !fits;
    if (fits && firstAllowed === null) firstAllowed = option;
  }
  if (operatorSelect.selectedOptions[0] && operatorSelect.selectedOptions[0].disabled && firstAllowed) {
    firstAllowed.selected = true;
  }
}

document.addEventListener("DOMContentLoaded", () => {
  const propertySelect = document.getElementById("fp");
  if (propertySelect instanceof HTMLSelectElement) fitOperators(propertySelect);
});

// Job progress: poll the status while the job runs; a reload shows the same state.
document.addEventListener("DOMContentLoaded", () => {
  const job = document.getElementById("job");
  if (!job || job.dataset.finished === "true") return;
  const set = (id, text) => {
    const element = document.getElementById(id);
    if (element) element.textContent = String(text);
  };
  const poll = async () => {
    try {
      const response = await fetch(job.dataset.statusUrl, { headers: { Accept: "application/json" } });
      if (!response.ok) return;
      const status = await response.json();
      const bar = document.getElementById("job-progress");
      if (bar) bar.value = status.percent;
      set("job-processed", status.processed);
      set("job-total", status.total);
      set("job-changed", status.changed);
      set("job-created", status.created);
      set("job-refused", status.refused);
      set("job-rate", status.rate);
      set("job-left", status.seconds_left === null ? "—" : `${status.seconds_left} s`);
      if (status.finished) {
        set("job-state", status.error ? `Stopped: ${status.error}` : "Finished.");
        job.dataset.finished = "true";
        const refused = document.getElementById("job-refused-download");
        if (refused) refused.hidden = status.refused === 0;
        return;
      }
      set("job-state", `Running… ${status.percent}%`);
    } catch (_) {
      // A failed poll is retried on the next tick.
    }
    window.setTimeout(poll, 700);
  };
  window.setTimeout(poll, 300);
});

// The information panel beside a conversation swaps its sections in place, so the thread
// and an unsent reply stay as they are; without the script the links load the page.
(() => {
  const pane = document.querySelector(".card-pane");
  if (!pane) return;
  const swap = async (url, push) => {
    try {
      const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } });
      if (!response.ok) throw new Error(String(response.status));
      const page = new DOMParser().parseFromString(await response.text(), "text/html");
      const fresh = page.querySelector(".card-pane");
      if (!fresh) throw new Error("no panel");
      pane.replaceChildren(...fresh.childNodes);
      if (push) history.pushState({ panel: url }, "", url);
      pane.querySelector(".panel-tabs a[aria-current]")?.focus();
    } catch {
      window.location.href = url;
    }
  };
  pane.addEventListener("click", (event) => {
    const link = event.target instanceof Element ? event.target.closest(".panel-tabs a, #activity-older, #messages-older") : null;
    if (!link || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
    event.preventDefault();
    swap(link.href, true);
  });
  window.addEventListener("popstate", (event) => {
    if (event.state && event.state.panel) swap(event.state.panel, false);
  });
})();
