// The command palette (Ctrl/Cmd+K) and the shortcuts list (Ctrl/Cmd+/).
//
// The key handler listens on window in the capture phase, because ipywidgets
// text boxes stop keydown events from bubbling. The dialogs are appended to
// document.body so that no transformed ancestor can move them. Every text is
// set with textContent.

function make(tag, className, text) {
  const node = document.createElement(tag);
  if (className) { node.className = className; }
  if (text !== undefined && text !== null) { node.textContent = String(text); }
  return node;
}

const IS_MAC = /Mac|iPhone|iPad/.test(navigator.platform || navigator.userAgent || "");

function keyLabel(keys) {
  return keys.replace(/Mod/g, IS_MAC ? "\u2318" : "Ctrl");
}

function render({ model, el }) {
  const marker = make("span", "ck-palette-anchor");
  marker.hidden = true;
  el.append(marker);

  // The palette dialog.
  const backdrop = make("div", "ck-palette-backdrop");
  backdrop.hidden = true;
  const dialog = make("div", "ck-palette");
  dialog.setAttribute("role", "dialog");
  dialog.setAttribute("aria-modal", "true");
  dialog.setAttribute("aria-label", "Command palette");
  const input = make("input", "ck-palette-input");
  input.type = "text";
  input.placeholder = "Go to a section, create, or search projects and templates";
  input.setAttribute("role", "combobox");
  input.setAttribute("aria-expanded", "true");
  input.setAttribute("aria-controls", "ck-palette-list");
  input.setAttribute("aria-autocomplete", "list");
  const list = make("ul", "ck-palette-list");
  list.id = "ck-palette-list";
  list.setAttribute("role", "listbox");
  const footer = make("div", "ck-palette-footer", "\u2191\u2193 move \u00B7 Enter open \u00B7 Esc close \u00B7 " + keyLabel("Mod+/") + " shortcuts");
  dialog.append(input, list, footer);
  backdrop.append(dialog);

  // The shortcuts dialog.
  const helpBackdrop = make("div", "ck-palette-backdrop ck-shortcuts-backdrop");
  helpBackdrop.hidden = true;
  const help = make("div", "ck-shortcuts");
  help.setAttribute("role", "dialog");
  help.setAttribute("aria-modal", "true");
  help.setAttribute("aria-label", "Keyboard shortcuts");
  help.tabIndex = -1;
  helpBackdrop.append(help);

  document.body.append(backdrop, helpBackdrop);

  let items = [];
  let selected = 0;
  let lastFocus = null;
  let timer = null;

  function matches(item, words) {
    const text = `${item.label} ${item.detail || ""} ${item.group}`.toLowerCase();
    return words.every((word) => text.includes(word));
  }

  function buildItems() {
    const query = input.value.trim();
    const words = query.toLowerCase().split(/\s+/).filter((word) => word.length > 0);
    const commands = (model.get("commands") || []).filter((item) => matches(item, words));
    const results = model.get("results") || {};
    const found = results.query === query ? results.items || [] : [];
    items = [...commands, ...found];
    if (query && results.query !== query) {
      items.push({ group: "Search", label: "Searching projects and templates\u2026", pending: true });
    } else if (results.query === query && results.error) {
      items.push({ group: "Search", label: results.error, error: true });
    }
    selected = Math.max(0, Math.min(selected, items.length - 1));
    drawList();
  }

  function drawList() {
    const rows = [];
    let group = null;
    items.forEach((item, index) => {
      if (item.group !== group) {
        group = item.group;
        const heading = make("li", "ck-palette-group", group);
        heading.setAttribute("role", "presentation");
        rows.push(heading);
      }
      const row = make("li", "ck-palette-item");
      row.setAttribute("role", "option");
      row.id = `ck-palette-option-${index}`;
      row.dataset.kind = item.kind || "";
      row.dataset.index = String(index);
      row.setAttribute("aria-selected", index === selected ? "true" : "false");
      if (item.pending || item.error) { row.classList.add("ck-palette-note"); }
      if (item.error) { row.classList.add("ck-palette-error"); }
      const label = make("span", "ck-palette-label", item.label);
      label.setAttribute("dir", "auto");
      row.append(label);
      if (item.detail) {
        const detail = make("span", "ck-palette-detail", item.detail);
        detail.setAttribute("dir", "auto");
        row.append(detail);
      }
      if (item.keys) { row.append(make("kbd", "ck-palette-keys", keyLabel(item.keys))); }
      row.addEventListener("mousedown", (event) => { event.preventDefault(); });
      row.addEventListener("click", () => { selected = index; activate(); });
      rows.push(row);
    });
    if (items.length === 0) {
      rows.push(make("li", "ck-palette-note", "Nothing matches. Try another word."));
    }
    list.replaceChildren(...rows);
    if (items.length > 0) {
      input.setAttribute("aria-activedescendant", `ck-palette-option-${selected}`);
      const current = list.querySelector(`#ck-palette-option-${selected}`);
      if (current) { current.scrollIntoView({ block: "nearest" }); }
    }
  }

  function activate() {
    const item = items[selected];
    if (!item || item.pending || item.error) { return; }
    if (item.action === "shortcuts") {
      closePalette(false);
      openHelp();
      return;
    }
    if (item.href) {
      model.send({ event: "navigate", href: item.href });
      closePalette(false);
      window.location.assign(item.href);
    }
  }

  function openPalette() {
    closeHelp(false);
    if (!backdrop.hidden) { input.select(); return; }
    lastFocus = document.activeElement;
    backdrop.hidden = false;
    input.value = "";
    selected = 0;
    buildItems();
    input.focus();
    model.send({ event: "opened" });
  }

  function closePalette(restore = true) {
    if (backdrop.hidden) { return; }
    backdrop.hidden = true;
    if (restore && lastFocus && lastFocus.focus) { lastFocus.focus(); }
  }

  function openHelp() {
    closePalette(false);
    if (helpBackdrop.hidden) { lastFocus = lastFocus || document.activeElement; }
    const rows = [make("h2", "", "Keyboard shortcuts")];
    const table = make("table", "ck-shortcuts-table");
    for (const [keys, description] of model.get("shortcuts") || []) {
      const row = make("tr");
      const keyCell = make("td");
      keyCell.append(make("kbd", "", keyLabel(keys)));
      row.append(keyCell, make("td", "", description));
      table.append(row);
    }
    rows.push(table, make("p", "ck-palette-footer", "Esc closes this list."));
    help.replaceChildren(...rows);
    helpBackdrop.hidden = false;
    help.focus();
  }

  function closeHelp(restore = true) {
    if (helpBackdrop.hidden) { return; }
    helpBackdrop.hidden = true;
    if (restore && lastFocus && lastFocus.focus) { lastFocus.focus(); }
    lastFocus = null;
  }

  function onKey(event) {
    // In JupyterLab, code cells keep their own Ctrl/Cmd+/ (toggle comment) and Ctrl/Cmd+K.
    if (event.target && event.target.closest && event.target.closest(".jp-CodeMirrorEditor, .cm-editor")) {
      return;
    }
    const mod = event.ctrlKey || event.metaKey;
    if (mod && !event.altKey && (event.key === "k" || event.key === "K")) {
      event.preventDefault();
      event.stopPropagation();
      if (backdrop.hidden) { openPalette(); } else { closePalette(); }
      return;
    }
    if (mod && !event.altKey && (event.key === "/" || event.code === "Slash")) {
      event.preventDefault();
      event.stopPropagation();
      if (helpBackdrop.hidden) { openHelp(); } else { closeHelp(); }
      return;
    }
    if (!helpBackdrop.hidden && event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      closeHelp();
      return;
    }
    if (backdrop.hidden) { return; }
    if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      closePalette();
    } else if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      event.stopPropagation();
      if (items.length > 0) {
        const step = event.key === "ArrowDown" ? 1 : -1;
        selected = (selected + step + items.length) % items.length;
        drawList();
      }
    } else if (event.key === "Enter") {
      event.preventDefault();
      event.stopPropagation();
      activate();
    }
  }

  input.addEventListener("input", () => {
    selected = 0;
    buildItems();
    if (timer) { clearTimeout(timer); }
    timer = setTimeout(() => {
      model.set("query", input.value.trim());
      model.save_changes();
    }, 150);
  });
  backdrop.addEventListener("mousedown", (event) => { if (event.target === backdrop) { closePalette(); } });
  helpBackdrop.addEventListener("mousedown", (event) => { if (event.target === helpBackdrop) { closeHelp(); } });
  const onResults = () => { if (!backdrop.hidden) { buildItems(); } };
  model.on("change:results", onResults);

  // One handler per page: a second palette view replaces the first one's.
  if (window.__ckPaletteCleanup) { window.__ckPaletteCleanup(); }
  window.addEventListener("keydown", onKey, true);
  const cleanup = () => {
    window.removeEventListener("keydown", onKey, true);
    model.off("change:results", onResults);
    backdrop.remove();
    helpBackdrop.remove();
    if (window.__ckPaletteCleanup === cleanup) { window.__ckPaletteCleanup = null; }
  };
  window.__ckPaletteCleanup = cleanup;
  document.body.classList.add("ck-has-palette");
  return cleanup;
}

export default { render };
