// The projects grid of the Projects page (an anywidget view).
//
// Every text from the kernel (titles, tags, prompts, outputs) is set with
// textContent, never as HTML, so markup in a prompt is shown, not run.
// Keys on a focused card: arrows move between cards, Space or Enter opens
// or closes it, Escape closes it.

const STATUS_ICONS = { success: "\u2714", failed: "\u2716", aborted: "\u25A0", pending: "\u25CB" };

function make(tag, className, text) {
  const node = document.createElement(tag);
  if (className) { node.className = className; }
  if (text !== undefined && text !== null) { node.textContent = String(text); }
  return node;
}

// Append `text` with a line-break opportunity after each "_", "/", "." and
// "-", so that an identifier such as "trace_code_line" wraps at a separator
// before the browser has to break it inside a word.
function appendBreakable(node, text) {
  const parts = String(text ?? "").split(/(?<=[_/.\-])/);
  parts.forEach((part, position) => {
    if (position > 0) { node.append(document.createElement("wbr")); }
    node.append(document.createTextNode(part));
  });
}

function copyWithSelection(text) {
  const area = document.createElement("textarea");
  area.value = text;
  area.setAttribute("readonly", "");
  area.style.position = "fixed";
  area.style.opacity = "0";
  document.body.appendChild(area);
  area.select();
  let copied = false;
  try { copied = document.execCommand("copy"); } catch (error) { copied = false; }
  area.remove();
  return copied;
}

async function copyText(text) {
  if (navigator.clipboard && window.isSecureContext) {
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch (error) {
      // Fall back to a selection copy below.
    }
  }
  return copyWithSelection(text);
}

function columnCount(grid) {
  const template = getComputedStyle(grid).gridTemplateColumns;
  const count = template ? template.split(" ").filter((part) => part.length > 0).length : 1;
  return Math.max(1, count);
}

