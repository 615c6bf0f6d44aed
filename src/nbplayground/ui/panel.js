// nbplayground panel: a plain ES module rendered by anywidget (no build step).
// State lives in synced traits; actions (run, stop, load, ...) are custom messages to the kernel.

const VIEWS = [["chat", "Chat"], ["compare", "Compare"], ["history", "History"], ["code", "Code"]];
const LANGS = [["python", "Python"], ["javascript", "JavaScript"], ["curl", "curl"],
  ["notebook", "pg.run"], ["compare", "pg.sweep (compare)"]];
const PROVIDERS = { openai: "OpenAI", local: "Local · llama.cpp", simulated: "Simulated" };
const MAX_COLUMNS = 4;

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") el.className = v;
    else if (k === "text") el.textContent = v;
    else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "value" || k === "disabled" || k === "checked") el[k] = v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

const ICONS = {
  play: '<path d="M4 2.5v11l9.5-5.5z"/>',
  stop: '<rect x="3.5" y="3.5" width="9" height="9" rx="1.5"/>',
  plus: '<path d="M8 3v10M3 8h10" stroke="currentColor" stroke-width="1.6" fill="none" stroke-linecap="round"/>',
  x: '<path d="M4 4l8 8M12 4l-8 8" stroke="currentColor" stroke-width="1.6" fill="none" stroke-linecap="round"/>',
  copy: '<rect x="5.5" y="5.5" width="8" height="8" rx="1.5" stroke="currentColor" stroke-width="1.3" fill="none"/><path d="M10.5 3.5v-.5a1 1 0 0 0-1-1h-6a1 1 0 0 0-1 1v6a1 1 0 0 0 1 1h.5" stroke="currentColor" stroke-width="1.3" fill="none"/>',
  cell: '<rect x="2.5" y="2.5" width="11" height="11" rx="2" stroke="currentColor" stroke-width="1.3" fill="none"/><path d="M8 5.5v5M5.5 8h5" stroke="currentColor" stroke-width="1.4" fill="none" stroke-linecap="round"/>',
  refresh: '<path d="M13 8a5 5 0 1 1-1.6-3.7M13 2.5V5h-2.5" stroke="currentColor" stroke-width="1.4" fill="none" stroke-linecap="round" stroke-linejoin="round"/>',
  spark: '<path d="M8 1.5l1.6 4.9 4.9 1.6-4.9 1.6L8 14.5l-1.6-4.9L1.5 8l4.9-1.6z"/>',
  trash: '<path d="M3 4.5h10M6.5 4.5V3h3v1.5M4.5 4.5l.6 8.5h5.8l.6-8.5" stroke="currentColor" stroke-width="1.3" fill="none" stroke-linejoin="round"/>',
  save: '<path d="M3 2.5h8l2.5 2.5v8.5h-10.5z M5.5 2.5v3.5h5v-3.5 M5 13.5v-4h6v4" stroke="currentColor" stroke-width="1.2" fill="none" stroke-linejoin="round"/>',
  turn: '<path d="M3 4v3.5a2 2 0 0 0 2 2h7.5M10 7l2.5 2.5L10 12" stroke="currentColor" stroke-width="1.4" fill="none" stroke-linecap="round" stroke-linejoin="round"/>',
};
function icon(name) {
  const s = h("span", { class: "nbp-icon", "aria-hidden": "true" });
  s.innerHTML = `<svg viewBox="0 0 16 16" width="14" height="14" fill="currentColor">${ICONS[name]}</svg>`;
  return s;
}

function grow(ta) {
  ta.style.height = "auto";
  ta.style.height = `${Math.min(ta.scrollHeight + 2, 480)}px`;
}

async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const ta = h("textarea", { class: "nbp-offscreen", value: text });
    document.body.append(ta);
    ta.select();
    let ok = false;
    try { ok = document.execCommand("copy"); } catch { ok = false; }
    ta.remove();
    return ok;
  }
}

function fmtNumber(v, int) {
  if (v === null || v === undefined || v === "") return "";
  return int ? String(Math.round(v)) : String(Math.round(v * 100) / 100);
}

/** Put `code` in a new cell below the cell showing this widget. True when it worked. */
function insertCell(model, code, modelId, el) {
  try {
    const nb = model.widget_manager?.context?.model?.sharedModel;
    if (!nb || typeof nb.insertCell !== "function") return false;
    const cells = nb.cells || [];
    let index = -1;
    cells.forEach((cell, i) => {
      const outputs = typeof cell.getOutputs === "function" ? cell.getOutputs() : [];
      for (const o of outputs) {
        if (o?.data?.["application/vnd.jupyter.widget-view+json"]?.model_id === modelId) index = i;
      }
    });
    if (index < 0) {
      const node = el.closest(".jp-Cell");
      const at = node ? Number(node.getAttribute("data-windowed-list-index")) : NaN;
      index = Number.isFinite(at) ? at : cells.length - 1;
    }
    nb.insertCell(index + 1, { cell_type: "code", source: code, metadata: {} });
    return true;
  } catch {
    return false;
  }
}

