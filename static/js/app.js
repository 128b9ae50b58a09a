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
