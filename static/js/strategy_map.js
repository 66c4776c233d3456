// The strategy-map editor: draws the map (bands, cards, arrows) as SVG with the geometry of
// bsc/map_svg.py, so the page and the SVG export look the same; admins and executives edit it with the
// mouse or the keyboard, and every change is saved at once through /api/v1/ against the map's version.
// Why hand-rolled SVG and not a diagram library: docs/strategy-map.md.
(function () {
  "use strict";

  // Geometry shared with bsc/map_svg.py (keep the two in step).
  const LABEL_WIDTH = 150;
  const MAP_WIDTH = 1350;
  const BAND_HEIGHT = 160;
  const CARD_WIDTH = 200;
  const CARD_HEIGHT = 70;
  const X_MAX = MAP_WIDTH - LABEL_WIDTH - CARD_WIDTH;
  const Y_MAX = BAND_HEIGHT - CARD_HEIGHT;
  const STATUS_COLOURS = { green: "#1e8a4c", amber: "#c98a00", red: "#c0392b", grey: "#9aa1ad" };
  // The words and shapes of bsc/statuses.py: a card shows its status's shape, never colour alone.
  const STATUS_NAMES = { green: "On track", amber: "At risk", red: "Off track", grey: "No data" };
  const STATUS_SHAPES = { green: "●", amber: "▲", red: "■", grey: "○" };
  const STATUS_INK = { green: "#197a42", amber: "#865c00", red: "#c0392b", grey: "#5b6475" };
  const BAND_FILLS = ["#eef3fb", "#f4f7ee", "#fbf4ea", "#f3eef8"];
  const SVG_NS = "http://www.w3.org/2000/svg";

  const KEY_STEP = 10; // map units per arrow-key press
  const GRID = 10; // positions snap to it (map units); the keyboard moves one step of it
  const GAP = 10; // room the editor keeps between two cards of a band (the server refuses only a real overlap)
  const NEW_CARD_ROWS = [50, 0, Y_MAX]; // where "+ Add objective" looks first: the band's middle row
  const MIN_FIT = 0.6; // below this the whole-width map is too small to read: it scrolls in its frame instead
  const READABLE_SCALE = 0.8; // the scale used then (a phone)
  const ZOOM_STEPS = [0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1, 1.25, 1.5];
  const UNDO_LIMIT = 50;
  const MOVE_SAVE_DELAY = 400; // ms of quiet after the last arrow key before the position is saved
  const DRAG_THRESHOLD = 4; // px before a press on a card becomes a drag
  const INITIATIVE_STATUSES = [
    ["planned", "Planned"],
    ["on_track", "On track"],
    ["at_risk", "At risk"],
    ["off_track", "Off track"],
    ["done", "Done"],
    ["cancelled", "Cancelled"],
  ];
  const FIELD_LABELS = {
    name: "Name",
    description: "Description",
    owner: "Owner",
    weight: "Weight",
    x: "Position",
    y: "Position",
    perspective: "Perspective",
    aligned_to: "Aligned to",
    start: "Start",
    end: "End",
    status: "Status",
    progress: "Progress",
    budget: "Budget",
    objective: "Objective",
    version: "Version",
  };

  const root = document.getElementById("strategy-map");
  const dataNode = document.getElementById("map-data");
  if (!root || !dataNode) return;
  const panel = document.getElementById("map-panel");
  const layout = root.closest(".map-layout");
  const statusLine = document.getElementById("map-status");

  let initial = JSON.parse(dataNode.textContent);
  if (typeof initial === "string") initial = JSON.parse(initial);

  const state = {
    map: initial,
    canEdit: root.dataset.canEdit === "true",
    api: root.dataset.api,
    scorecard: root.dataset.scorecard,
    mapBase: root.dataset.mapBase || "",
    parentObjectives: initial.parent_objectives || [],
    period: initial.period || null, // {kind, period, label}: the period the cards are coloured for
    hasParent: Boolean(initial.has_parent),
    selectedLink: null, // id of the arrow picked with the mouse
    panelFor: null, // id of the objective shown in the side panel
    members: null, // [{id, name}] once fetched (editors only)
    pendingMoves: new Map(), // objective id -> timer of an arrow-key move waiting to be saved
    moveOrigins: new Map(), // objective id -> where an arrow-key move started (for undo)
    zoom: null, // null: fit the map to its frame; else a chosen scale
    scale: 1, // map units -> CSS pixels
  };
  let svg = null;
  let stage = null;
  let overlay = null;

  // The evidence overlay (issue 18): arrows styled by how strongly their cause and effect moved together.
  const evidenceToggle = document.getElementById("map-evidence-toggle");
  const evidenceLegend = document.getElementById("map-evidence-legend");
  if (evidenceToggle && evidenceLegend) {
    evidenceToggle.addEventListener("change", () => {
      root.classList.toggle("evidence-on", evidenceToggle.checked);
      evidenceLegend.hidden = !evidenceToggle.checked;
    });
  }

  // --- Small helpers -----------------------------------------------------------------------------------

  function svgEl(name, attrs, parent) {
    const node = document.createElementNS(SVG_NS, name);
    for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
    if (parent) parent.appendChild(node);
    return node;
  }

  function h(name, attrs, ...children) {
    const node = document.createElement(name);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "text") node.textContent = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      // Through CSSOM: the Content-Security-Policy refuses a style="" attribute, even one set by a script.
      else if (key === "style") node.style.cssText = value;
      else if (value === true) node.setAttribute(key, "");
      else node.setAttribute(key, value);
    }
    for (const child of children.flat(Infinity)) {
      if (child === null || child === undefined || child === false) continue;
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return node;
  }

  const clamp = (value, low, high) => Math.min(Math.max(value, low), high);

  function perspectives() {
    return [...state.map.perspectives].sort((a, b) => a.order - b.order || a.id - b.id);
  }

  function bandTops() {
    const tops = new Map();
    perspectives().forEach((p, index) => tops.set(p.id, index * BAND_HEIGHT));
    return tops;
  }

  function objective(id) {
    return state.map.objectives.find((o) => o.id === id) || null;
  }

  function perspectiveName(id) {
    const p = state.map.perspectives.find((item) => item.id === id);
    return p ? p.name : "";
  }

  // Same as map_svg.card_box: the card's top-left corner on the whole map.
  function cardBox(o, tops) {
    const x = LABEL_WIDTH + clamp(o.x, 0, X_MAX);
    const y = tops.get(o.perspective) + clamp(o.y, 0, Y_MAX);
    return [x, y];
  }

  // Same as map_svg._edge_point / arrow_points: arrows run between the cards' borders.
  function edgePoint(box, toward) {
    const cx = box[0] + CARD_WIDTH / 2;
    const cy = box[1] + CARD_HEIGHT / 2;
    const dx = toward[0] - cx;
    const dy = toward[1] - cy;
    if (dx === 0 && dy === 0) return [cx, cy];
    const scale = Math.min(dx ? CARD_WIDTH / 2 / Math.abs(dx) : Infinity, dy ? CARD_HEIGHT / 2 / Math.abs(dy) : Infinity);
    return [cx + dx * scale, cy + dy * scale];
  }

  function arrowPoints(sourceBox, targetBox) {
    const sc = [sourceBox[0] + CARD_WIDTH / 2, sourceBox[1] + CARD_HEIGHT / 2];
    const tc = [targetBox[0] + CARD_WIDTH / 2, targetBox[1] + CARD_HEIGHT / 2];
    const [x1, y1] = edgePoint(sourceBox, tc);
    const [x2, y2] = edgePoint(targetBox, sc);
    return [x1, y1, x2, y2].map((v) => Math.round(v * 10) / 10);
  }

  // Like Python's textwrap.wrap(name, 24)[:3], as the server SVG does.
  function wrap(text, width) {
    const lines = [];
    let line = "";
    for (let word of text.split(/\s+/).filter(Boolean)) {
      while (word.length > width) {
        const room = line ? width - line.length - 1 : width;
        if (room > 0 && line) {
          lines.push(line + " " + word.slice(0, room));
          word = word.slice(room);
        } else {
          if (line) lines.push(line);
          lines.push(word.slice(0, width));
          word = word.slice(width);
        }
        line = "";
      }
      if (!word) continue;
      if (!line) line = word;
      else if (line.length + 1 + word.length <= width) line += " " + word;
      else {
        lines.push(line);
        line = word;
      }
    }
    if (line) lines.push(line);
    return lines.slice(0, 3);
  }

  // A pointer position in map units (the map may be drawn scaled).
  function toSvgPoint(event) {
    const rect = svg.getBoundingClientRect();
    return [(event.clientX - rect.left) / state.scale, (event.clientY - rect.top) / state.scale];
  }

  const snap = (value) => Math.round(value / GRID) * GRID;

  // The card of the band that a card at (x, y) would cover or crowd (closer than GAP), if any.
  function blocker(perspectiveId, x, y, exceptId) {
    return (
      state.map.objectives.find(
        (o) =>
          o.id !== exceptId &&
          o.perspective === perspectiveId &&
          Math.abs(clamp(o.x, 0, X_MAX) - x) < CARD_WIDTH + GAP &&
          Math.abs(clamp(o.y, 0, Y_MAX) - y) < CARD_HEIGHT + GAP,
      ) || null
    );
  }

  // The free grid spot of the band nearest to (x, y). With a direction (an arrow key), only spots that way
  // count, on the same row or column first, so a card passes a neighbour instead of bouncing back.
  function nearestFree(id, perspectiveId, x, y, direction) {
    const [dx, dy] = direction || [0, 0];
    for (const sameLine of direction ? [true, false] : [false]) {
      let best = null;
      let bestDistance = Infinity;
      for (let cy = 0; cy <= Y_MAX; cy += GRID) {
        for (let cx = 0; cx <= X_MAX; cx += GRID) {
          if ((dx > 0 && cx < x) || (dx < 0 && cx > x) || (dy > 0 && cy < y) || (dy < 0 && cy > y)) continue;
          if (sameLine && (dx ? cy !== y : cx !== x)) continue;
          if (blocker(perspectiveId, cx, cy, id)) continue;
          const distance = (cx - x) ** 2 + (cy - y) ** 2;
          if (distance < bestDistance) {
            best = [cx, cy];
            bestDistance = distance;
          }
        }
      }
      if (best) return best;
    }
    return null;
  }

  function csrfToken() {
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (match) return decodeURIComponent(match[1]);
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch (error) {
      return "";
    }
  }

  // --- Messages -------------------------------------------------------------------------------------

  function showMessage(text) {
    const box = document.getElementById("messages");
    if (!box) return;
    box.querySelectorAll(".map-flash").forEach((node) => node.remove());
    box.appendChild(h("div", { class: "flash flash-error map-flash", role: "alert", text }));
  }

  function clearMessages() {
    document.querySelectorAll("#messages .map-flash").forEach((node) => node.remove());
  }

  function setStatus(text) {
    if (statusLine) statusLine.textContent = text;
  }

  function describeErrors(data) {
    if (!data || typeof data !== "object") return "The change was refused.";
    if (typeof data.detail === "string") return data.detail;
    const parts = [];
    for (const [field, errors] of Object.entries(data)) {
      const text = (Array.isArray(errors) ? errors : [errors]).join(" ");
      const label = FIELD_LABELS[field];
      parts.push(label ? `${label}: ${text}` : text);
    }
    return parts.join(" ") || "The change was refused.";
  }

  // --- Talking to the API: one write at a time, each with the current map version ----------------------

  let queue = Promise.resolve();
  let pending = 0;

  function setPending(delta) {
    pending += delta;
    root.dataset.pending = String(pending);
  }

  async function request(method, path, body) {
    const options = {
      method,
      credentials: "same-origin",
      headers: { Accept: "application/json", "X-CSRFToken": csrfToken() },
    };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    const response = await fetch(state.api + path, options);
    let data = null;
    if (response.status !== 204) {
      try {
        data = await response.json();
      } catch (error) {
        data = null;
      }
    }
    return { status: response.status, ok: response.ok, data };
  }

  // A change to the map or an initiative. Map changes carry the version (the body, or ?version= for a
  // DELETE); the answer's version becomes ours. A refusal is shown and the map reloaded from the server.
  function write(method, path, body, { versioned = true } = {}) {
    setPending(1);
    const run = async () => {
      let url = path;
      let payload = body;
      if (versioned) {
        if (method === "DELETE") url += (url.includes("?") ? "&" : "?") + "version=" + state.map.version;
        else payload = { ...(body || {}), version: state.map.version };
      }
      setStatus("Saving…");
      const result = await request(method, url, payload);
      if (result.ok) {
        if (result.data && typeof result.data.version === "number") state.map.version = result.data.version;
        clearMessages();
        setStatus("Saved.");
        return result.data || {};
      }
      setStatus("");
      if (result.status === 409) {
        showMessage(describeErrors(result.data));
        await reloadMap();
      } else if (result.status === 400) {
        showMessage(describeErrors(result.data));
        if (versioned) await reloadMap();
      } else if (result.status === 403) {
        showMessage("Your role may not change this map. Nothing was changed.");
      } else if (result.status === 404) {
        showMessage("That item no longer exists; the map has been refreshed.");
        await reloadMap();
      } else {
        showMessage(`The change could not be saved (error ${result.status}). Please try again.`);
        await reloadMap();
      }
      return null;
    };
    const result = queue
      .then(run)
      .catch(() => {
        setStatus("");
        showMessage("The change could not be saved: the server did not answer. Please try again.");
        return null;
      })
      .finally(() => setPending(-1));
    queue = result;
    return result;
  }

  // The map as the API has it, with the statuses of the period the page shows (not the month now due).
  function mapPath() {
    const p = state.period;
    const query = p ? `?kind=${encodeURIComponent(p.kind)}&period=${encodeURIComponent(p.period)}` : "";
    return `scorecards/${state.scorecard}/${query}`;
  }

  async function reloadMap() {
    const result = await request("GET", mapPath());
    if (!result.ok) return;
    state.map = { ...state.map, ...result.data };
    state.pendingMoves.forEach((timer) => {
      clearTimeout(timer);
      setPending(-1);
    });
    state.pendingMoves.clear();
    state.moveOrigins.clear();
    if (state.selectedLink && !state.map.links.some((l) => l.id === state.selectedLink)) state.selectedLink = null;
    render();
    if (state.panelFor && objective(state.panelFor)) openPanel(state.panelFor);
    else closePanel();
  }

  // Once a pending score recompute is done (the "Recomputing…" badge fires scoresRecomputed), take the
  // objectives' new status colours, leaving everything else (and any move still being saved) alone.
  document.body.addEventListener("scoresRecomputed", async () => {
    const result = await request("GET", mapPath());
    if (!result.ok || !result.data.objectives) return;
    const fresh = new Map(result.data.objectives.map((o) => [o.id, o]));
    state.map.objectives.forEach((o) => {
      const now = fresh.get(o.id);
      if (now) Object.assign(o, { status: now.status, score: now.score, score_text: now.score_text });
    });
    render();
  });

  function mergeObjective(data) {
    const existing = objective(data.id);
    const fields = {
      id: data.id,
      perspective: data.perspective,
      name: data.name,
      description: data.description,
      owner: data.owner,
      owner_name: data.owner_name,
      weight: data.weight,
      x: data.x,
      y: data.y,
      aligned_to: data.aligned_to,
      aligned_to_name: data.aligned_to_name,
    };
    if (existing) Object.assign(existing, fields);
    else state.map.objectives.push({ ...fields, status: "grey" });
  }

  // --- Drawing ---------------------------------------------------------------------------------------

  function render() {
    const active = document.activeElement;
    const focusedCard = active && active.closest && active.closest(".objective") ? Number(active.closest(".objective").dataset.objective) : null;
    const bands = perspectives();
    const tops = bandTops();
    const height = Math.max(bands.length, 1) * BAND_HEIGHT;

    const oldSvg = svg;
    svg = svgEl("svg", {
      xmlns: SVG_NS,
      viewBox: `0 0 ${MAP_WIDTH} ${height}`,
      width: MAP_WIDTH,
      height,
      "font-family": "Helvetica, Arial, sans-serif",
      class: "map-svg" + (state.canEdit ? " editable" : ""),
      role: "group",
      "aria-label": `Strategy map of ${state.map.unit_name}`,
      "aria-describedby": "map-help",
    });
    const defs = svgEl("defs", {}, svg);
    for (const [id, colour] of [["arrowhead", "#44516b"], ["arrowhead-selected", "#1f5fbf"]]) {
      const marker = svgEl(
        "marker",
        { id, viewBox: "0 0 10 10", refX: 10, refY: 5, markerWidth: 8, markerHeight: 8, orient: "auto-start-reverse" },
        defs,
      );
      svgEl("path", { d: "M 0 0 L 10 5 L 0 10 z", fill: colour }, marker);
    }

    bands.forEach((p, index) => {
      const top = tops.get(p.id);
      const g = svgEl("g", { class: "band", "data-perspective": p.id }, svg);
      svgEl("rect", { x: 0, y: top, width: MAP_WIDTH, height: BAND_HEIGHT, fill: BAND_FILLS[index % BAND_FILLS.length], stroke: "#d9dde5" }, g);
      svgEl("text", { x: 12, y: top + 26, "font-size": 15, "font-weight": "bold", fill: "#33415c" }, g).textContent = p.name;
    });

    const boxes = new Map();
    for (const o of state.map.objectives) if (tops.has(o.perspective)) boxes.set(o.id, cardBox(o, tops));

    const linkLayer = svgEl("g", { class: "links" }, svg);
    for (const link of state.map.links) {
      if (!boxes.has(link.source) || !boxes.has(link.target)) continue;
      const [x1, y1, x2, y2] = arrowPoints(boxes.get(link.source), boxes.get(link.target));
      const selected = link.id === state.selectedLink;
      const g = svgEl("g", { class: "link-group", "data-link": link.id }, linkLayer);
      const source = objective(link.source);
      const target = objective(link.target);
      const evidence = (initial.evidence || {})[link.id] || { strength: "none", summary: "" };
      svgEl("title", {}, g).textContent = `${source.name} drives ${target.name}` + (evidence.summary ? `. Evidence: ${evidence.summary}` : "");
      svgEl(
        "line",
        {
          class: "link" + (selected ? " selected" : "") + ` evidence-${evidence.strength}`,
          "data-link": link.id,
          x1,
          y1,
          x2,
          y2,
          stroke: selected ? "#1f5fbf" : "#44516b",
          "stroke-width": selected ? 3 : 2,
          "marker-end": selected ? "url(#arrowhead-selected)" : "url(#arrowhead)",
        },
        g,
      );
      if (state.canEdit) {
        svgEl("line", { class: "link-hit", x1, y1, x2, y2, stroke: "transparent", "stroke-width": 14 }, g);
      }
    }

    const cardLayer = svgEl("g", { class: "objectives" }, svg);
    for (const o of state.map.objectives) {
      if (!boxes.has(o.id)) continue;
      const [x, y] = boxes.get(o.id);
      const colour = STATUS_COLOURS[o.status] || STATUS_COLOURS.grey;
      const g = svgEl(
        "g",
        {
          class: "objective" + (o.id === state.panelFor ? " selected" : ""),
          "data-objective": o.id,
          "data-name": o.name,
          tabindex: 0,
          role: "button",
          // The name and the score, as the card shows them (its visible text must be part of its name).
          "aria-label": o.score_text ? `${o.name} ${o.score_text}` : o.name,
        },
        cardLayer,
      );
      svgEl("rect", { class: "focus-ring", x: x - 5, y: y - 5, width: CARD_WIDTH + 10, height: CARD_HEIGHT + 10, rx: 13, fill: "none" }, g);
      svgEl("rect", { class: "card-body", x, y, width: CARD_WIDTH, height: CARD_HEIGHT, rx: 10, fill: "#ffffff", stroke: colour, "stroke-width": 3 }, g);
      svgEl("rect", { x, y, width: 8, height: CARD_HEIGHT, rx: 3, fill: colour }, g);
      const lines = wrap(o.name, 24);
      if (!lines.length) lines.push("");
      const first = y + CARD_HEIGHT / 2 - (lines.length - 1) * 8 + 5;
      const text = svgEl("text", { "text-anchor": "middle", "font-size": 13, fill: "#1d2330" }, g);
      // A space ends every line but the last, so the card's text reads as its name (its accessible name).
      lines.forEach((line, i) => {
        svgEl("tspan", { x: x + CARD_WIDTH / 2, y: first + i * 16 }, text).textContent = i < lines.length - 1 ? line + " " : line;
      });
      // The status as a shape in the corner (as the legend and the SVG export), and as the card's description.
      const status = STATUS_SHAPES[o.status] ? o.status : "grey";
      svgEl(
        "text",
        { class: "status-shape", x: x + CARD_WIDTH - 12, y: y + 17, "text-anchor": "middle", "font-size": 13, fill: STATUS_INK[status], "aria-hidden": "true" },
        g,
      ).textContent = STATUS_SHAPES[status];
      // The score beside the shape, as the pages print it (prepared by the server: cut, never rounded up).
      if (o.score_text) {
        svgEl(
          "text",
          { class: "score-text", x: x + CARD_WIDTH - 22, y: y + 17, "text-anchor": "end", "font-size": 12, "font-weight": 600, fill: STATUS_INK[status], "aria-hidden": "true" },
          g,
        ).textContent = o.score_text;
      }
      svgEl("title", {}, g).textContent = statusText(o);
      if (state.canEdit) {
        const handle = svgEl("circle", { class: "connector", cx: x + CARD_WIDTH, cy: y + CARD_HEIGHT / 2, r: 7 }, g);
        svgEl("title", {}, handle).textContent = `Drag onto another objective to draw an arrow from “${o.name}”`;
      }
    }

    // The overlay (add buttons, name inputs) outlives a redraw, so a name being typed is never lost.
    if (!stage) {
      overlay = h("div", { class: "map-overlay" });
      stage = h("div", { class: "map-stage" }, overlay);
      root.replaceChildren(stage);
    }
    if (oldSvg && oldSvg.parentNode === stage) stage.replaceChild(svg, oldSvg);
    else stage.prepend(svg);
    applyScale();
    overlay.querySelectorAll(".band-add").forEach((node) => node.remove());
    if (state.canEdit) {
      for (const p of bands) {
        overlay.appendChild(
          h("button", {
            type: "button",
            class: "band-add small secondary",
            style: `top: ${tops.get(p.id) + 40}px`,
            "aria-label": `Add objective to ${p.name}`,
            text: "+ Add objective",
            onclick: () => {
              const [fx, fy] = freeSpot(p.id);
              startNewObjective(p.id, fx, fy);
            },
          }),
        );
      }
    }
    renderToolbar();
    bindSvg();

    if (focusedCard !== null) focusCard(focusedCard);
  }

  // --- Fit and zoom: the map is drawn at a scale that fits its frame (or the one chosen) -----------------

  function mapHeight() {
    return Math.max(perspectives().length, 1) * BAND_HEIGHT;
  }

  function wantedScale() {
    if (state.zoom !== null) return state.zoom;
    const room = root.clientWidth - 1; // a pixel spare, so rounding never adds a scroll bar
    if (room <= 0) return 1;
    const fit = Math.min(1, room / MAP_WIDTH);
    return fit >= MIN_FIT ? fit : READABLE_SCALE;
  }

  function applyScale() {
    if (!svg || !stage) return;
    const scale = wantedScale();
    const height = mapHeight();
    state.scale = scale;
    root.dataset.scale = scale.toFixed(4);
    svg.setAttribute("width", (MAP_WIDTH * scale).toFixed(1));
    svg.setAttribute("height", (height * scale).toFixed(1));
    stage.style.width = `${MAP_WIDTH * scale}px`;
    stage.style.height = `${height * scale}px`;
    overlay.style.width = `${MAP_WIDTH}px`;
    overlay.style.height = `${height}px`;
    overlay.style.transform = `scale(${scale})`;
    const level = document.getElementById("map-zoom-level");
    if (level) level.textContent = `${Math.round(scale * 100)}%`;
    const fitButton = document.getElementById("map-zoom-fit");
    if (fitButton) fitButton.setAttribute("aria-pressed", String(state.zoom === null));
    const overflowing = root.scrollWidth > root.clientWidth + 1;
    root.classList.toggle("overflowing", overflowing);
    markScrollEnd();
    const hint = document.getElementById("map-scroll-hint");
    if (hint) hint.hidden = !overflowing;
  }

  // The fade at the frame's right edge says "more this way" until the map is scrolled to its end.
  function markScrollEnd() {
    root.classList.toggle("scrolled-to-end", root.scrollLeft + root.clientWidth >= root.scrollWidth - 1);
  }
  root.addEventListener("scroll", markScrollEnd, { passive: true });

  function zoomBy(direction) {
    const now = state.scale;
    const next = direction > 0 ? ZOOM_STEPS.find((step) => step > now + 0.001) : [...ZOOM_STEPS].reverse().find((step) => step < now - 0.001);
    if (next === undefined) return;
    state.zoom = next;
    applyScale();
    setStatus(`Map shown at ${Math.round(next * 100)}%.`);
  }

  function bindZoom() {
    const buttons = { "map-zoom-out": () => zoomBy(-1), "map-zoom-in": () => zoomBy(1) };
    for (const [id, run] of Object.entries(buttons)) document.getElementById(id)?.addEventListener("click", run);
    document.getElementById("map-zoom-fit")?.addEventListener("click", () => {
      state.zoom = null;
      applyScale();
      setStatus(`Map fitted to the window (${Math.round(state.scale * 100)}%).`);
    });
    let last = root.clientWidth;
    const refit = () => {
      if (root.clientWidth === last) return;
      last = root.clientWidth;
      applyScale(); // a fitted map follows the frame; a zoomed one updates its scroll hint
    };
    if (window.ResizeObserver) new ResizeObserver(refit).observe(root);
    else window.addEventListener("resize", refit);
  }

  function renderToolbar() {
    let button = document.getElementById("copy-parent");
    const wanted = state.canEdit && state.hasParent && state.map.objectives.length === 0;
    if (wanted && !button) {
      button = h("button", { type: "button", id: "copy-parent", class: "secondary", text: "Copy parent map", onclick: copyParent });
      const help = document.getElementById("map-help");
      help.parentNode.insertBefore(button, help.nextSibling);
    } else if (!wanted && button) {
      button.remove();
    }
  }

  function focusCard(id) {
    const card = svg && svg.querySelector(`.objective[data-objective="${id}"]`);
    if (card) card.focus({ preventScroll: false });
  }

  // The first spot in a band where a new card overlaps no other card (or the band's start).
  function freeSpot(perspectiveId) {
    for (const y of NEW_CARD_ROWS) {
      for (let x = 2 * GRID; x <= X_MAX; x += 2 * GRID) {
        if (!blocker(perspectiveId, x, y, null)) return [x, y];
      }
    }
    return nearestFree(null, perspectiveId, 0, 0) || [2 * GRID, NEW_CARD_ROWS[0]];
  }

  // --- Pointer: select, drag, draw arrows, double-click to add ---------------------------------------

  function bindSvg() {
    svg.addEventListener("pointerdown", onPointerDown);
    svg.addEventListener("keydown", onCardKey);
    if (state.canEdit) svg.addEventListener("dblclick", onDoubleClick);
  }

  function onPointerDown(event) {
    if (event.button !== 0) return;
    const card = event.target.closest(".objective");
    const connector = event.target.closest(".connector");
    const link = event.target.closest(".link-group");
    if (card && connector && state.canEdit) {
      event.preventDefault();
      startArrowDrag(event, Number(card.dataset.objective));
    } else if (card) {
      startCardPress(event, card);
    } else if (link && state.canEdit) {
      event.preventDefault();
      selectLink(Number(link.dataset.link));
    } else if (state.selectedLink) {
      selectLink(null);
    }
  }

  function startCardPress(event, card) {
    const id = Number(card.dataset.objective);
    const o = objective(id);
    const tops = bandTops();
    const [startX, startY] = cardBox(o, tops);
    const origin = [event.clientX, event.clientY];
    let dragging = false;
    let box = [startX, startY];

    const move = (e) => {
      if (!dragging && Math.hypot(e.clientX - origin[0], e.clientY - origin[1]) < DRAG_THRESHOLD) return;
      const dx = (e.clientX - origin[0]) / state.scale;
      const dy = (e.clientY - origin[1]) / state.scale;
      if (!state.canEdit) return;
      dragging = true;
      card.classList.add("dragging");
      const height = perspectives().length * BAND_HEIGHT;
      box = [clamp(startX + dx, LABEL_WIDTH, LABEL_WIDTH + X_MAX), clamp(startY + dy, 0, height - CARD_HEIGHT)];
      card.setAttribute("transform", `translate(${box[0] - startX} ${box[1] - startY})`);
      redrawLinks(id, box);
    };
    const up = (e) => {
      window.removeEventListener("pointermove", move);
      window.removeEventListener("pointerup", up);
      window.removeEventListener("pointercancel", up);
      if (e.type === "pointercancel") {
        // The browser took the gesture over (a swipe that scrolls the map on a touch screen): no click, no move.
        if (dragging) render();
        return;
      }
      if (!dragging) {
        selectLink(null, { quiet: true });
        openPanel(id);
        return;
      }
      const bands = perspectives();
      const index = clamp(Math.floor((box[1] + CARD_HEIGHT / 2) / BAND_HEIGHT), 0, bands.length - 1);
      const band = bands[index];
      const x = clamp(snap(box[0] - LABEL_WIDTH), 0, X_MAX);
      const y = clamp(snap(box[1] - index * BAND_HEIGHT), 0, Y_MAX);
      const taken = blocker(band.id, x, y, id);
      const spot = taken ? nearestFree(id, band.id, x, y) : [x, y];
      if (!spot) {
        card.removeAttribute("transform");
        render();
        focusCard(id);
        showMessage(`${band.name} has no free spot for “${o.name}”; it stays where it was.`);
        return;
      }
      const changes = { x: spot[0], y: spot[1] };
      if (band.id !== o.perspective) changes.perspective = band.id;
      const note = taken ? `“${o.name}” moved to the nearest free spot: “${taken.name}” is where it was dropped.` : null;
      moveObjective(id, changes, note);
    };
    window.addEventListener("pointermove", move);
    window.addEventListener("pointerup", up);
    window.addEventListener("pointercancel", up);
  }

  function redrawLinks(movedId, movedBox) {
    const tops = bandTops();
    const boxOf = (id) => (id === movedId ? movedBox : cardBox(objective(id), tops));
    for (const link of state.map.links) {
      if (link.source !== movedId && link.target !== movedId) continue;
      const [x1, y1, x2, y2] = arrowPoints(boxOf(link.source), boxOf(link.target));
      for (const line of svg.querySelectorAll(`.link-group[data-link="${link.id}"] line`)) {
        line.setAttribute("x1", x1);
        line.setAttribute("y1", y1);
        line.setAttribute("x2", x2);
        line.setAttribute("y2", y2);
      }
    }
  }

  function startArrowDrag(event, sourceId) {
    const tops = bandTops();
    const sourceBox = cardBox(objective(sourceId), tops);
    const start = [sourceBox[0] + CARD_WIDTH, sourceBox[1] + CARD_HEIGHT / 2];
    const temp = svgEl("line", {
      class: "link-draft",
      x1: start[0],
      y1: start[1],
      x2: start[0],
      y2: start[1],
      stroke: "#1f5fbf",
      "stroke-width": 2,
      "stroke-dasharray": "6 4",
      "marker-end": "url(#arrowhead-selected)",
    });
    svg.appendChild(temp);
    let hovered = null;
    const cardAt = (e) => {
      const hit = document.elementFromPoint(e.clientX, e.clientY);
      const card = hit && hit.closest && hit.closest(".objective");
      return card && Number(card.dataset.objective) !== sourceId ? card : null;
    };
    const move = (e) => {
      const [px, py] = toSvgPoint(e);
      temp.setAttribute("x2", px);
      temp.setAttribute("y2", py);
      const card = cardAt(e);
      if (hovered && hovered !== card) hovered.classList.remove("drop-target");
      hovered = card;
      if (card) card.classList.add("drop-target");
    };
    const up = (e) => {
      window.removeEventListener("pointermove", move);
      window.removeEventListener("pointerup", up);
      window.removeEventListener("pointercancel", up);
      temp.remove();
      if (hovered) hovered.classList.remove("drop-target");
      const card = e.type === "pointerup" ? cardAt(e) : null;
      if (card) createLink(sourceId, Number(card.dataset.objective));
    };
    window.addEventListener("pointermove", move);
    window.addEventListener("pointerup", up);
    window.addEventListener("pointercancel", up);
  }

  function onDoubleClick(event) {
    const card = event.target.closest(".objective");
    if (card) {
      startRename(Number(card.dataset.objective));
      return;
    }
    const band = event.target.closest(".band");
    if (!band) return;
    const [px, py] = toSvgPoint(event);
    if (px < LABEL_WIDTH) return;
    const perspectiveId = Number(band.dataset.perspective);
    const top = bandTops().get(perspectiveId);
    const x = clamp(snap(px - LABEL_WIDTH - CARD_WIDTH / 2), 0, X_MAX);
    const y = clamp(snap(py - top - CARD_HEIGHT / 2), 0, Y_MAX);
    const spot = blocker(perspectiveId, x, y, null) ? nearestFree(null, perspectiveId, x, y) : [x, y];
    if (!spot) {
      showMessage(`${perspectiveName(perspectiveId)} has no free spot for another objective.`);
      return;
    }
    startNewObjective(perspectiveId, ...spot);
  }

  function selectLink(id, { quiet = false } = {}) {
    state.selectedLink = id;
    for (const line of svg.querySelectorAll("line.link")) {
      const selected = Number(line.dataset.link) === id;
      line.classList.toggle("selected", selected);
      line.setAttribute("stroke", selected ? "#1f5fbf" : "#44516b");
      line.setAttribute("stroke-width", selected ? 3 : 2);
      line.setAttribute("marker-end", selected ? "url(#arrowhead-selected)" : "url(#arrowhead)");
    }
    if (id !== null) {
      const link = state.map.links.find((l) => l.id === id);
      if (document.activeElement && document.activeElement.blur) document.activeElement.blur();
      setStatus(`Arrow selected: “${objective(link.source).name}” drives “${objective(link.target).name}”. Press Delete to remove it.`);
    } else if (!quiet) {
      setStatus("");
    }
  }

  // --- Keyboard ------------------------------------------------------------------------------------

  function onCardKey(event) {
    const card = event.target.closest && event.target.closest(".objective");
    if (!card) return;
    const id = Number(card.dataset.objective);
    const moves = { ArrowLeft: [-KEY_STEP, 0], ArrowRight: [KEY_STEP, 0], ArrowUp: [0, -KEY_STEP], ArrowDown: [0, KEY_STEP] };
    if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      openPanel(id, { focus: true });
    } else if (!state.canEdit) {
      return;
    } else if (event.key === "F2") {
      event.preventDefault();
      startRename(id);
    } else if (event.key === "Delete" || event.key === "Backspace") {
      event.preventDefault();
      event.stopPropagation();
      deleteObjective(id);
    } else if (moves[event.key]) {
      event.preventDefault();
      nudge(id, ...moves[event.key]);
    }
  }

  document.addEventListener("keydown", (event) => {
    if (!state.canEdit || state.selectedLink === null) return;
    if (event.key !== "Delete" && event.key !== "Backspace") return;
    const target = event.target;
    if (target.closest && target.closest("input, textarea, select, [contenteditable], .objective")) return;
    event.preventDefault();
    deleteLink(state.selectedLink);
  });

  // Arrow keys move the card at once on screen; the position is saved after a short pause.
  function nudge(id, dx, dy) {
    const o = objective(id);
    const bands = perspectives();
    let index = bands.findIndex((p) => p.id === o.perspective);
    let x = clamp(snap(o.x + dx), 0, X_MAX);
    let y = snap(o.y + dy);
    if (y < 0 && index > 0) {
      index -= 1;
      y = Y_MAX;
    } else if (y > Y_MAX && index < bands.length - 1) {
      index += 1;
      y = 0;
    }
    y = clamp(y, 0, Y_MAX);
    const band = bands[index];
    const taken = blocker(band.id, x, y, id);
    if (taken) {
      const spot = nearestFree(id, band.id, x, y, [dx, dy]);
      if (!spot) {
        setStatus(`“${o.name}” cannot move that way: “${taken.name}” is in the way and there is no free spot beyond it.`);
        return;
      }
      [x, y] = spot;
    }
    if (!state.moveOrigins.has(id)) state.moveOrigins.set(id, { x: o.x, y: o.y, perspective: o.perspective });
    Object.assign(o, { x, y, perspective: band.id });
    render();
    focusCard(id);
    const past = taken ? ` (past “${taken.name}”, to the next free spot)` : "";
    setStatus(`“${o.name}” moved to ${band.name}, ${x}, ${y}${past}.`);
    if (state.pendingMoves.has(id)) clearTimeout(state.pendingMoves.get(id));
    else setPending(1); // a move waiting for its pause counts as unsaved work
    state.pendingMoves.set(id, setTimeout(() => savePendingMove(id), MOVE_SAVE_DELAY));
  }

  function savePendingMove(id) {
    if (!state.pendingMoves.has(id)) return;
    clearTimeout(state.pendingMoves.get(id));
    state.pendingMoves.delete(id);
    const before = state.moveOrigins.get(id);
    state.moveOrigins.delete(id);
    const current = objective(id);
    if (current) saveObjective(id, { x: current.x, y: current.y, perspective: current.perspective }, { before });
    setPending(-1);
  }

  // --- Edits ---------------------------------------------------------------------------------------

  function moveObjective(id, changes, note) {
    const o = objective(id);
    const before = { x: o.x, y: o.y, perspective: o.perspective };
    Object.assign(o, changes);
    render();
    focusCard(id);
    saveObjective(id, changes, { before }).then((data) => {
      if (data && note) setStatus(note);
    });
  }

  // `before`: the fields' values to go back to on undo (by default, what the objective holds now).
  async function saveObjective(id, changes, { before = null, undoable = true } = {}) {
    const old = objective(id);
    const previous = before || Object.fromEntries(Object.keys(changes).map((key) => [key, old ? old[key] : null]));
    const oldName = old ? old.name : "";
    const data = await write("PATCH", `objectives/${id}/`, changes);
    if (!data) return null;
    mergeObjective(data);
    render();
    if (undoable) rememberUpdate(data.id, previous, oldName, data.name);
    return data;
  }

  function nameInput(box, value, label, onDone) {
    const input = h("input", {
      type: "text",
      class: "card-name-input",
      value,
      maxlength: 120,
      "aria-label": label,
      style: `left: ${box[0]}px; top: ${box[1]}px; width: ${CARD_WIDTH}px; height: ${CARD_HEIGHT}px`,
    });
    let done = false;
    const finish = (save) => {
      if (done) return;
      done = true;
      const text = input.value;
      input.remove();
      onDone(save, text);
    };
    input.addEventListener("keydown", (event) => {
      if (event.key === "Enter") {
        event.preventDefault();
        finish(true);
      } else if (event.key === "Escape") {
        event.preventDefault();
        finish(false);
      }
      event.stopPropagation();
    });
    input.addEventListener("blur", () => finish(input.value.trim() !== ""));
    overlay.appendChild(input);
    input.focus();
    input.select();
    return input;
  }

  function startNewObjective(perspectiveId, x, y) {
    const top = bandTops().get(perspectiveId);
    const box = [LABEL_WIDTH + x, top + y];
    const ghost = h("div", { class: "card-ghost", style: `left: ${box[0]}px; top: ${box[1]}px; width: ${CARD_WIDTH}px; height: ${CARD_HEIGHT}px` });
    overlay.appendChild(ghost);
    nameInput(box, "", `Name of the new objective in ${perspectiveName(perspectiveId)}`, async (save, text) => {
      ghost.remove();
      if (!save) return;
      const data = await write("POST", "objectives/", { perspective: perspectiveId, name: text, x, y });
      if (!data) return;
      mergeObjective(data);
      render();
      focusCard(data.id);
      setStatus(`Objective “${data.name}” added to ${perspectiveName(perspectiveId)}.`);
      remember(`adding “${data.name}”`, async () => {
        const id = liveId(data.id);
        if (!(await write("DELETE", `objectives/${id}/`))) return false;
        dropObjective(id);
        render();
        return true;
      });
    });
  }

  function startRename(id) {
    const o = objective(id);
    const box = cardBox(o, bandTops());
    nameInput(box, o.name, `Rename “${o.name}”`, async (save, text) => {
      if (save && text.trim() !== o.name) {
        const data = await saveObjective(id, { name: text });
        if (data && state.panelFor === id) openPanel(id);
      }
      focusCard(id);
    });
  }

  function dropObjective(id) {
    state.map.objectives = state.map.objectives.filter((item) => item.id !== id);
    state.map.links = state.map.links.filter((l) => l.source !== id && l.target !== id);
    if (state.panelFor === id) closePanel({ restoreFocus: false });
  }

  // A delete is undone by creating the objective again with its arrows and initiatives. What the map's API
  // cannot give back (the KPIs that measure it, which lose their objective; the objectives of units below
  // aligned to it, which lose their alignment) makes the delete ask first and say it cannot be undone.
  async function deleteObjective(id) {
    const o = objective(id);
    if (!o) return;
    setPending(1); // reading what the delete would take with it counts as work in progress
    const detail = await request("GET", `objectives/${id}/`).finally(() => setPending(-1));
    const info = detail.ok ? detail.data : null;
    const kpis = info ? (info.kpis || []).length : 0;
    const below = info ? ((info.line_of_sight || {}).below || []).length : 0;
    const undoable = Boolean(info) && kpis === 0 && below === 0;
    if (!undoable) {
      const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;
      const why = !info
        ? "its details could not be read"
        : kpis
          ? `${plural(kpis, "KPI")} ${kpis === 1 ? "measures it and would lose its" : "measure it and would lose their"} objective`
          : `${plural(below, "objective")} of the units below ${below === 1 ? "is" : "are"} aligned to it`;
      const question = `Delete the objective “${o.name}”? Its arrows and initiatives are deleted with it. This cannot be undone: ${why}.`;
      if (!window.confirm(question)) return;
    }
    const links = state.map.links.filter((l) => l.source === id || l.target === id).map((l) => ({ source: l.source, target: l.target }));
    const snapshot = { ...o };
    const data = await write("DELETE", `objectives/${id}/`);
    if (!data) return;
    dropObjective(id);
    render();
    if (undoable) {
      setStatus(`Objective “${o.name}” deleted. Undo (Ctrl+Z) brings it back with its arrows and initiatives.`);
      remember(`deleting “${o.name}”`, () => restoreObjective(id, snapshot, links, info.initiatives || []));
    } else {
      setStatus(`Objective “${o.name}” deleted.`);
    }
    const next = svg.querySelector(".objective");
    if (next) next.focus();
  }

  async function restoreObjective(oldId, o, links, initiatives) {
    const body = { perspective: o.perspective, name: o.name, description: o.description || "", owner: o.owner, weight: o.weight, x: o.x, y: o.y };
    if (o.aligned_to) body.aligned_to = o.aligned_to;
    const data = await write("POST", "objectives/", body);
    if (!data) return false;
    aliases.set(oldId, data.id);
    mergeObjective(data);
    let lost = 0;
    for (const link of links) {
      const source = liveId(link.source);
      const target = liveId(link.target);
      const made = objective(source) && objective(target) ? await write("POST", "links/", { source, target }) : null;
      if (made) state.map.links.push({ id: made.id, source: made.source, target: made.target });
      else lost += 1;
    }
    for (const item of initiatives) {
      const fields = { objective: data.id, name: item.name, owner: item.owner, start: item.start, end: item.end, status: item.status, progress: item.progress };
      if (item.budget !== null && item.budget !== undefined) fields.budget = item.budget;
      if (!(await write("POST", "initiatives/", fields, { versioned: false }))) lost += 1;
    }
    render();
    focusCard(data.id);
    return lost ? `, but ${lost} of its arrows and initiatives could not be restored` : true;
  }

  async function createLink(source, target) {
    const data = await write("POST", "links/", { source, target });
    if (!data) return null;
    state.map.links.push({ id: data.id, source: data.source, target: data.target });
    render();
    setStatus(`Arrow drawn: “${objective(source).name}” drives “${objective(target).name}”.`);
    remember(`the arrow from “${objective(source).name}”`, async () => {
      if (!(await write("DELETE", `links/${data.id}/`))) return false;
      state.map.links = state.map.links.filter((l) => l.id !== data.id);
      render();
      return true;
    });
    if (state.panelFor === source || state.panelFor === target) openPanel(state.panelFor);
    return data;
  }

  async function deleteLink(id) {
    const link = state.map.links.find((l) => l.id === id);
    if (!link) return;
    const data = await write("DELETE", `links/${id}/`);
    if (!data) return;
    state.map.links = state.map.links.filter((l) => l.id !== id);
    if (state.selectedLink === id) state.selectedLink = null;
    render();
    setStatus(`Arrow removed: “${objective(link.source).name}” no longer drives “${objective(link.target).name}”.`);
    remember(`removing the arrow from “${objective(link.source).name}”`, async () => {
      const source = liveId(link.source);
      const target = liveId(link.target);
      const made = await write("POST", "links/", { source, target });
      if (!made) return false;
      state.map.links.push({ id: made.id, source: made.source, target: made.target });
      render();
      return true;
    });
    if (state.panelFor === link.source || state.panelFor === link.target) openPanel(state.panelFor);
  }

  async function copyParent() {
    const data = await write("POST", `scorecards/${state.scorecard}/copy-parent/`, {});
    if (!data) return;
    state.map = { ...state.map, ...data };
    render();
    setStatus(`Copied ${data.objectives.length} objectives and ${data.links.length} arrows from the parent map.`);
  }

  // --- Undo: the editor's own changes, newest first, taken back through the same API calls ----------

  const undoStack = [];
  const aliases = new Map(); // id of a deleted objective -> id of the objective that restored it
  const undoButton = document.getElementById("map-undo");
  let undoing = false;

  function liveId(id) {
    let current = id;
    while (aliases.has(current)) current = aliases.get(current);
    return current;
  }

  function remember(label, run) {
    if (undoing) return; // what an undo does is not itself undone
    undoStack.push({ label, run });
    if (undoStack.length > UNDO_LIMIT) undoStack.shift();
    updateUndoButton();
  }

  function updateUndoButton() {
    if (!undoButton) return;
    const last = undoStack[undoStack.length - 1];
    undoButton.disabled = !last;
    undoButton.title = last ? `Undo ${last.label} (Ctrl+Z)` : "Nothing to undo yet";
  }

  function rememberUpdate(id, previous, oldName, newName) {
    const keys = Object.keys(previous);
    let label = `the change to “${newName}”`;
    if (keys.some((key) => key === "x" || key === "y" || key === "perspective")) label = `moving “${newName}”`;
    else if (keys.includes("name") && oldName !== newName) label = `renaming “${oldName}” to “${newName}”`;
    remember(label, async () => {
      const data = await write("PATCH", `objectives/${liveId(id)}/`, previous);
      if (!data) return false;
      mergeObjective(data);
      render();
      focusCard(data.id);
      if (state.panelFor === data.id) openPanel(data.id);
      return true;
    });
  }

  async function undo() {
    if (!state.canEdit || undoing) return;
    for (const id of [...state.pendingMoves.keys()]) savePendingMove(id); // a move still waiting is saved first
    await queue;
    const entry = undoStack.pop();
    updateUndoButton();
    if (!entry) {
      setStatus("Nothing to undo.");
      return;
    }
    undoing = true;
    let result = false;
    try {
      result = await entry.run();
    } finally {
      undoing = false;
    }
    if (result === true) setStatus(`Undone: ${entry.label}.`);
    else if (typeof result === "string") setStatus(`Undone: ${entry.label}${result}.`);
    else setStatus(`Could not undo ${entry.label}.`);
  }

  if (undoButton) undoButton.addEventListener("click", () => undo());
  document.addEventListener("keydown", (event) => {
    if (!state.canEdit || !(event.ctrlKey || event.metaKey) || event.shiftKey || event.altKey) return;
    if (event.key.toLowerCase() !== "z") return;
    if (event.target.closest && event.target.closest("input, textarea, [contenteditable]")) return; // their own undo
    event.preventDefault();
    undo();
  });

  // --- The side panel ------------------------------------------------------------------------------

  async function loadMembers() {
    if (state.members) return state.members;
    // Page by page: the API gives at most 500 rows at once.
    const rows = [];
    for (let offset = 0; ; offset += 500) {
      const result = await request("GET", `members/?limit=500&offset=${offset}`);
      if (!result.ok) break;
      rows.push(...result.data.results);
      if (!result.data.next) break;
    }
    state.members = rows
      .map((m) => ({ id: m.user, name: m.full_name || m.email }))
      .sort((a, b) => a.name.localeCompare(b.name));
    return state.members;
  }

  function closePanel({ restoreFocus = true } = {}) {
    const id = state.panelFor;
    state.panelFor = null;
    panel.replaceChildren();
    panel.hidden = true;
    if (layout) layout.classList.remove("panel-open");
    if (svg) svg.querySelectorAll(".objective.selected").forEach((node) => node.classList.remove("selected"));
    if (restoreFocus && id) focusCard(id);
  }

  let panelRequest = 0;

  async function openPanel(id, { focus = false } = {}) {
    const o = objective(id);
    if (!o) return;
    state.panelFor = id;
    svg.querySelectorAll(".objective").forEach((node) => node.classList.toggle("selected", Number(node.dataset.objective) === id));
    const ticket = ++panelRequest;
    const [detail, members] = await Promise.all([
      request("GET", `objectives/${id}/`),
      state.canEdit ? loadMembers() : Promise.resolve([]),
    ]);
    if (ticket !== panelRequest || state.panelFor !== id) return;
    const info = detail.ok ? detail.data : { initiatives: [], kpis: [], line_of_sight: { up: [], below: [] } };
    const content = state.canEdit ? editorPanel(objective(id), info, members) : readOnlyPanel(objective(id), info);
    panel.replaceChildren(...content, ...itemPanels("objective", id, "load"));
    if (window.htmx) window.htmx.process(panel);
    panel.hidden = false;
    if (layout) layout.classList.add("panel-open");
    if (focus) panel.querySelector("h2").focus();
  }

  // Panels other apps add to an item (comments: its thread), loaded by htmx from the addresses the page names per kind
  // ("{pk}" stands for the id); an initiative's load when its "Comments" are opened.
  function itemPanels(kind, id, trigger) {
    let addresses = [];
    try {
      addresses = JSON.parse(panel.dataset[`panels${kind[0].toUpperCase()}${kind.slice(1)}`] || "[]");
    } catch (error) {
      addresses = [];
    }
    return addresses.map((address) =>
      h("div", { class: "item-panel", "hx-get": address.replace("{pk}", String(id)), "hx-trigger": trigger, "hx-swap": "outerHTML" }, h("p", { class: "muted", text: "Loading…" })),
    );
  }

  function initiativeComments(item) {
    const panels = itemPanels("initiative", item.id, "intersect once");
    return panels.length ? h("details", { class: "initiative-comments" }, h("summary", { text: "Comments" }), ...panels) : [];
  }

  panel.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !event.target.closest(".initiative-form, .comments")) {
      event.preventDefault();
      closePanel();
    }
  });

  function panelHeader(o) {
    return h(
      "div",
      { class: "panel-head" },
      h("h2", { tabindex: "-1", id: "panel-title", text: o.name }),
      h("button", { type: "button", class: "panel-close linklike", "aria-label": "Close details", text: "Close", onclick: () => closePanel() }),
    );
  }

  // "At risk · 72.5% in Oct 2026": the card's description and the panel's badge.
  function statusText(o) {
    const status = STATUS_SHAPES[o.status] ? o.status : "grey";
    const score = o.score_text ? ` · ${o.score_text}` : "";
    return `${STATUS_NAMES[status]}${score}${state.period ? ` in ${state.period.label}` : ""}`;
  }

  function statusBadge(o) {
    const status = STATUS_SHAPES[o.status] ? o.status : "grey";
    return h("span", { class: `badge status-${status}`, text: `${STATUS_SHAPES[status]} ${statusText(o)}` });
  }

  function linkLists(o, editable) {
    const out = state.map.links.filter((l) => l.source === o.id);
    const incoming = state.map.links.filter((l) => l.target === o.id);
    const item = (link, otherId, direction) =>
      h(
        "li",
        {},
        h("span", { text: objective(otherId).name }),
        editable
          ? h("button", {
              type: "button",
              class: "small secondary",
              "aria-label": direction === "out" ? `Remove arrow to ${objective(otherId).name}` : `Remove arrow from ${objective(otherId).name}`,
              text: "Remove",
              onclick: () => deleteLink(link.id),
            })
          : null,
      );
    const section = h(
      "section",
      { class: "panel-section", "aria-labelledby": "drives-title" },
      h("h3", { id: "drives-title", text: "Drives →" }),
      out.length
        ? h("ul", { class: "panel-list", role: "list" }, out.map((l) => item(l, l.target, "out")))
        : h("p", { class: "muted", text: "No arrows start here yet." }),
    );
    if (editable) {
      const taken = new Set(out.map((l) => l.target));
      const choices = state.map.objectives.filter((other) => other.id !== o.id && !taken.has(other.id));
      const select = h(
        "select",
        { id: "arrow-target" },
        h("option", { value: "", text: "Choose an objective…" }),
        choices.map((other) => h("option", { value: other.id, text: `${other.name} (${perspectiveName(other.perspective)})` })),
      );
      section.append(
        h(
          "div",
          { class: "field add-arrow" },
          h("label", { for: "arrow-target", text: "Add arrow to…" }),
          h(
            "div",
            { class: "row" },
            select,
            h("button", {
              type: "button",
              class: "small",
              text: "Add arrow",
              onclick: () => {
                if (!select.value) {
                  showMessage("Choose the objective the arrow should point to.");
                  select.focus();
                  return;
                }
                createLink(o.id, Number(select.value)).then((made) => {
                  if (made) panel.querySelector("#arrow-target")?.focus();
                });
              },
            }),
          ),
        ),
      );
    }
    if (incoming.length) {
      section.append(
        h("h3", { text: "← Driven by" }),
        h("ul", { class: "panel-list", role: "list" }, incoming.map((l) => item(l, l.source, "in"))),
      );
    }
    return section;
  }

  function kpiList(info) {
    const kpis = info.kpis || [];
    const kpiBase = state.mapBase.replace(/map\/$/, "kpis/");
    return h(
      "section",
      { class: "panel-section" },
      h("h3", { text: "KPIs" }),
      kpis.length && state.period && state.period.due_label && state.period.label !== state.period.due_label
        ? h("p", { class: "muted", text: `KPI statuses are for ${state.period.due_label}, the month now due.` })
        : null,
      kpis.length
        ? h(
            "ul",
            { class: "panel-list kpi-list", role: "list" },
            kpis.map((k) =>
              h(
                "li",
                {},
                h("span", { class: `badge status-${k.status}`, text: `${STATUS_SHAPES[k.status] || ""} ${STATUS_NAMES[k.status] || k.status}`.trim() }),
                " ",
                h("a", { href: `${kpiBase}${k.id}/`, text: `${k.code} · ${k.name}` }),
              ),
            ),
          )
        : h("p", { class: "muted", text: "No KPI measures this objective yet." }),
    );
  }

  function lineOfSight(info) {
    const sight = info.line_of_sight || { up: [], below: [] };
    const entry = (item) =>
      h("li", {}, h("a", { href: `${state.mapBase}${item.unit_id}/`, text: item.name }), h("span", { class: "muted", text: ` · ${item.unit}` }));
    return h(
      "section",
      { class: "panel-section" },
      h("h3", { text: "Line of sight" }),
      sight.up.length
        ? [h("p", { class: "sight-label", text: "Serves, up to the company map:" }), h("ol", { class: "sight-chain" }, sight.up.map(entry))]
        : h("p", { class: "muted", text: "Not aligned to a parent objective." }),
      sight.below.length
        ? [h("p", { class: "sight-label", text: "Aligned objectives below:" }), h("ul", { class: "panel-list sight-list", role: "list" }, sight.below.map(entry))]
        : h("p", { class: "muted", text: "No objective of a child unit is aligned to this one yet." }),
    );
  }

  function initiativeSummary(item) {
    const dates = [item.start, item.end].filter(Boolean).join(" → ");
    const status = INITIATIVE_STATUSES.find(([value]) => value === item.status);
    return [
      h("strong", { text: item.name }),
      h(
        "span",
        { class: "muted initiative-meta" },
        [status ? status[1] : item.status, `${item.progress}%`, item.owner_name, dates].filter(Boolean).join(" · "),
      ),
      h(
        "span",
        { class: "progress", role: "img", "aria-label": `${item.progress}% done` },
        h("span", { style: `width: ${item.progress}%` }),
      ),
    ];
  }

  function readOnlyPanel(o, info) {
    const row = (term, value) => [h("dt", { text: term }), h("dd", { text: value || "—" })];
    return [
      panelHeader(o),
      h("p", { class: "panel-sub" }, `${perspectiveName(o.perspective)} · `, statusBadge(o)),
      h(
        "dl",
        { class: "panel-facts" },
        row("Owner", o.owner_name),
        row("Weight", o.weight),
        row("Description", o.description),
        row("Aligned to", o.aligned_to_name),
      ),
      linkLists(o, false),
      h(
        "section",
        { class: "panel-section" },
        h("h3", { text: "Initiatives" }),
        info.initiatives.length
          ? h("ul", { class: "panel-list initiatives", role: "list" }, info.initiatives.map((item) => h("li", {}, initiativeSummary(item), initiativeComments(item))))
          : h("p", { class: "muted", text: "No initiatives yet." }),
      ),
      kpiList(info),
      lineOfSight(info),
    ];
  }

  function memberOptions(members, selected, emptyLabel) {
    return [
      h("option", { value: "", text: emptyLabel }),
      members.map((m) => h("option", { value: m.id, text: m.name, selected: m.id === selected })),
    ];
  }

  function editorPanel(o, info, members) {
    const id = o.id;
    const field = (label, control, hint) => {
      control.id = control.id || `objective-${label.toLowerCase().replace(/\W+/g, "-")}`;
      return h("div", { class: "field" }, h("label", { for: control.id, text: label }), control, hint ? h("span", { class: "help", text: hint }) : null);
    };
    const save = (changes) =>
      saveObjective(id, changes).then((data) => {
        if (!data) return;
        panel.querySelector("#panel-title").textContent = data.name;
        const status = panel.querySelector("#panel-status");
        if (status) status.textContent = "Saved.";
      });

    const nameControl = h("input", { type: "text", value: o.name, maxlength: 120, required: true });
    nameControl.addEventListener("change", () => save({ name: nameControl.value }));
    const ownerControl = h("select", {}, memberOptions(members, o.owner, "— nobody —"));
    ownerControl.addEventListener("change", () => save({ owner: ownerControl.value ? Number(ownerControl.value) : null }));
    const weightControl = h("input", { type: "number", value: o.weight, min: 0, step: "0.1", inputmode: "decimal" });
    weightControl.addEventListener("change", () => save({ weight: weightControl.value }));
    const descriptionControl = h("textarea", { rows: 3, maxlength: 4000 });
    descriptionControl.value = o.description || "";
    descriptionControl.addEventListener("change", () => save({ description: descriptionControl.value }));

    const form = h(
      "form",
      { class: "panel-form", onsubmit: (event) => event.preventDefault() },
      field("Name", nameControl),
      h("div", { class: "field-pair" }, field("Owner", ownerControl), field("Weight", weightControl)),
      field("Description", descriptionControl),
    );
    if (state.hasParent) {
      const alignControl = h(
        "select",
        {},
        h("option", { value: "", text: "— not aligned —" }),
        state.parentObjectives.map((p) => h("option", { value: p.id, text: p.name, selected: p.id === o.aligned_to })),
      );
      alignControl.addEventListener("change", () => save({ aligned_to: alignControl.value ? Number(alignControl.value) : null }));
      form.append(field("Aligned to", alignControl, "The parent unit's objective this one serves."));
    }
    form.append(h("p", { id: "panel-status", class: "panel-status muted", role: "status" }));

    return [
      panelHeader(o),
      h("p", { class: "panel-sub" }, `${perspectiveName(o.perspective)} · `, statusBadge(o)),
      form,
      linkLists(o, true),
      initiativesSection(o, info, members),
      kpiList(info),
      lineOfSight(info),
      h(
        "div",
        { class: "panel-danger" },
        h("button", { type: "button", class: "danger small", text: "Delete objective", onclick: () => deleteObjective(id) }),
      ),
    ];
  }

  function initiativesSection(o, info, members) {
    const section = h("section", { class: "panel-section" }, h("h3", { text: "Initiatives" }));
    const list = h("ul", { class: "panel-list initiatives", role: "list" });
    for (const item of info.initiatives) {
      const li = h("li", {}, initiativeSummary(item));
      li.append(
        h(
          "div",
          { class: "row" },
          h("button", {
            type: "button",
            class: "small secondary",
            "aria-label": `Edit initiative ${item.name}`,
            text: "Edit",
            onclick: () => li.replaceChildren(initiativeForm(o, members, item)),
          }),
          h("button", {
            type: "button",
            class: "small secondary",
            "aria-label": `Remove initiative ${item.name}`,
            text: "Remove",
            onclick: async () => {
              if (!window.confirm(`Remove the initiative “${item.name}”?`)) return;
              if (await write("DELETE", `initiatives/${item.id}/`, undefined, { versioned: false })) openPanel(o.id);
            },
          }),
        ),
        initiativeComments(item),
      );
      list.append(li);
    }
    if (info.initiatives.length) section.append(list);
    else section.append(h("p", { class: "muted", text: "No initiatives yet." }));
    const adder = h("details", { class: "initiative-add" }, h("summary", { text: "+ New initiative" }), initiativeForm(o, members, null));
    section.append(adder);
    return section;
  }

  let formCounter = 0;

  function initiativeForm(o, members, item) {
    const n = ++formCounter;
    const control = (label, node) => {
      node.id = `initiative-${n}-${label.toLowerCase()}`;
      return h("div", { class: "field" }, h("label", { for: node.id, text: label }), node);
    };
    const name = h("input", { type: "text", value: item ? item.name : "", maxlength: 160, required: true });
    const owner = h("select", {}, memberOptions(members, item ? item.owner : null, "— nobody —"));
    const start = h("input", { type: "date", value: item && item.start ? item.start : "" });
    const end = h("input", { type: "date", value: item && item.end ? item.end : "" });
    const status = h(
      "select",
      {},
      INITIATIVE_STATUSES.map(([value, label]) => h("option", { value, text: label, selected: item ? item.status === value : value === "planned" })),
    );
    const progress = h("input", { type: "number", min: 0, max: 100, step: 1, value: item ? item.progress : 0 });
    const form = h(
      "form",
      { class: "initiative-form", "aria-label": item ? `Edit initiative ${item.name}` : "New initiative" },
      control("Name", name),
      control("Owner", owner),
      h("div", { class: "field-pair" }, control("Start", start), control("End", end)),
      h("div", { class: "field-pair" }, control("Status", status), control("Progress", progress)),
      h(
        "div",
        { class: "row" },
        h("button", { type: "submit", class: "small", text: item ? "Save initiative" : "Add initiative" }),
        item ? h("button", { type: "button", class: "small secondary", text: "Cancel", onclick: () => openPanel(o.id) }) : null,
      ),
    );
    form.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && item) {
        event.preventDefault();
        openPanel(o.id);
      }
    });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const body = {
        name: name.value,
        owner: owner.value ? Number(owner.value) : null,
        start: start.value || null,
        end: end.value || null,
        status: status.value,
        progress: progress.value === "" ? 0 : Number(progress.value),
      };
      const data = item
        ? await write("PATCH", `initiatives/${item.id}/`, body, { versioned: false })
        : await write("POST", "initiatives/", { objective: o.id, ...body }, { versioned: false });
      if (data) {
        await openPanel(o.id);
        setStatus(`Initiative “${data.name}” saved.`);
      }
    });
    return form;
  }

  render();
  bindZoom();
  updateUndoButton();
})();