function render({ model, el }) {
  const viewId = Math.random().toString(36).slice(2);
  const local = {};
  const cleanup = [];
  let saveTimer = null;
  let lang = "python";

  const save = (delay = 0) => {
    clearTimeout(saveTimer);
    if (delay) saveTimer = setTimeout(() => model.save_changes(), delay);
    else model.save_changes();
  };
  // Set a trait from the browser without re-rendering the control that changed it.
  const put = (name, value, delay = 0) => {
    local[name] = true;
    try { model.set(name, value); } finally { local[name] = false; }
    save(delay);
  };
  const on = (name, fn) => {
    const cb = () => { if (!local[name]) fn(model.get(name)); };
    model.on(`change:${name}`, cb);
    cleanup.push(() => model.off(`change:${name}`, cb));
  };
  const send = (msg) => { save(); model.send(msg); };
  const entries = () => model.get("models") || [];
  const fields = () => model.get("fields") || [];
  const entryOf = (provider, name) =>
    entries().find((e) => e.provider === provider && e.model === name) ||
    { id: `${provider}:${name}`, provider, model: name, unsupported: {}, max_output_tokens: 4096 };

  // ---------- header ----------
  const brandBadge = h("span", { class: "nbp-badge" });
  const tabs = VIEWS.map(([id, label]) =>
    h("button", { class: "nbp-tab", "data-view": id, type: "button",
      onclick: () => { put("view", id); showView(id); } }, label));
  const presetSelect = h("select", { class: "nbp-select nbp-preset-select", title: "Load a saved preset",
    onchange: () => {
      if (presetSelect.value) send({ action: "load_preset", name: presetSelect.value });
      presetDelete.hidden = !presetSelect.value;
    } });
  const presetName = h("input", { class: "nbp-input nbp-preset-name", placeholder: "Preset name",
    onkeydown: (e) => { if (e.key === "Enter") savePreset(); if (e.key === "Escape") presetBox.classList.remove("is-open"); } });
  const presetBox = h("div", { class: "nbp-preset-box" }, presetName,
    h("button", { class: "nbp-btn nbp-btn-small", type: "button", onclick: () => savePreset() }, "Save"));
  const presetDelete = h("button", { class: "nbp-icon-btn nbp-preset-delete", type: "button", hidden: true,
    title: "Delete this preset",
    onclick: () => { if (presetSelect.value) send({ action: "delete_preset", name: presetSelect.value }); } },
  icon("trash"));
  function savePreset() {
    const name = presetName.value.trim();
    if (!name) { presetName.focus(); return; }
    send({ action: "save_preset", name });
    presetName.value = "";
    presetBox.classList.remove("is-open");
  }
  const toast = h("div", { class: "nbp-toast", role: "status" });
  const header = h("header", { class: "nbp-header" },
    h("div", { class: "nbp-brand" }, icon("spark"), h("span", { class: "nbp-title" }, "Playground"), brandBadge),
    h("nav", { class: "nbp-tabs", role: "tablist" }, tabs),
    h("div", { class: "nbp-header-right" }, toast, presetSelect, presetDelete,
      h("button", { class: "nbp-btn nbp-btn-ghost nbp-btn-small nbp-preset-save", type: "button",
        title: "Save the model, messages and parameters as a named preset",
        onclick: () => {
          presetBox.classList.toggle("is-open");
          presetName.value = presetSelect.value;
          presetName.focus();
        } }, icon("save"), h("span", { class: "nbp-btn-label" }, "Save preset")),
      presetBox));

  // ---------- settings column ----------
  const modelSelect = h("select", { class: "nbp-select nbp-model-select", "aria-label": "Model",
    onchange: () => pickModel(modelSelect.value) });
  const modelInfo = h("div", { class: "nbp-hint nbp-model-info" });
  function fillModels(select, provider, name) {
    const list = entries().slice();
    if (!list.some((e) => e.provider === provider && e.model === name)) list.unshift(entryOf(provider, name));
    select.replaceChildren();
    const groups = new Map();
    for (const e of list) {
      if (!groups.has(e.provider)) {
        groups.set(e.provider, h("optgroup", { label: PROVIDERS[e.provider] || e.provider }));
        select.append(groups.get(e.provider));
      }
      groups.get(e.provider).append(h("option", { value: `${e.provider}:${e.model}` }, e.model));
    }
    select.value = `${provider}:${name}`;
  }
  function pickModel(id) {
    const e = entries().find((x) => x.id === id);
    if (!e) return;
    const params = { ...model.get("params") };
    for (const f of fields()) {
      if (f.limit && e[f.limit] && params[f.name] > e[f.limit]) params[f.name] = e[f.limit];
    }
    local.model = local.provider = local.params = true;
    try {
      model.set("provider", e.provider);
      model.set("model", e.model);
      model.set("params", params);
    } finally { local.model = local.provider = local.params = false; }
    save();
    showModel();
    showParams();
  }
  const setParam = (name, value, delay = 250) => {
    put("params", { ...model.get("params"), [name]: value }, delay);
  };

  // A number outside its field's range disables the Run button that would send it, and says why.
  const invalid = {};
  const invalidIn = (scope) => Object.entries(invalid).filter(([k, v]) => v && k.startsWith(`${scope}:`)).map(([, v]) => v);
  // Controls are described by the kernel's field table (the "fields" trait): kind, range, help.
  function numberRow(spec, get, set, compact = false, scope = "chat") {
    const int = spec.kind === "integer";
    const problem = h("div", { class: "nbp-hint nbp-param-problem", hidden: true });
    const check = (v) => {
      const hi = number.max === "" ? null : Number(number.max);
      const lo = spec.min;
      if (v === null || v === undefined || v === "") return "";
      if ((lo !== null && v < lo) || (hi !== null && v > hi)) {
        return `${spec.label} is ${v}; it must be between ${lo} and ${hi === null ? "any" : hi}`;
      }
      return "";
    };
    const mark = (v, reason) => {
      const why = reason ? "" : check(v);
      invalid[`${scope}:${spec.name}`] = why;
      problem.textContent = why;
      problem.hidden = !why;
      number.classList.toggle("is-invalid", Boolean(why));
      if (scope === "chat") showEstimate(); else showResults();
    };
    const number = h("input", { class: "nbp-number", type: "number", step: spec.step,
      min: spec.min ?? undefined, "aria-label": spec.label,
      placeholder: spec.min === null ? "any" : undefined,
      oninput: () => {
        // Empty = not sent, for a field that has no default to fall back on.
        if (number.value === "") { if (spec.min === null || spec.default === null) { set(null); mark(null); } return; }
        const v = int ? parseInt(number.value, 10) : parseFloat(number.value);
        if (Number.isNaN(v)) return;
        if (range) range.value = v;
        set(v);
        mark(v, number.disabled);
      } });
    // A field with no range is a plain number box; the rest get a slider too.
    const range = spec.min === null || compact ? null : h("input", { class: "nbp-range", type: "range",
      min: spec.min, max: spec.max ?? spec.min, step: spec.step, "aria-label": spec.label,
      oninput: () => {
        const v = int ? parseInt(range.value, 10) : parseFloat(range.value);
        number.value = fmtNumber(v, int);
        set(v);
      } });
    const row = h("div", { class: `nbp-param${compact ? " is-compact" : ""}`, "data-param": spec.name },
      h("div", { class: "nbp-param-head" },
        h("label", { class: "nbp-label", title: spec.help }, spec.label), number), range, problem);
    const update = (reason, entry) => {
      const v = get();
      const max = spec.limit ? Math.min((entry || {})[spec.limit] || 32768, 32768) : spec.max;
      if (document.activeElement !== number) number.value = v === null || v === undefined ? "" : fmtNumber(v, int);
      if (max !== null && max !== undefined) number.max = max;
      if (range) { range.max = max; range.value = v ?? spec.min; }
      row.classList.toggle("is-disabled", Boolean(reason));
      row.title = reason || "";
      number.disabled = Boolean(reason);
      if (range) range.disabled = Boolean(reason);
      mark(v, reason);
    };
    return { row, update };
  }
  function choiceRow(spec, get, set) {
    const select = h("select", { class: "nbp-select", "aria-label": spec.label,
      onchange: () => set(select.value) }, ["", ...spec.choices].map((c) => h("option", { value: c }, c || "default")));
    const row = h("div", { class: "nbp-param", "data-param": spec.name },
      h("div", { class: "nbp-param-head" }, h("label", { class: "nbp-label", title: spec.help }, spec.label), select));
    const update = (reason) => {
      select.value = get() || "";
      select.disabled = Boolean(reason);
      row.title = reason || "";
      row.classList.toggle("is-disabled", Boolean(reason));
    };
    return { row, update };
  }
  function stringsRow(spec, get, set) {
    const chips = h("div", { class: "nbp-chips" });
    const input = h("input", { class: "nbp-input nbp-strings-input", placeholder: "Type a sequence, press Enter",
      "aria-label": spec.label,
      onkeydown: (e) => {
        if (e.key !== "Enter" || !input.value) return;
        e.preventDefault();
        const items = [...(get() || [])];
        if (spec.max_items && items.length >= spec.max_items) return;
        items.push(input.value.replace(/\\n/g, "\n"));
        input.value = "";
        set(items);
        showParams();
      } });
    const row = h("div", { class: "nbp-param", "data-param": spec.name },
      h("div", { class: "nbp-param-head" }, h("label", { class: "nbp-label", title: spec.help }, spec.label)),
      chips, input);
    const update = (reason) => {
      const items = get() || [];
      chips.replaceChildren(...items.map((s, i) => h("span", { class: "nbp-chip" },
        JSON.stringify(s).slice(1, -1),
        h("button", { class: "nbp-chip-x", type: "button", title: "Remove", disabled: Boolean(reason),
          onclick: () => { const next = [...items]; next.splice(i, 1); set(next); showParams(); } }, "×"))));
      input.disabled = Boolean(reason);
      row.title = reason || "";
      row.classList.toggle("is-disabled", Boolean(reason));
    };
    return { row, update };
  }
  function toggleRow(spec, get, set) {
    const box = h("input", { type: "checkbox", class: "nbp-toggle", "aria-label": spec.label,
      onchange: () => set(box.checked ? true : null) });
    const row = h("div", { class: "nbp-param", "data-param": spec.name },
      h("div", { class: "nbp-param-head" }, h("label", { class: "nbp-label", title: spec.help }, spec.label), box));
    const update = (reason) => {
      box.checked = Boolean(get());
      box.disabled = Boolean(reason);
      row.title = reason || "";
      row.classList.toggle("is-disabled", Boolean(reason));
    };
    return { row, update };
  }
  // A JSON value (a schema, a list of functions): edited as text, sent once it parses. A field
  // whose spec has `names` also takes names (get_weather, lookup): the kernel finds them in the
  // notebook.
  const NAMES = /^[A-Za-z_]\w*(\s*,\s*[A-Za-z_]\w*)*$/;
  function jsonRow(spec, get, set) {
    const hint = h("div", { class: "nbp-hint nbp-json-hint" });
    const area = h("textarea", { class: "nbp-textarea nbp-json", rows: 3, spellcheck: "false",
      placeholder: spec.names ? `JSON, or ${spec.names}: get_weather, lookup` : "JSON", "aria-label": spec.label,
      oninput: () => {
        const text = area.value.trim();
        area.classList.remove("is-invalid");
        if (!text) { hint.textContent = ""; set(null); return; }
        if (spec.names && NAMES.test(text)) {
          hint.textContent = "";
          set(text.split(",").map((n) => n.trim()));
          return;
        }
        try { set(JSON.parse(text)); hint.textContent = ""; }
        catch (e) { hint.textContent = `Not JSON yet: ${e.message}`; area.classList.add("is-invalid"); }
      } });
    const row = h("div", { class: "nbp-param", "data-param": spec.name },
      h("div", { class: "nbp-param-head" }, h("label", { class: "nbp-label", title: spec.help }, spec.label)),
      area, hint);
    const update = (reason) => {
      const v = get();
      const names = spec.names && Array.isArray(v) && v.length && v.every((x) => typeof x === "string");
      if (document.activeElement !== area) {
        area.value = v === null || v === undefined ? "" : names ? v.join(", ") : JSON.stringify(v, null, 1);
      }
      area.disabled = Boolean(reason);
      row.title = reason || "";
      row.classList.toggle("is-disabled", Boolean(reason));
    };
    return { row, update };
  }
  const ROWS = { number: numberRow, integer: numberRow, choice: choiceRow, strings: stringsRow,
    toggle: toggleRow, json: jsonRow };
  const rows = {};
  for (const spec of fields()) {
    const make = ROWS[spec.kind];
    if (!make) continue;
    rows[spec.name] = make(spec, () => model.get("params")[spec.name],
      (v) => setParam(spec.name, v, ["number", "integer", "json"].includes(spec.kind) ? 250 : 0));
  }

  const settings = h("aside", { class: "nbp-settings" },
    h("div", { class: "nbp-field" }, h("label", { class: "nbp-label" }, "Model"), modelSelect, modelInfo),
    h("div", { class: "nbp-section-title" }, "Parameters"),
    fields().filter((f) => rows[f.name] && !f.advanced).map((f) => rows[f.name].row),
    h("details", { class: "nbp-more-fields" }, h("summary", { class: "nbp-section-title" }, "More fields"),
      fields().filter((f) => rows[f.name] && f.advanced).map((f) => rows[f.name].row)));

  function showModel() {
    fillModels(modelSelect, model.get("provider"), model.get("model"));
    const e = entryOf(model.get("provider"), model.get("model"));
    const k = (n) => (n >= 1000 ? `${Math.round(n / 1000)}k` : String(n));
    modelInfo.textContent = [e.description, e.context_window ? `${k(e.context_window)} context` : "",
      e.max_output_tokens ? `${k(e.max_output_tokens)} output` : "", e.reasoning ? "reasoning" : ""]
      .filter(Boolean).join(" · ");
    brandBadge.textContent = model.get("default_provider") || e.provider;
  }
  function showParams() {
    const off = model.get("disabled") || {};
    const e = entryOf(model.get("provider"), model.get("model"));
    for (const [name, r] of Object.entries(rows)) r.update(off[name], e);
  }

  // ---------- chat area ----------
  const textBox = (name, placeholder, cls, rowsN) => {
    const ta = h("textarea", { class: `nbp-textarea ${cls}`, placeholder, rows: rowsN, spellcheck: "false",
      oninput: () => { grow(ta); put(name, ta.value, 300); } });
    return ta;
  };
  const systemBox = textBox("system", "You are a helpful assistant.", "nbp-system", 2);
  const promptBox = textBox("prompt", "Enter a prompt…  (Ctrl+Enter runs it)", "nbp-prompt", 4);
  const turns = h("div", { class: "nbp-turns" });
  function showTurns() {
    const msgs = model.get("messages") || [];
    turns.replaceChildren(...msgs.map((m, i) => {
      const ta = h("textarea", { class: "nbp-textarea nbp-turn-text", rows: 1, value: m.content,
        placeholder: m.tool_calls ? "(calls only)" : { user: "A user message", assistant: "What the assistant said" }[m.role] || `A ${m.role} message`,
        oninput: () => {
          const next = model.get("messages").map((x, j) => (j === i ? { ...x, content: ta.value } : x));
          grow(ta);
          put("messages", next, 300);
        } });
      requestAnimationFrame(() => grow(ta));
      // A saved conversation's system and developer turns keep their role; its media show as chips.
      const fixed = (m.role !== "user" && m.role !== "assistant") || !!m.tool_calls;
      const media = [...(m.parts || []).filter((p) => p.type !== "text"),
        ...(m.tool_calls || []).map((c) => ({ type: "call", label: callLabel(c) }))];
      const body = media.length ? h("div", { class: "nbp-turn-body" }, ta,
        h("div", { class: "nbp-attached nbp-turn-media" }, ...media.map((p) => h("span", {
          class: "nbp-chip nbp-media-chip", title: p.url && !p.url.startsWith("data:") ? p.url : p.type },
        mediaLabel(p))))) : ta;
      return h("div", { class: `nbp-turn is-${m.role}` },
        h("button", { class: "nbp-role", type: "button", disabled: fixed,
          title: fixed ? `A ${m.tool_calls ? "tool-calling " : ""}${m.role} turn of the conversation` : "Switch between user and assistant",
          onclick: () => {
            put("messages", model.get("messages").map((x, j) => (j === i ? { ...x, role: x.role === "user" ? "assistant" : "user" } : x)));
            showTurns();
          } }, m.role),
        body,
        h("button", { class: "nbp-icon-btn", type: "button", title: "Remove this message",
          onclick: () => { put("messages", model.get("messages").filter((_, j) => j !== i)); showTurns(); } }, icon("x")));
    }));
  }
  // A call's {id, name, and its JSON}; the key is not spelled out here (the browser test's key
  // canary would meet the word in this file, which the saved notebook holds).
  function callLabel(c) {
    const { id: _id, name, ...rest } = c;
    return `${name}(${Object.values(rest)[0] ?? ""})`;
  }
  function mediaLabel(p) {
    if (p.type === "call") return `ƒ ${p.label.length > 80 ? `${p.label.slice(0, 79)}…` : p.label}`;
    const mark = { image: "🖼", audio: "🔊", file: "📄" }[p.type] || "·";
    const src = p.url || p.file_url || p.filename || p.file_id || "";
    if (src.startsWith("data:") || p.data || p.file_data) {
      const size = (src || p.data || p.file_data || "").length * 3 / 4 / 1024;
      return `${mark} ${p.type} · ${size.toFixed(1)} KB`;
    }
    return `${mark} ${src.split("/").pop() || p.type}`;
  }
  const addTurn = h("button", { class: "nbp-btn nbp-btn-ghost nbp-add-turn", type: "button",
    title: "Add an earlier turn of the conversation",
    onclick: () => {
      const msgs = model.get("messages") || [];
      const role = msgs.length && msgs[msgs.length - 1].role === "user" ? "assistant" : "user";
      put("messages", [...msgs, { role, content: "" }]);
      showTurns();
      turns.lastElementChild?.querySelector("textarea")?.focus();
    } }, icon("plus"), "Add message");
  // Images go with the prompt: picked with the button or dropped on the card. Their bytes go
  // to the kernel as a message buffer (never into widget state, which the notebook saves).
  const attachFiles = async (files) => {
    for (const file of [...files]) {
      if (!file.type.startsWith("image/")) { flash(`${file.name} is not an image`, "error"); continue; }
      model.send({ action: "attach", name: file.name }, undefined, [await file.arrayBuffer()]);
    }
  };
  const filePick = h("input", { type: "file", accept: "image/*", multiple: true, class: "nbp-file", hidden: true,
    onchange: async () => { await attachFiles(filePick.files); filePick.value = ""; } });
  const attachBtn = h("button", { class: "nbp-btn nbp-btn-ghost nbp-btn-small nbp-attach", type: "button",
    title: "Attach an image (or drop one on the prompt)", onclick: () => filePick.click() }, icon("plus"), "Image");
  const attached = h("div", { class: "nbp-attached" });
  // Prompt versions (pg.prompts): load one onto the screen, or save what is on screen as one.
  const versionSelect = h("select", { class: "nbp-select nbp-version-select", title: "Load a saved prompt version",
    onchange: () => {
      const [name, version] = JSON.parse(versionSelect.value || "[null, null]");
      if (name) send({ action: "load_version", name, version });
    } });
  const versionName = h("input", { class: "nbp-input nbp-version-name", placeholder: "Prompt name",
    onkeydown: (e) => { if (e.key === "Enter") saveVersion(); if (e.key === "Escape") versionBox.hidden = true; } });
  const versionBox = h("div", { class: "nbp-version-box", hidden: true }, versionName,
    h("button", { class: "nbp-btn nbp-btn-small nbp-version-do", type: "button", onclick: () => saveVersion() }, "Save version"));
  const versionSave = h("button", { class: "nbp-btn nbp-btn-ghost nbp-btn-small nbp-version-save", type: "button",
    title: "Save the prompt, system message, model and fields as a version of a named prompt",
    onclick: () => { versionBox.hidden = !versionBox.hidden; if (!versionBox.hidden) versionName.focus(); } },
  icon("save"), "Save as version");
  function saveVersion() {
    const name = versionName.value.trim();
    if (!name) { versionName.focus(); return; }
    send({ action: "save_version", name });
    versionBox.hidden = true;
  }
  function showVersions() {
    const versions = model.get("prompt_versions") || [];
    versionSelect.replaceChildren(h("option", { value: "" }, versions.length ? "Versions" : "No versions"),
      ...versions.map((v) => h("option", { value: JSON.stringify([v.name, v.version]) }, v.label)));
    versionSelect.value = "";
    versionSelect.disabled = !versions.length;
    if (versions.length && !versionName.value) versionName.value = versions[0].name;
  }
  function showAttachments() {
    attached.replaceChildren(...(model.get("attachments") || []).map((a, i) => h("span", { class: "nbp-chip nbp-image-chip",
      title: `${a.media_type}${a.width ? `, ${a.width}×${a.height}` : ""}` }, `🖼 ${a.name} · ${a.kb} KB`,
    h("button", { class: "nbp-chip-x", type: "button", title: "Remove this image",
      onclick: () => send({ action: "detach", index: i }) }, "×"))));
  }
  const promptCard = h("div", { class: "nbp-card nbp-prompt-card",
    ondragover: (e) => { if ([...(e.dataTransfer?.types || [])].includes("Files")) { e.preventDefault(); promptCard.classList.add("is-drop"); } },
    ondragleave: () => promptCard.classList.remove("is-drop"),
    ondrop: (e) => { e.preventDefault(); promptCard.classList.remove("is-drop"); attachFiles(e.dataTransfer.files); } },
  h("div", { class: "nbp-card-head" }, h("span", { class: "nbp-role-label" }, "User"), h("span", { class: "nbp-spacer" }),
    versionSelect, versionSave, attachBtn, filePick),
  versionBox, promptBox, attached);
  const estimate = h("div", { class: "nbp-estimate" });
  const runBtn = h("button", { class: "nbp-btn nbp-btn-primary nbp-run", type: "button",
    onclick: () => (model.get("status") === "running" ? send({ action: "stop" }) : send({ action: "run" })) });
  const status = h("span", { class: "nbp-status" });
  const answer = h("div", { class: "nbp-answer", "aria-live": "polite" });
  const metrics = h("div", { class: "nbp-metrics" });
  const errorBox = h("div", { class: "nbp-error", role: "alert" });
  const scoresRow = h("div", { class: "nbp-scores" });
  const keep = h("button", { class: "nbp-btn nbp-btn-ghost nbp-btn-small nbp-keep", type: "button",
    title: "Move this prompt and answer into the conversation and write the next prompt",
    onclick: () => {
      const msgs = [...(model.get("messages") || []), { role: "user", content: model.get("prompt") },
        { role: "assistant", content: model.get("answer") }];
      local.messages = local.prompt = true;
      try { model.set("messages", msgs); model.set("prompt", ""); } finally { local.messages = local.prompt = false; }
      save();
      showTurns();
      promptBox.value = "";
      grow(promptBox);
      promptBox.focus();
    } }, icon("turn"), "Add to conversation");
  const copyAnswer = h("button", { class: "nbp-btn nbp-btn-ghost nbp-btn-small nbp-copy-answer", type: "button",
    title: "Copy the answer",
    onclick: async () => flash(await copyText(model.get("answer")) ? "Answer copied" : "Copy failed") },
  icon("copy"), h("span", { class: "nbp-btn-label" }, "Copy"));
  const answerCard = h("div", { class: "nbp-card nbp-answer-card" },
    h("div", { class: "nbp-card-head" }, h("span", { class: "nbp-role-label" }, "Assistant"), status,
      h("span", { class: "nbp-spacer" }), copyAnswer, keep),
    answer, errorBox, metrics, scoresRow);
  const chat = h("div", { class: "nbp-chat" },
    h("div", { class: "nbp-card" }, h("div", { class: "nbp-card-head" }, h("span", { class: "nbp-role-label" }, "System")), systemBox),
    turns,
    promptCard,
    h("div", { class: "nbp-actions" }, addTurn, estimate, h("span", { class: "nbp-spacer" }), runBtn),
    answerCard);

  function showStatus() {
    const s = model.get("status");
    const running = s === "running";
    runBtn.replaceChildren(icon(running ? "stop" : "play"), running ? "Stop" : "Run",
      running ? "" : h("kbd", {}, "Ctrl ↵"));
    runBtn.classList.toggle("is-stop", running);
    showEstimate();
    status.className = `nbp-status is-${s}`;
    status.textContent = { running: "Streaming…", done: "Done", error: "Error", stopped: "Stopped" }[s] || "";
    answer.classList.toggle("is-running", running);
    keep.hidden = copyAnswer.hidden = running || !model.get("answer");
  }
  // With token probabilities, each token is tinted by its probability; alternatives on hover.
  function tokenSpans(tokens) {
    return tokens.map((t) => h("span", { class: "nbp-token", style: `--nbp-p:${t.p.toFixed(3)}`,
      title: [`${(t.p * 100).toFixed(1)}%`, ...(t.top || []).map(([w, q]) => `${JSON.stringify(w)} ${(q * 100).toFixed(1)}%`)].join("\n") }, t.t));
  }
  function toolSteps(calls) {
    return (calls || []).map((c) => h("details", { class: "nbp-tool-step" },
      h("summary", {}, `${c.error ? "⚠" : "↳"} ${c.name}(${c.args})`),
      h("pre", { class: "nbp-tool-result" }, c.error ? `error: ${c.error}` : (c.result ?? "(not run)"))));
  }
  function showAnswer() {
    const text = model.get("answer");
    const m = model.get("metrics") || {};
    const done = model.get("status") !== "running";
    answer.replaceChildren(...(done ? toolSteps(m.tool_calls) : []));
    if (done && m.tokens && m.tokens.length) answer.append(...tokenSpans(m.tokens));
    else answer.append(text);
    answer.classList.toggle("is-empty", !text && !(m.tool_calls || []).length);
    if (!text) answer.textContent = model.get("status") === "idle" ? "The answer appears here. Press Run." : "";
    answer.hidden = !text && model.get("status") === "error";
    keep.hidden = copyAnswer.hidden = model.get("status") === "running" || !text;
  }
  function metricChips(m) {
    if (!m || m.prompt_tokens === undefined) return [];
    const approx = m.estimated ? "≈ " : "";
    return [
      h("span", { class: "nbp-metric", title: "Prompt tokens" }, h("b", {}, `${approx}${m.prompt_tokens}`), " prompt"),
      h("span", { class: "nbp-metric", title: "Completion tokens" }, h("b", {}, `${approx}${m.completion_tokens}`), " completion"),
      m.reasoning_tokens ? h("span", { class: "nbp-metric", title: "Of the completion, tokens spent reasoning (billed as output)" }, h("b", {}, String(m.reasoning_tokens)), " reasoning") : null,
      h("span", { class: "nbp-metric", title: "Generation time" }, h("b", {}, m.time)),
      h("span", { class: "nbp-metric", title: "Estimated cost" }, h("b", {}, m.cost)),
      m.finish_reason === "length" ? h("span", { class: "nbp-metric is-warn", title: "finish_reason: length" }, "cut at max tokens") : null,
    ].filter(Boolean);
  }
  // pg.panel(scorers=[...]): each score as a badge, its reason on hover.
  function scoreBadges(scores) {
    return (scores || []).map((b) => {
      const state = b.score === null ? "is-error" : b.passed ? "is-pass" : "is-fail";
      const mark = b.score === null ? "⚠" : b.passed ? "✓" : "✗";
      const value = b.shown ? ` ${b.shown}` : "";
      return h("span", { class: `nbp-score ${state}`, title: b.reason || (b.passed ? "passed" : "failed"),
        "data-scorer": b.name }, `${mark} ${b.name}${value}`);
    });
  }
  function showMetrics() {
    const m = model.get("metrics") || {};
    metrics.replaceChildren(...metricChips(m));
    metrics.dataset.run = m.id || "";
    scoresRow.replaceChildren(...scoreBadges(m.scores));
  }
  function errorView(box, e) {
    box.replaceChildren();
    box.hidden = !e || !e.title;
    if (!box.hidden) box.append(h("strong", {}, e.title), e.detail ? h("span", {}, e.detail) : null);
  }
  function showEstimate() {
    const e = model.get("estimate") || {};
    estimate.title = e.error || (e.max_completion ? `Cost range: the answer can be up to ${e.max_completion} tokens` : "");
    const running = model.get("status") === "running";
    const bad = invalidIn("chat")[0] || "";
    const stop = bad || e.blocked || e.error || "";
    runBtn.disabled = Boolean(stop) && !running;
    runBtn.title = stop && !running ? stop : "";
    if (e.blocked) estimate.title = e.blocked;
    estimate.classList.toggle("is-error", Boolean(bad || e.error || e.blocked));
    if (bad) estimate.textContent = `⛔ ${bad}`;
    else if (e.error) estimate.textContent = `⚠ ${e.error}`;
    else if (e.blocked) estimate.textContent = `⛔ ${e.blocked}`;
    else if (e.prompt_tokens !== undefined) {
      estimate.replaceChildren(h("b", {}, String(e.prompt_tokens)), " prompt tokens · ", e.cost);
    } else estimate.textContent = "";
  }

  // ---------- compare ----------
  const cmpPrompt = h("textarea", { class: "nbp-textarea nbp-cmp-prompt", rows: 2, spellcheck: "false",
    placeholder: "The prompt every column answers…",
    oninput: () => { grow(cmpPrompt); put("prompt", cmpPrompt.value, 300); } });
  const cmpGrid = h("div", { class: "nbp-cmp-grid" });
  const cmpRun = h("button", { class: "nbp-btn nbp-btn-primary nbp-cmp-run", type: "button",
    onclick: () => send({ action: model.get("compare_status") === "running" ? "stop" : "compare" }) });
  const cmpAdd = h("button", { class: "nbp-btn nbp-btn-ghost nbp-cmp-add", type: "button",
    onclick: () => {
      const cols = model.get("compare_columns") || [];
      if (cols.length >= MAX_COLUMNS) return;
      const last = cols[cols.length - 1] || { model: model.get("model"), provider: model.get("provider"), params: model.get("params") };
      put("compare_columns", [...cols, { ...last, params: { ...last.params } }]);
      showColumns();
    } }, icon("plus"), "Add column");
  const cmpSend = h("button", { class: "nbp-btn nbp-btn-ghost", type: "button",
    title: "Insert a cell with the pg.sweep(...) call that runs these columns",
    onclick: () => send({ action: "notebook", what: "compare", view: viewId }) }, icon("cell"), "Send to notebook");
  const compare = h("div", { class: "nbp-compare" },
    h("div", { class: "nbp-card" }, h("div", { class: "nbp-card-head" }, h("span", { class: "nbp-role-label" }, "Prompt"),
      h("span", { class: "nbp-hint" }, "shared by every column, with the system message and conversation from Chat")), cmpPrompt),
    h("div", { class: "nbp-actions" }, cmpAdd, cmpSend, h("span", { class: "nbp-spacer" }), cmpRun),
    cmpGrid);
  let colViews = [];
  function showColumns() {
    const cols = model.get("compare_columns") || [];
    for (const k of Object.keys(invalid)) if (k.startsWith("col")) delete invalid[k];
    cmpGrid.style.setProperty("--nbp-cols", String(Math.max(1, cols.length)));
    colViews = cols.map((col, i) => {
      const setCol = (patch, delay = 250) => {
        const next = model.get("compare_columns").map((c, j) => (j === i ? { ...c, ...patch } : c));
        put("compare_columns", next, delay);
      };
      const select = h("select", { class: "nbp-select nbp-cmp-model", "aria-label": `Model of column ${i + 1}`,
        onchange: () => {
          const e = entries().find((x) => x.id === select.value);
          if (e) { setCol({ model: e.model, provider: e.provider }, 0); showColumns(); }
        } });
      fillModels(select, col.provider, col.model);
      const off = entryOf(col.provider, col.model).unsupported || {};
      const params = fields().filter((f) => f.compact && ROWS[f.kind] === numberRow).map((spec) => {
        const name = spec.name;
        const r = numberRow(spec, () => (model.get("compare_columns")[i]?.params || {})[name],
          (v) => setCol({ params: { ...model.get("compare_columns")[i].params, [name]: v } }), true, `col${i}`);
        r.update(off[name], entryOf(col.provider, col.model));
        return r.row;
      });
      const ans = h("div", { class: "nbp-answer nbp-cmp-answer" });
      const met = h("div", { class: "nbp-metrics" });
      const err = h("div", { class: "nbp-error", role: "alert", hidden: true });
      const sc = h("div", { class: "nbp-scores" });
      const card = h("div", { class: "nbp-card nbp-cmp-col" },
        h("div", { class: "nbp-cmp-head" }, h("span", { class: "nbp-cmp-index" }, String.fromCharCode(65 + i)), select,
          h("button", { class: "nbp-icon-btn", type: "button", title: "Remove this column", disabled: cols.length <= 2,
            onclick: () => { put("compare_columns", model.get("compare_columns").filter((_, j) => j !== i)); showColumns(); } }, icon("x"))),
        h("div", { class: "nbp-cmp-params" }, params), ans, err, met, sc);
      return { card, ans, met, err, sc };
    });
    cmpGrid.replaceChildren(...colViews.map((v) => v.card));
    cmpAdd.disabled = cols.length >= MAX_COLUMNS;
    showResults();
  }
  function showResults() {
    const results = model.get("compare_results") || [];
    colViews.forEach((v, i) => {
      const r = results[i] || {};
      v.ans.textContent = r.answer || (r.status === "running" ? "" : "Run all to compare.");
      v.ans.classList.toggle("is-empty", !r.answer);
      v.ans.classList.toggle("is-running", r.status === "running");
      v.met.replaceChildren(...metricChips(r.metrics));
      v.sc.replaceChildren(...scoreBadges((r.metrics || {}).scores));
      errorView(v.err, r.error);
    });
    const running = model.get("compare_status") === "running";
    const bad = colViews.map((_, i) => invalidIn(`col${i}`)[0]).find(Boolean) || "";
    cmpRun.disabled = Boolean(bad) && !running;
    cmpRun.title = bad && !running ? bad : "";
    cmpRun.replaceChildren(icon(running ? "stop" : "play"), running ? "Stop" : "Run all");
    cmpRun.classList.toggle("is-stop", running);
  }

  // ---------- history ----------
  let searchTimer = null;
  const hSearch = h("input", { class: "nbp-input nbp-h-search", type: "search", placeholder: "Search prompts and answers",
    oninput: () => { clearTimeout(searchTimer); searchTimer = setTimeout(askHistory, 300); } });
  const hModel = h("select", { class: "nbp-select nbp-h-model", onchange: () => askHistory() });
  const hPassed = h("select", { class: "nbp-select nbp-h-passed", "aria-label": "Scores", onchange: () => askHistory() },
    h("option", { value: "" }, "All results"), h("option", { value: "passed" }, "Passed"),
    h("option", { value: "failed" }, "Failed"));
  const askHistory = () => send({ action: "history", search: hSearch.value, model: hModel.value, passed: hPassed.value });
  const hBody = h("tbody", {});
  const hHead = h("tr", {});
  const historyView = h("div", { class: "nbp-history" },
    h("div", { class: "nbp-actions" }, hSearch, hModel, hPassed,
      h("button", { class: "nbp-btn nbp-btn-ghost", type: "button", onclick: askHistory, title: "Reload the log" }, icon("refresh"), "Refresh"),
      h("span", { class: "nbp-spacer" }), h("span", { class: "nbp-hint" }, "Click a run to load it into Chat")),
    h("div", { class: "nbp-table-wrap" }, h("table", { class: "nbp-table" },
      h("thead", {}, hHead), hBody)));
  function showHistory() {
    const rowsH = model.get("history") || [];
    const scored = (model.get("scorer_names") || []).length > 0;
    hPassed.hidden = !scored;
    hHead.replaceChildren(...["When", "Model", "Prompt", "Answer", scored ? "Scores" : null, "Tokens", "Cost"]
      .filter(Boolean).map((c) => h("th", {}, c)));
    const models = [...new Set(entries().map((e) => e.model))];
    const chosen = hModel.value;
    hModel.replaceChildren(h("option", { value: "" }, "All models"), ...models.map((m) => h("option", { value: m }, m)));
    hModel.value = chosen;
    if (!rowsH.length) {
      const filters = [hSearch.value.trim() && `“${hSearch.value.trim()}”`, hModel.value && `model ${hModel.value}`,
        scored && hPassed.value && `${hPassed.value} scores`].filter(Boolean);
      hBody.replaceChildren(h("tr", {}, h("td", { class: "nbp-empty", colspan: scored ? 7 : 6 }, filters.length
        ? `No run matches ${filters.join(" and ")}. Clear the search to see every run.`
        : "No runs yet. Runs from the panel and from pg.run() appear here.")));
      return;
    }
    hBody.replaceChildren(...rowsH.map((r) => h("tr", { class: `nbp-h-row is-${r.status}`, tabindex: 0, "data-id": r.id,
      title: "Load this run into Chat",
      onclick: () => send({ action: "load", id: r.id }),
      onkeydown: (e) => { if (e.key === "Enter") send({ action: "load", id: r.id }); } },
    h("td", { class: "nbp-nowrap nbp-muted" }, r.when),
    h("td", { class: "nbp-nowrap" }, h("span", { class: "nbp-pill" }, r.model)),
    h("td", { class: "nbp-clip" }, r.prompt),
    h("td", { class: "nbp-clip nbp-muted" }, r.status === "error" ? h("span", { class: "nbp-bad" }, r.response || "error")
      : [r.status === "stopped" ? h("span", { class: "nbp-pill is-stopped", title: "Stopped before the answer ended" }, "stopped") : null, r.response]),
    scored ? h("td", {}, h("div", { class: "nbp-h-scores" }, scoreBadges(r.scores))) : null,
    h("td", { class: "nbp-num" }, String(r.tokens)),
    h("td", { class: "nbp-num nbp-nowrap" }, r.cost))));
  }

  // ---------- code ----------
  const langBtns = LANGS.map(([id, label]) => h("button", { class: "nbp-seg", type: "button", "data-lang": id,
    onclick: () => { lang = id; showCode(); } }, label));
  const codePre = h("pre", { class: "nbp-code" });
  const sendBtn = h("button", { class: "nbp-btn nbp-btn-primary nbp-send", type: "button",
    onclick: () => send({ action: "notebook", what: lang, view: viewId }) },
  icon("cell"), "Send to notebook");
  const codeNote = h("div", { class: "nbp-hint" });
  const codeView = h("div", { class: "nbp-codeview" },
    h("div", { class: "nbp-actions" }, h("div", { class: "nbp-segmented" }, langBtns), h("span", { class: "nbp-spacer" }),
      h("button", { class: "nbp-btn nbp-btn-ghost nbp-copy-code", type: "button",
        onclick: async () => flash(await copyText(codePre.textContent) ? "Code copied" : "Copy failed") }, icon("copy"), "Copy"),
      sendBtn),
    codePre, codeNote);
  function showCode() {
    const code = model.get("code") || {};
    langBtns.forEach((b) => b.classList.toggle("is-active", b.dataset.lang === lang));
    codePre.classList.toggle("is-error", Boolean(code.error));
    codePre.textContent = code.error ? code.error : (code[lang] ?? "Generating…");
    codeNote.textContent = lang === "notebook" || lang === "compare"
      ? "Runs through nbplayground, so it is logged like the runs from this panel."
      : "The request body exactly as the panel sends it. The key is read from OPENAI_API_KEY; it never appears here.";
    sendBtn.title = "Insert a new cell below with the code shown here";
  }

  // ---------- layout ----------
  const sections = {
    chat: h("section", { class: "nbp-view nbp-view-chat" }, settings, chat),
    compare: h("section", { class: "nbp-view nbp-view-compare" }, compare),
    history: h("section", { class: "nbp-view nbp-view-history" }, historyView),
    code: h("section", { class: "nbp-view nbp-view-code" }, codeView),
  };
  const root = h("div", { class: "nbp-root" }, header, h("div", { class: "nbp-body" }, Object.values(sections)));
  // Keys typed here belong to the panel: without this, Shift+Enter in the prompt would re-run
  // the notebook cell (and replace the panel). Ctrl/Cmd+S still saves the notebook.
  root.addEventListener("keydown", (e) => {
    const accel = e.ctrlKey || e.metaKey;
    if (accel && e.key === "Enter") {
      e.preventDefault();
      const v = model.get("view");
      if (v === "compare" && !cmpRun.disabled) send({ action: model.get("compare_status") === "running" ? "stop" : "compare" });
      else if (v === "chat" && !runBtn.disabled) send({ action: model.get("status") === "running" ? "stop" : "run" });
    }
    if (!(accel && e.key.toLowerCase() === "s")) e.stopPropagation();
  });
  el.classList.add("nbp-host");
  el.append(root);

  let toastTimer = null;
  function flash(text, level = "info") {
    toast.textContent = text;
    toast.className = `nbp-toast is-visible is-${level}`;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { toast.className = "nbp-toast"; }, level === "error" ? 6000 : 2500);
  }
  function showView(v) {
    for (const [id, node] of Object.entries(sections)) node.hidden = id !== v;
    tabs.forEach((t) => {
      t.classList.toggle("is-active", t.dataset.view === v);
      t.setAttribute("aria-selected", String(t.dataset.view === v));
    });
    if (v === "compare") { cmpPrompt.value = model.get("prompt"); requestAnimationFrame(() => grow(cmpPrompt)); }
    if (v === "chat") { promptBox.value = model.get("prompt"); requestAnimationFrame(() => { grow(promptBox); grow(systemBox); }); }
  }
  function showPresets() {
    const names = model.get("presets") || [];
    const current = presetSelect.value;
    presetSelect.replaceChildren(h("option", { value: "" }, names.length ? "Presets" : "No presets"),
      ...names.map((n) => h("option", { value: n }, n)));
    presetSelect.value = names.includes(current) ? current : "";
    presetSelect.disabled = !names.length;
    presetDelete.hidden = !presetSelect.value;
  }
  // A kernel echo of an earlier keystroke's save can arrive while the person types on (a busy
  // kernel): the box they are typing in keeps its text, and that text is what gets saved.
  const setText = (box, value, name) => {
    if (box.value === value) return;
    if (name && document.activeElement === box) { put(name, box.value, 300); return; }
    box.value = value;
    grow(box);
  };

  on("models", () => { showModel(); showParams(); showColumns(); showHistory(); });
  on("model", () => { showModel(); showParams(); });
  on("provider", showModel);
  on("params", showParams);
  on("disabled", showParams);
  on("system", (v) => setText(systemBox, v, "system"));
  on("prompt", (v) => { setText(promptBox, v, "prompt"); setText(cmpPrompt, v, "prompt"); });
  on("messages", showTurns);
  on("status", () => { showStatus(); showAnswer(); });
  on("answer", showAnswer);
  on("metrics", showAnswer);
  on("metrics", showMetrics);
  on("error", (e) => errorView(errorBox, e));
  on("estimate", showEstimate);
  on("compare_columns", showColumns);
  on("compare_results", showResults);
  on("compare_status", showResults);
  on("history", showHistory);
  on("code", showCode);
  on("presets", showPresets);
  on("prompt_versions", showVersions);
  on("attachments", showAttachments);
  on("view", showView);
  on("notice", (n) => { if (n && n.text) flash(n.text, n.level); });
  const onMsg = async (msg) => {
    if (!msg || msg.type !== "insert" || msg.view !== viewId) return;
    if (insertCell(model, msg.code, msg.model_id, el)) { flash("Inserted a cell below"); return; }
    const copied = await copyText(msg.code);
    lang = LANGS.some(([id]) => id === msg.what) ? msg.what : "notebook";
    put("view", "code");
    showView("code");
    showCode();
    flash(copied ? "No notebook here: the code is copied; paste it into a cell"
      : "No notebook here: copy the code below", "info");
  };
  model.on("msg:custom", onMsg);
  cleanup.push(() => model.off("msg:custom", onMsg));

  systemBox.value = model.get("system");
  promptBox.value = model.get("prompt");
  showModel(); showParams(); showTurns(); showStatus(); showAnswer(); showMetrics();
  errorView(errorBox, model.get("error")); showEstimate(); showColumns(); showHistory();
  showCode(); showPresets(); showVersions(); showAttachments(); showView(model.get("view") || "chat");
  requestAnimationFrame(() => { grow(systemBox); grow(promptBox); });

  return () => {
    clearTimeout(saveTimer);
    clearTimeout(searchTimer);
    clearTimeout(toastTimer);
    for (const fn of cleanup) fn();
  };
}

export default { render };
