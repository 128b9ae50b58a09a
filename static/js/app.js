// Clientele's only script: small progressive enhancements. Pages work without it.
"use strict";

// Buttons with data-copy copy the text of the element of that id (secrets shown once).
document.addEventListener("click", async (event) => {
  const button = event.target instanceof Element ? event.target.closest("button[data-copy]") : null;
  if (!button) return;
  const source = document.getElementById(button.dataset.copy);
  if (!source) return;
  try {
    await navigator.clipboard.writeText(source.textContent.trim());
    button.textContent = "Copied";
  } catch (_) {
    window.getSelection()?.selectAllChildren(source);
    button.textContent = "Selected: press Ctrl+C";
  }
});

// Inputs with data-select-on-focus select their text when entered, so typing replaces a
// pre-filled value (a time zone) instead of adding to it.
document.addEventListener("focusin", (event) => {
  const input = event.target;
  if (input instanceof HTMLInputElement && input.hasAttribute("data-select-on-focus")) input.select();
});

// A technical name is suggested from the label while nobody has typed one: lower case,
// accents dropped, anything else an underscore ("Loyalty tier" → loyalty_tier).
document.addEventListener("input", (event) => {
  const label = event.target;
  if (!(label instanceof HTMLInputElement)) return;
  const key = document.querySelector(`input[data-suggest-from="${CSS.escape(label.id)}"]`);
  if (!(key instanceof HTMLInputElement) || (key.value !== "" && key.dataset.suggested !== key.value)) return;
  const suggested = label.value
    .normalize("NFD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "_")
    .replace(/^[^a-z]+|_+$/g, "")
    .slice(0, 64);
  key.value = suggested;
  key.dataset.suggested = suggested;
});

// Forms with data-confirm ask before they submit.
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (form instanceof HTMLFormElement && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
    event.preventDefault();
  }
});