function render({ model, el }) {
  const root = make("div", "ck-gallery");
  const grid = make("div", "ck-gallery-grid");
  grid.setAttribute("role", "list");
  grid.setAttribute("aria-label", "Projects");
  const empty = make("div", "ck-gallery-empty");
  root.append(grid, empty);
  el.append(root);

  let active = 0;

  function cards() { return model.get("cards") || []; }

  function cardNodes() { return Array.from(grid.querySelectorAll(":scope > .ck-gcard")); }

  function focusCard(index) {
    const nodes = cardNodes();
    if (nodes.length === 0) { return; }
    active = Math.max(0, Math.min(index, nodes.length - 1));
    nodes.forEach((node, position) => { node.tabIndex = position === active ? 0 : -1; });
    nodes[active].focus();
    nodes[active].scrollIntoView({ block: "nearest" });
  }

  function setExpanded(id) {
    model.set("expanded", id);
    model.save_changes();
  }

  function toggle(index) {
    const card = cards()[index];
    if (!card) { return; }
    active = index;
    setExpanded(model.get("expanded") === card.id ? "" : card.id);
  }

  function detailSection(card) {
    const detail = model.get("detail") || {};
    const section = make("section", "ck-gdetail");
    if (detail.id !== card.id) {
      section.append(make("div", "ck-gdetail-loading", "Loading the full prompt and output\u2026"));
      return section;
    }
    const parts = [["Prompt", detail.prompt], ["Output", detail.output]];
    if (detail.error_message) { parts.push(["Error", detail.error_message]); }
    for (const [label, text] of parts) {
      const block = make("div", "ck-gdetail-block");
      block.dataset.part = label.toLowerCase();
      const head = make("div", "ck-gdetail-head");
      head.append(make("h4", "", label));
      const body = make("pre", "ck-gdetail-text", text || "(none)");
      body.setAttribute("dir", "auto");
      if (!text) { body.classList.add("ck-gdetail-none"); }
      if (text) {
        const button = make("button", "jupyter-button ck-gcopy", `Copy ${label.toLowerCase()}`);
        button.type = "button";
        const status = make("span", "ck-gcopy-status");
        status.setAttribute("role", "status");
        button.addEventListener("click", async (event) => {
          event.stopPropagation();
          const copied = await copyText(text);
          status.textContent = copied ? "Copied" : "Copy failed: select the text and press Ctrl+C";
          status.classList.toggle("ck-gcopy-failed", !copied);
          model.send({ event: copied ? "copied" : "copy_failed", id: card.id, part: label.toLowerCase() });
        });
        head.append(button, status);
      }
      block.append(head, body);
      section.append(block);
    }
    return section;
  }

  function cardNode(card, index) {
    const expanded = model.get("expanded") === card.id;
    const node = make("article", "ck-gcard");
    node.setAttribute("role", "listitem");
    node.dataset.id = card.id;
    node.dataset.status = card.status;
    node.tabIndex = index === active ? 0 : -1;
    node.setAttribute("aria-expanded", expanded ? "true" : "false");
    if (expanded) { node.classList.add("ck-gcard-expanded"); }
    if (card.archived) { node.classList.add("ck-gcard-archived"); }

    const head = make("div", "ck-gcard-head");
    const status = make("span", `ck-gstatus ck-gstatus-${card.status}`);
    status.append(make("span", "ck-gstatus-icon", STATUS_ICONS[card.status] || "?"));
    status.append(make("span", "", card.status_label));
    status.setAttribute("title", `Status: ${card.status_label}`);
    head.append(status);
    if (card.failover_from) {
      const mark = make("span", "ck-gfailover", `\u21AA failover from ${card.failover_from}`);
      mark.setAttribute("title", `${card.provider} answered after ${card.failover_from} failed`);
      head.append(mark);
    }
    if (card.archived) { head.append(make("span", "ck-garchived", "Archived")); }
    head.append(make("span", "ck-gdate", card.date));

    const title = make("h3", "ck-gtitle");
    appendBreakable(title, card.title);
    title.setAttribute("dir", "auto");
    if (card.untitled) { title.classList.add("ck-guntitled"); }

    const model_line = make("div", "ck-gmodel", `${card.provider} \u00B7 ${card.model}`);
    model_line.setAttribute("title", `${card.provider} / ${card.model}`);

    const stats = make("div", "ck-gstats");
    for (const [label, value] of [["Tokens", card.tokens], ["TTFT", card.ttft]]) {
      const stat = make("span", "ck-gstat");
      stat.append(make("span", "ck-gstat-label", label), make("span", "ck-gstat-value", value));
      stats.append(stat);
    }

    const tags = make("div", "ck-gtags");
    for (const tag of card.tags || []) {
      const chip = make("span", "ck-gtag", tag);
      chip.setAttribute("dir", "auto");
      chip.setAttribute("title", tag);
      tags.append(chip);
    }

    node.append(head, title, model_line, stats, tags);
    if (!expanded && card.excerpt) {
      const excerpt = make("p", "ck-gexcerpt", card.excerpt);
      excerpt.setAttribute("dir", "auto");
      node.append(excerpt);
    }

    const actions = make("div", "ck-gactions");
    const open = make("button", "jupyter-button ck-gopen", expanded ? "Close" : "Open");
    open.type = "button";
    open.tabIndex = -1;
    open.addEventListener("click", (event) => { event.stopPropagation(); toggle(index); });
    const edit = make("button", "jupyter-button ck-gedit", "Edit");
    edit.type = "button";
    edit.tabIndex = -1;
    edit.addEventListener("click", (event) => {
      event.stopPropagation();
      model.send({ event: "edit", id: card.id });
    });
    actions.append(open, edit);
    node.append(actions);

    if (expanded) { node.append(detailSection(card)); }

    node.addEventListener("click", (event) => {
      if (event.target.closest("button, pre, a, input, textarea")) { return; }
      focusCard(index);
      toggle(index);
    });
    node.addEventListener("focus", () => { active = index; });
    return node;
  }

  function draw() {
    const hadFocus = grid.contains(document.activeElement);
    const list = cards();
    active = Math.max(0, Math.min(active, list.length - 1));
    grid.replaceChildren(...list.map((card, index) => cardNode(card, index)));
    empty.textContent = list.length === 0 ? model.get("empty_message") : "";
    empty.hidden = list.length !== 0;
    if (hadFocus) { focusCard(active); }
  }

  grid.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }
    const onCard = event.target.classList && event.target.classList.contains("ck-gcard");
    const nodes = cardNodes();
    const index = nodes.indexOf(event.target.closest(".ck-gcard"));
    if (index < 0) { return; }
    if (event.key === "Escape") {
      if (model.get("expanded")) {
        event.preventDefault();
        event.stopPropagation();
        active = index;
        setExpanded("");
        focusCard(index);
      }
      return;
    }
    if (!onCard) { return; }
    const columns = columnCount(grid);
    const moves = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: columns, ArrowUp: -columns };
    if (event.key in moves) {
      event.preventDefault();
      const target = index + moves[event.key];
      if (target >= 0 && target < nodes.length) { focusCard(target); }
    } else if (event.key === "Home") {
      event.preventDefault();
      focusCard(0);
    } else if (event.key === "End") {
      event.preventDefault();
      focusCard(nodes.length - 1);
    } else if (event.key === " " || event.key === "Enter") {
      event.preventDefault();
      toggle(index);
    }
  });

  // The editor is an ipywidget above the grid: bring it into view once the
  // kernel has shown it (its layout change arrives just before this message).
  function onMessage(message) {
    if (!message || message.event !== "show_editor") { return; }
    setTimeout(() => {
      const editor = document.querySelector(".ck-project-editor");
      if (!editor) { return; }
      editor.scrollIntoView({ block: "nearest" });
      const field = editor.querySelector("input");
      if (field) { field.focus(); }
    }, 50);
  }

  model.on("change:cards", draw);
  model.on("change:expanded", draw);
  model.on("change:detail", draw);
  model.on("msg:custom", onMessage);
  draw();

  // Links from the command palette carry ?q=<search> or ?id=<project id>.
  const params = new URLSearchParams(window.location.search);
  const requested = {};
  for (const key of ["q", "id", "status", "tag"]) {
    if (params.get(key)) { requested[key] = params.get(key); }
  }
  if (Object.keys(requested).length > 0) {
    model.set("url_params", requested);
    model.save_changes();
  }

  return () => {
    model.off("change:cards", draw);
    model.off("change:expanded", draw);
    model.off("change:detail", draw);
    model.off("msg:custom", onMessage);
  };
}

export default { render };