// The workspace queue refreshes itself from a JSON endpoint every few seconds, keeping
// the focus on the same conversation's link.
(() => {
  const table = document.getElementById("queue");
  if (!table || !table.dataset.poll) return;
  const body = table.querySelector("tbody");
  const status = document.getElementById("queue-status");
  const total = document.getElementById("queue-total");
  const cell = (text) => {
    const td = document.createElement("td");
    td.textContent = text;
    return td;
  };
  const pill = (kind, text) => {
    const span = document.createElement("span");
    span.className = `pill ${kind}`;
    span.textContent = text;
    return span;
  };
  const render = (rows) => {
    const focused = document.activeElement instanceof HTMLElement ? document.activeElement.closest("tr[data-id]") : null;
    const focusedId = focused ? focused.dataset.id : null;
    body.replaceChildren(...rows.map((row) => {
      const tr = document.createElement("tr");
      tr.dataset.id = String(row.id);
      if (row.unread) tr.className = "unread";
      const who = document.createElement("td");
      const link = document.createElement("a");
      link.href = `/conversations/${row.id}`;
      link.textContent = row.who;
      who.append(link);
      if (row.unread) who.append(" ", pill("pill-new", "new"));
      if (!row.known) who.append(" ", pill("pill-warn", "unknown"));
      const preview = cell(row.preview);
      preview.className = "preview";
      tr.append(who, cell(row.channel), preview, cell(row.waiting ?? ""), cell(row.assignees.join(", ")), cell(row.age));
      return tr;
    }));
    if (rows.length === 0) {
      const tr = document.createElement("tr");
      const td = cell("No open conversations.");
      td.colSpan = 6;
      td.className = "empty";
      tr.append(td);
      body.append(tr);
    }
    if (focusedId) body.querySelector(`tr[data-id="${CSS.escape(focusedId)}"] a`)?.focus({ preventScroll: true });
  };
  let last = "";
  const poll = async () => {
    try {
      const response = await fetch(table.dataset.poll, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      if (!response.ok) return;
      const data = await response.json();
      if (total) total.textContent = data.total_label;
      const signature = JSON.stringify(data.conversations.map((r) => [r.id, r.last_message_at, r.assignees, r.unread, r.waiting, r.age]));
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

// The queue beside a conversation refreshes the same way; it is looked up on each tick (a
// background save may have replaced it), and keeps the focus on the same conversation.
(() => {
  if (!document.getElementById("queue-list")) return;
  const item = (row, current) => {
    const li = document.createElement("li");
    li.dataset.id = String(row.id);
    if (row.unread) li.className = "unread";
    const link = document.createElement("a");
    link.href = `/conversations/${row.id}`;
    if (String(row.id) === current) link.setAttribute("aria-current", "page");
    const line = (className, text) => {
      const span = document.createElement("span");
      span.className = className;
      span.textContent = text;
      return span;
    };
    link.append(line("who", row.who));
    if (row.unread) {
      const pill = line("pill pill-new", "new");
      link.append(" ", pill);
    }
    link.append(line("meta", row.waiting ? `${row.channel} · waiting ${row.waiting}` : row.channel));
    link.append(line("preview", row.preview));
    li.append(link);
    return li;
  };
  let last = "";
  const poll = async () => {
    const list = document.getElementById("queue-list");
    if (!list) return;
    try {
      const response = await fetch(list.dataset.poll, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      if (!response.ok) return;
      const data = await response.json();
      const total = document.getElementById("queue-total");
      if (total) total.textContent = data.total_label;
      const signature = JSON.stringify(data.conversations.map((r) => [r.id, r.unread, r.waiting, r.preview, r.who]));
      if (signature === last) return;
      last = signature;
      const focused = document.activeElement instanceof HTMLElement ? document.activeElement.closest("li[data-id]") : null;
      const focusedId = focused && list.contains(focused) ? focused.dataset.id : null;
      const scroll = list.parentElement ? list.parentElement.scrollTop : 0;
      list.replaceChildren(...data.conversations.map((row) => item(row, list.dataset.current)));
      if (data.conversations.length === 0) {
        const none = document.createElement("li");
        none.className = "empty";
        none.textContent = "No open conversations.";
        list.append(none);
      }
      if (list.parentElement) list.parentElement.scrollTop = scroll;
      if (focusedId) list.querySelector(`li[data-id="${CSS.escape(focusedId)}"] a`)?.focus({ preventScroll: true });
    } catch (_) {
      // The next poll tries again.
    }
  };
  setInterval(poll, 5000);
})();

// An open conversation shows new messages and delivery states as they happen. The thread
// is looked up on each tick: a background save may have replaced it.
(() => {
  const first = document.getElementById("thread");
  if (!first || !first.dataset.poll) return;
  const signatureOf = (messages) => JSON.stringify(messages.map((m) => [m.id, m.delivery]));
  const shown = (thread) =>
    signatureOf(
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
    const thread = document.getElementById("thread");
    if (!thread || !thread.dataset.poll) return;
    try {
      const response = await fetch(thread.dataset.poll, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      if (!response.ok) return;
      const data = await response.json();
      if (signatureOf(data.messages) !== shown(thread)) thread.replaceChildren(...data.messages.map(line));
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

// A <select multiple data-chips> becomes chips and a type-to-search box: typing offers the
// options by name, Enter or a pick adds one as a chip, a chip's × removes it. The select
// stays in the form, hidden, and is what the form sends.
function chipInput(select) {
  const wrap = document.createElement("div");
  wrap.className = "chip-input";
  const chips = document.createElement("ul");
  chips.className = "chips";
  chips.setAttribute("aria-label", "Chosen");
  const input = document.createElement("input");
  input.type = "text";
  input.id = select.id;
  input.setAttribute("autocomplete", "off");
  input.placeholder = "Type to add…";
  const list = document.createElement("datalist");
  list.id = select.id + "-options";
  input.setAttribute("list", list.id);
  select.id = select.id + "-select";
  select.hidden = true;
  select.tabIndex = -1;
  const draw = () => {
    chips.replaceChildren();
    list.replaceChildren();
    for (const option of select.options) {
      if (option.selected) {
        const chip = document.createElement("li");
        chip.className = "chip";
        chip.textContent = option.textContent + " ";
        const remove = document.createElement("button");
        remove.type = "button";
        remove.className = "link";
        remove.textContent = "×";
        remove.setAttribute("aria-label", "Remove " + option.textContent);
        remove.addEventListener("click", () => {
          option.selected = false;
          draw();
          input.focus();
        });
        chip.append(remove);
        chips.append(chip);
      } else {
        const offer = document.createElement("option");
        offer.value = option.textContent;
        list.append(offer);
      }
    }
  };
  const take = () => {
    const typed = input.value.trim().toLowerCase();
    if (!typed) return false;
    const match = [...select.options].find((o) => o.textContent.trim().toLowerCase() === typed)
      || [...select.options].filter((o) => !o.selected && o.textContent.toLowerCase().includes(typed))
        .reduce((only, o, i, all) => (all.length === 1 ? o : only), null);
    if (!match) return false;
    match.selected = true;
    input.value = "";
    draw();
    return true;
  };
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && input.value.trim()) {
      event.preventDefault();
      take();
    } else if (event.key === "Backspace" && !input.value) {
      const chosen = [...select.options].filter((o) => o.selected);
      if (chosen.length) {
        chosen[chosen.length - 1].selected = false;
        draw();
      }
    }
  });
  input.addEventListener("input", () => {
    // A pick from the offered list arrives as the whole name.
    const typed = input.value.trim().toLowerCase();
    if ([...select.options].some((o) => !o.selected && o.textContent.trim().toLowerCase() === typed)) take();
  });
  select.after(wrap);
  wrap.append(chips, input, list);
  draw();
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

// What someone typed and has not saved: the fields of `root` whose value differs from the
// one the page came with, keyed by id (or name and value for check boxes), leaving out
// those `sent` holds (the server answers for them).
const keyOf = (field) =>
  field.type === "checkbox" || field.type === "radio" ? `${field.name}=${field.value}` : field.id || field.name;
const isDirty = (field) => {
  if (field instanceof HTMLSelectElement) return Array.from(field.options).some((o) => o.selected !== o.defaultSelected);
  if (field.type === "checkbox" || field.type === "radio") return field.checked !== field.defaultChecked;
  if (field.type === "hidden" || field.type === "submit") return false;
  return field.value !== field.defaultValue;
};
const unsaved = (root, sent) =>
  Array.from(root.querySelectorAll("input, textarea, select"))
    .filter((field) => !sent.includes(field) && keyOf(field) && isDirty(field))
    .map((field) => ({
      key: keyOf(field),
      value: field.value,
      checked: field.checked,
      chosen: field instanceof HTMLSelectElement ? Array.from(field.selectedOptions).map((o) => o.value) : null,
    }));
const putBack = (root, kept) => {
  const fields = new Map(Array.from(root.querySelectorAll("input, textarea, select")).map((f) => [keyOf(f), f]));
  for (const was of kept) {
    const field = fields.get(was.key);
    if (!field) continue;
    if (field instanceof HTMLSelectElement) {
      for (const option of field.options) option.selected = was.chosen.includes(option.value);
    } else if (field.type === "checkbox" || field.type === "radio") {
      field.checked = was.checked;
    } else {
      field.value = was.value;
    }
  }
};

// Drafts: a textarea with data-draft keeps what was typed in the browser (per conversation)
// until it is sent, across other actions and reloads. Signing out forgets every draft.
const DRAFT = "clientele.draft.";
const restoreDrafts = (root) => {
  root.querySelectorAll("textarea[data-draft]").forEach((area) => {
    const kept = window.localStorage.getItem(DRAFT + area.dataset.draft);
    if (kept && area.value === "") area.value = kept;
  });
};
document.addEventListener("input", (event) => {
  const area = event.target;
  if (!(area instanceof HTMLTextAreaElement) || !area.dataset.draft) return;
  if (area.value === "") window.localStorage.removeItem(DRAFT + area.dataset.draft);
  else window.localStorage.setItem(DRAFT + area.dataset.draft, area.value);
});
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || form.getAttribute("action") !== "/logout") return;
  Object.keys(window.localStorage)
    .filter((key) => key.startsWith(DRAFT))
    .forEach((key) => window.localStorage.removeItem(key));
});
document.addEventListener("DOMContentLoaded", () => restoreDrafts(document));

// Short messages after a background save: confirmations fade, errors stay until dismissed.
const toast = (text, kind) => {
  let shelf = document.getElementById("toasts");
  if (!shelf) {
    shelf = document.createElement("div");
    shelf.id = "toasts";
    shelf.className = "toasts";
    shelf.setAttribute("role", "status");
    shelf.setAttribute("aria-live", "polite");
    document.body.append(shelf);
  }
  const note = document.createElement("div");
  note.className = `flash flash-${kind} toast`;
  note.textContent = text;
  if (kind === "error") {
    const close = document.createElement("button");
    close.type = "button";
    close.className = "link";
    close.textContent = "Dismiss";
    close.addEventListener("click", () => note.remove());
    note.append(" ", close);
  } else {
    window.setTimeout(() => note.classList.add("fading"), 3000);
    window.setTimeout(() => note.remove(), 4000);
  }
  shelf.append(note);
};

// Replaces the region `id` with the same region of a fetched page, keeping what was typed
// elsewhere in it, which <details> were open, where the focus was, and the drafts.
const swapRegion = (id, page, sent) => {
  const old = document.getElementById(id);
  const fresh = page.getElementById(id);
  if (!old || !fresh) return false;
  const kept = unsaved(old, sent);
  const open = Array.from(old.querySelectorAll("details[id]")).map((d) => [d.id, d.open]);
  const focused = document.activeElement && old.contains(document.activeElement) ? document.activeElement.id : "";
  const adopted = document.importNode(fresh, true);
  old.replaceWith(adopted);
  putBack(adopted, kept);
  for (const [detailsId, wasOpen] of open) {
    const details = document.getElementById(detailsId);
    if (details instanceof HTMLDetailsElement) details.open = wasOpen;
  }
  restoreDrafts(adopted);
  enhance(adopted);
  const error = adopted.querySelector(".field-error, #conflict");
  const refocus = error ? adopted.querySelector(`#${CSS.escape(error.id.replace(/-error$/, ""))}`) : null;
  const target = refocus || (focused ? document.getElementById(focused) : null);
  if (target) target.focus();
  return true;
};

// Forms marked data-background="REGION" post without leaving the page: the answer (the
// page the server would have shown) replaces only that region, and its message appears as a
// toast. Saves go one after another, each built when its turn comes, so each carries the
// version the previous one left. `only` limits a save to one field of the form (the card's
// in-place edits). Without the script, or when the answer is another page, the form posts
// as usual.
const saves = [];
let saving = false;
const background = (form, only) => {
  saves.push([form, only]);
  if (!saving) nextSave();
};
const nextSave = async () => {
  const next = saves.shift();
  if (!next) {
    saving = false;
    delete document.body.dataset.saving;
    return;
  }
  saving = true;
  document.body.dataset.saving = "true";
  const [form, only] = next;
  if (!form.isConnected) return nextSave();
  const sent = Array.from(form.elements).filter((field) => !only || !field.closest(".field") || only.contains(field));
  const body = new URLSearchParams();
  for (const field of sent) {
    if (!field.name || field.disabled || field.type === "submit") continue;
    if ((field.type === "checkbox" || field.type === "radio") && !field.checked) continue;
    if (field instanceof HTMLSelectElement) {
      for (const option of field.selectedOptions) body.append(field.name, option.value);
    } else {
      body.append(field.name, field.value);
    }
  }
  const buttons = Array.from(form.querySelectorAll("button[type=submit]"));
  buttons.forEach((button) => (button.disabled = true));
  try {
    const response = await fetch(form.action, {
      method: "POST",
      body,
      credentials: "same-origin",
      headers: { Accept: "text/html" },
    });
    const page = new DOMParser().parseFromString(await response.text(), "text/html");
    const landed = new URL(response.url);
    const region = form.dataset.background;
    if (landed.pathname !== window.location.pathname || !page.getElementById(region)) {
      if (response.ok && landed.pathname !== window.location.pathname) window.location.assign(response.url);
      else toast(response.ok ? "Saved, but the page could not be updated: reload it." : `Not saved (${response.status}). What you typed is still here.`, "error");
    } else {
      // A refusal can also come back as a page with an error message (a closed
      // conversation): the draft then stays, and fills the box again.
      const refused = page.querySelector("main > .flash-error");
      if (response.ok && !refused) {
        const draft = form.querySelector("textarea[data-draft]");
        if (draft) window.localStorage.removeItem(DRAFT + draft.dataset.draft);
      }
      if (response.ok) history.replaceState(history.state, "", landed.pathname + landed.search);
      const draft = form.querySelector("textarea[data-draft]");
      const typed = draft ? draft.value : "";
      swapRegion(region, page, sent);
      page.querySelectorAll("main > .flash").forEach((flash) => {
        toast(flash.textContent.trim(), flash.classList.contains("flash-error") ? "error" : "success");
      });
      // Refused, and its box is gone (the conversation closed): the text stays on screen.
      if (refused && draft && typed && !document.getElementById(draft.id)) {
        toast(`Your unsent text, to copy: ${typed}`, "error");
      }
      if (!response.ok && !page.querySelector(".field-error, #conflict")) toast(`Not saved (${response.status}).`, "error");
    }
  } catch (_) {
    toast("Not saved: the server could not be reached. What you typed is still here; try again.", "error");
  } finally {
    buttons.forEach((button) => (button.disabled = false));
  }
  nextSave();
};
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (event.defaultPrevented || !(form instanceof HTMLFormElement) || !form.dataset.background) return;
  event.preventDefault();
  background(form, null);
});

// The card's attributes save on their own: Enter saves the field (Ctrl+Enter in a text
// box), Escape puts back the saved value, a choice saves as soon as it is made.
const cardField = (target) =>
  target instanceof Element ? target.closest("form[data-inplace] .field[data-key]") : null;
document.addEventListener("keydown", (event) => {
  const field = cardField(event.target);
  if (!field) return;
  const input = event.target;
  if (event.key === "Escape") {
    for (const each of field.querySelectorAll("input, textarea, select")) {
      if (each instanceof HTMLSelectElement) for (const o of each.options) o.selected = o.defaultSelected;
      else if (each.type === "checkbox" || each.type === "radio") each.checked = each.defaultChecked;
      else each.value = each.defaultValue;
    }
    event.preventDefault();
  } else if (event.key === "Enter" && (!(input instanceof HTMLTextAreaElement) || event.ctrlKey || event.metaKey)) {
    event.preventDefault();
    background(field.closest("form"), field);
  }
});
document.addEventListener("change", (event) => {
  const field = cardField(event.target);
  const input = event.target;
  if (field && (input instanceof HTMLSelectElement || input.type === "checkbox" || input.type === "radio")) {
    background(field.closest("form"), field);
  }
});

// The information panel beside a conversation swaps its sections in place, so the thread
// and an unsent reply stay as they are; without the script the links load the page.
(() => {
  if (!document.querySelector(".card-pane")) return;
  const swap = async (url, push) => {
    try {
      const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } });
      if (!response.ok) throw new Error(String(response.status));
      const page = new DOMParser().parseFromString(await response.text(), "text/html");
      const pane = document.querySelector(".card-pane");
      const fresh = page.querySelector(".card-pane");
      if (!pane || !fresh) throw new Error("no panel");
      pane.replaceChildren(...Array.from(fresh.childNodes).map((node) => document.importNode(node, true)));
      if (push) history.pushState({ panel: url }, "", url);
      pane.querySelector(".panel-tabs a[aria-current]")?.focus();
    } catch {
      window.location.href = url;
    }
  };
  document.addEventListener("click", (event) => {
    const link = event.target instanceof Element ? event.target.closest(".card-pane .panel-tabs a, #activity-older, #messages-older") : null;
    if (!link || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
    event.preventDefault();
    swap(link.href, true);
  });
  window.addEventListener("popstate", (event) => {
    if (event.state && event.state.panel) swap(event.state.panel, false);
  });
})();

// An action bar's menus: the one a link points at (#contact from a list's Callback) opens
// on arrival; opening one closes the others, and Escape closes it back to its button.
document.addEventListener("DOMContentLoaded", () => {
  const target = location.hash ? document.getElementById(location.hash.slice(1)) : null;
  if (target instanceof HTMLDetailsElement && target.closest(".action-bar")) {
    target.open = true;
    const first = target.querySelector("select, textarea, input:not([type=hidden])");
    if (first instanceof HTMLElement) first.focus();
  }
});
document.addEventListener("toggle", (event) => {
  const opened = event.target;
  if (!(opened instanceof HTMLDetailsElement) || !opened.open || !opened.closest(".action-bar")) return;
  opened.closest(".action-bar").querySelectorAll("details[open]").forEach((other) => {
    if (other !== opened) other.open = false;
  });
}, true);
document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape" || !(event.target instanceof Element)) return;
  const open = event.target.closest(".action-bar details[open]");
  if (open instanceof HTMLDetailsElement) {
    open.open = false;
    const summary = open.querySelector("summary");
    if (summary) summary.focus();
  }
});

// "Generate" beside a temporary password fills it with 16 random characters (no look-alike
// letters), for the supervisor to pass on.
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("button[data-generate-password]").forEach((button) => {
    const field = document.getElementById(button.dataset.generatePassword);
    if (!(field instanceof HTMLInputElement) || !window.crypto) return;
    button.hidden = false;
    button.addEventListener("click", () => {
      const alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
      const bytes = new Uint32Array(16);
      window.crypto.getRandomValues(bytes);
      field.value = Array.from(bytes, (b) => alphabet[b % alphabet.length]).join("");
      field.focus();
      field.select();
    });
  });
});

// A long list (countries, languages: more than 25 options) gets a box above it that
// narrows the options to those containing what is typed, in their name or code. The
// chosen option always stays, so filtering never changes what the form sends.
function searchableSelect(select) {
  const all = [...select.options];
  const filter = document.createElement("input");
  filter.type = "search";
  filter.className = "select-filter";
  filter.placeholder = "Type to find…";
  filter.setAttribute("autocomplete", "off");
  const label = select.labels && select.labels[0] ? select.labels[0].textContent.trim() : "the list";
  filter.setAttribute("aria-label", "Find in " + label);
  filter.setAttribute("aria-controls", select.id);
  select.before(filter);
  filter.addEventListener("input", () => {
    const typed = filter.value.trim().toLowerCase();
    const chosen = select.value;
    const kept = all.filter((o) => !typed || o.value === chosen
      || o.textContent.toLowerCase().includes(typed) || o.value.toLowerCase() === typed);
    select.replaceChildren(...kept);
    select.value = chosen;
    select.size = typed ? Math.min(Math.max(kept.length, 2), 8) : 0;
  });
  filter.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown" || event.key === "Enter") {
      event.preventDefault();
      select.focus();
    }
  });
  select.addEventListener("change", () => {
    if (filter.value) {
      filter.value = "";
      filter.dispatchEvent(new Event("input"));
    }
  });
}

// The enhancements of form controls, on a page and on each region a background save
// brings in.
function enhance(root) {
  root.querySelectorAll("select[multiple][data-chips]").forEach(chipInput);
  root.querySelectorAll("select:not([multiple])").forEach((select) => {
    if (select.options.length > 25 && select.id) searchableSelect(select);
  });
}

document.addEventListener("DOMContentLoaded", () => enhance(document));
