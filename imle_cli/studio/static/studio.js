// imle-cli studio: the page. Every computation is the server's (the CLI's own core); this draws
// the map and the gold, sends the annotation and the settings, and shows what comes back.
"use strict";

const state = { map: null, waypoints: [], start: null, end: null, gold: null, history: [], future: [],
                dragging: null, hover: null, stroke: null, exploreTimer: null, learning: null };
const $ = (id) => document.getElementById(id);

async function api(path, options = {}) {
  const response = await fetch(path, { credentials: "same-origin", ...options });
  const type = response.headers.get("content-type") || "";
  const data = type.includes("json") ? await response.json() : await response.blob();
  if (!response.ok) throw new Error(data.error || `HTTP ${response.status}`);
  return data;
}
const post = (path, body) => api(path, { method: "POST", headers: { "Content-Type": "application/json" },
                                         body: JSON.stringify(body) });

// ---- the map: cell (r, c) fills [c, c + 1) x [r, r + 1) of the grid, the canvas box spans the grid
function layout() {
  const { rows, cols } = state.map;
  const scale = Math.max(1, Math.floor(512 / Math.max(rows, cols)));
  const canvas = $("map");
  canvas.width = cols * scale; canvas.height = rows * scale;
  canvas.style.width = `${cols * scale}px`; canvas.style.height = `${rows * scale}px`;
  state.scale = scale;
}

function cellAt(event) {
  const box = $("map").getBoundingClientRect();
  const { rows, cols } = state.map;
  const c = Math.floor((event.clientX - box.left) / box.width * cols);
  const r = Math.floor((event.clientY - box.top) / box.height * rows);
  return (r >= 0 && r < rows && c >= 0 && c < cols) ? [r, c] : null;
}

function colour(level) { const [r, g, b] = state.map.colours[level]; return `rgb(${r},${g},${b})`; }

function draw() {
  const canvas = $("map"), ctx = canvas.getContext("2d"), s = state.scale, m = state.map;
  for (let r = 0; r < m.rows; r++) for (let c = 0; c < m.cols; c++) {
    ctx.fillStyle = colour(m.levels[r][c]); ctx.fillRect(c * s, r * s, s, s);
  }
  const centre = ([r, c]) => [(c + 0.5) * s, (r + 0.5) * s];
  if (state.gold) {
    ctx.strokeStyle = "rgb(31,119,180)"; ctx.lineWidth = Math.max(1.5, s / 4); ctx.beginPath();
    state.gold.cells.forEach((cell, i) => { const [x, y] = centre(cell); i ? ctx.lineTo(x, y) : ctx.moveTo(x, y); });
    ctx.stroke();
  }
  if (state.stroke) {
    ctx.strokeStyle = "rgba(120,120,120,0.8)"; ctx.lineWidth = Math.max(2, s / 2); ctx.beginPath();
    state.stroke.forEach(([r, c], i) => { const x = c * s, y = r * s; i ? ctx.lineTo(x, y) : ctx.moveTo(x, y); });
    ctx.stroke();
  }
  const ring = (cell, style) => {
    const [x, y] = centre(cell); ctx.strokeStyle = style; ctx.lineWidth = 2; ctx.beginPath();
    ctx.arc(x, y, Math.max(5, s * 0.7), 0, 2 * Math.PI); ctx.stroke();
  };
  state.waypoints.forEach((cell) => ring(cell, "rgb(214,39,40)"));
  if (state.gold) { ring(state.gold.start, "rgb(20,20,20)"); ring(state.gold.end, "rgb(20,20,20)"); }
}

function drawBar() {
  const bar = $("bar"), ctx = bar.getContext("2d"), n = state.map.colours.length;
  for (let y = 0; y < bar.height; y++) {
    ctx.fillStyle = colour(Math.round((1 - y / (bar.height - 1)) * (n - 1))); ctx.fillRect(0, y, bar.width, 1);
  }
  $("bar-max").textContent = +state.map.vmax.toPrecision(3); $("bar-min").textContent = +state.map.vmin.toPrecision(3);
  $("bar-label").textContent = state.map.label;
}

// ---- the gold: the server's annotate --via for the waypoints and ends
function snapshot() { return JSON.stringify([state.waypoints, state.start, state.end]); }
function remember() { state.history.push(snapshot()); state.future = []; }
function restore(text) { [state.waypoints, state.start, state.end] = JSON.parse(text); }
// the waypoints and ends the server found for a gold it was given (--gold) or drew: editable as clicked ones
function takeRequest(request) {
  state.waypoints = request.waypoints.map((cell) => cell.slice());
  state.start = request.start || null; state.end = request.end || null;
}

async function updateGold() {
  const request = { waypoints: state.waypoints, start: state.start, end: state.end };
  try {
    showGold(await post("api/gold", request));
    $("gold-error").textContent = "";
    scheduleExplore();
  } catch (error) { $("gold-error").textContent = error.message; draw(); }
}

function showGold(gold) {
  state.gold = gold;
  $("gold-info").textContent = `gold path: ${gold.length} cells from (${gold.start}) to (${gold.end})`;
  $("annotate-command").textContent = gold.command;
  draw();
}

function nearWaypoint(cell) {
  return state.waypoints.findIndex(([r, c]) => Math.max(Math.abs(r - cell[0]), Math.abs(c - cell[1])) <= 0);
}

function onDown(event) {
  const cell = cellAt(event); if (!cell) return;
  const mode = document.querySelector("input[name=mode]:checked").value;
  if (mode === "draw") { state.stroke = [pointAt(event)]; return; }
  const index = nearWaypoint(cell);
  if (mode === "waypoint" && index >= 0) {
    if (event.shiftKey) { remember(); state.waypoints.splice(index, 1); updateGold(); return; }
    state.dragging = { index, moved: false, before: snapshot() }; return;
  }
  remember();
  if (mode === "start") state.start = cell; else if (mode === "end") state.end = cell;
  else state.waypoints.push(cell);
  updateGold();
}

function pointAt(event) {
  const box = $("map").getBoundingClientRect();
  return [(event.clientY - box.top) / box.height * state.map.rows, (event.clientX - box.left) / box.width * state.map.cols];
}

function onMove(event) {
  const cell = cellAt(event);
  state.hover = cell;
  if (cell) $("hover").textContent = `row ${cell[0]}, column ${cell[1]}: cost ${state.map.costs[cell[0]][cell[1]]}`;
  if (state.stroke) { state.stroke.push(pointAt(event)); draw(); return; }
  if (state.dragging && cell) {
    const old = state.waypoints[state.dragging.index];
    if (old[0] !== cell[0] || old[1] !== cell[1]) {
      state.waypoints[state.dragging.index] = cell; state.dragging.moved = true; updateGold();
    }
  }
}

async function onUp() {
  if (state.dragging) {
    if (state.dragging.moved) { state.history.push(state.dragging.before); state.future = []; }
    state.dragging = null;
  }
  if (state.stroke) {
    const points = state.stroke; state.stroke = null;
    try {
      const drawn = await post("api/drawing", { points });
      remember(); takeRequest(drawn.request); showGold(drawn);
      $("gold-error").textContent = ""; scheduleExplore();
    } catch (error) { $("gold-error").textContent = error.message; draw(); }
  }
}

function undo() { if (!state.history.length) return; state.future.push(snapshot()); restore(state.history.pop()); updateGold(); }
function redo() { if (!state.future.length) return; state.history.push(snapshot()); restore(state.future.pop()); updateGold(); }

// ---- explore: only the newest settings are computed (the server drops the rest)
function settings() {
  const form = $("settings"), values = {};
  for (const element of form.elements) {
    if (!element.name) continue;
    values[element.name] = element.type === "range" || element.type === "number" ? Number(element.value) : element.value;
    if (element.nextElementSibling && element.nextElementSibling.tagName === "OUTPUT")
      element.nextElementSibling.textContent = element.value;
  }
  return values;
}

function scheduleExplore() { clearTimeout(state.exploreTimer); state.exploreTimer = setTimeout(explore, 30); }

async function explore() {
  $("status").textContent = "computing…";
  try {
    const sent = { settings: settings(), gold: state.gold ? state.gold.command : "" };
    const result = await post("api/explore", { settings: sent.settings });
    if (result.superseded) return;
    for (const [name, source] of Object.entries(result.panels)) $(`panel-${name}`).src = source;
    $("panel-mechanism").closest("figure").hidden = !result.panels.mechanism;
    const n = result.numbers;
    $("numbers").textContent = `mean gradient: ${n.cheaper} cells cheaper, ${n.dearer} dearer; ` +
      `${Math.round(n.share_on_unperturbed * 100)}% of draws are the unperturbed path (k = ${n.k})`;
    $("explore-command").textContent = [result.commands.sample, result.commands.gradients].filter(Boolean).join("\n");
    $("explore-error").textContent = ""; $("status").textContent = "";
    document.body.dataset.explored = String(Number(document.body.dataset.explored || 0) + 1);
    document.body.dataset.exploredFor = JSON.stringify(sent);  // what the panels now show (tests wait on it)
  } catch (error) { $("explore-error").textContent = error.message; $("status").textContent = ""; }
}

async function exportFigure(event) {
  const figure = event.target.dataset.figure, format = $("export-format").value;
  try {
    const blob = await post("api/export", { figure, format, settings: settings() });
    const link = document.createElement("a");
    link.href = URL.createObjectURL(blob); link.download = `${figure}.${format}`; link.click();
  } catch (error) { $("explore-error").textContent = error.message; }
}

// ---- learn: snapshots stream in as server-sent events
function learn() {
  const values = { ...settings(), steps: Number($("steps").value) };
  const source = new EventSource(`api/learn?settings=${encodeURIComponent(JSON.stringify(values))}`);
  state.learning = source; $("learn-start").disabled = true; $("learn-stop").disabled = false;
  const finish = (text) => { source.close(); state.learning = null; $("learn-start").disabled = false;
                             $("learn-stop").disabled = true; $("learn-status").textContent = text; };
  source.addEventListener("snapshot", (event) => {
    const message = JSON.parse(event.data);
    drawLearned(message); drawLoss(message.losses);
    $("learn-status").textContent = `step ${message.step}${message.on_gold ? ": the learned path is the gold" : ""}`;
  });
  source.addEventListener("done", (event) => {
    const done = JSON.parse(event.data);
    $("learn-command").textContent = done.command;
    finish(done.reached === null ? `stopped after ${done.steps} steps, ${done.final_distance} cells from the gold`
                                 : `learned the gold at step ${done.reached} (stopped at step ${done.steps})`);
  });
  source.addEventListener("error", (event) => {
    finish(event.data ? JSON.parse(event.data).error : "the learning run ended");
  });
}

function drawLearned(message) {
  const canvas = $("learned"), ctx = canvas.getContext("2d"), m = state.map;
  const s = Math.max(1, Math.floor(256 / Math.max(m.rows, m.cols)));
  canvas.width = m.cols * s; canvas.height = m.rows * s;
  let low = Infinity, high = -Infinity;
  message.costs.forEach((row) => row.forEach((v) => { low = Math.min(low, v); high = Math.max(high, v); }));
  const gold = new Set(state.gold ? state.gold.cells.map(String) : []);
  for (let r = 0; r < m.rows; r++) for (let c = 0; c < m.cols; c++) {
    const level = Math.round((message.costs[r][c] - low) / Math.max(high - low, 1e-12) * (m.colours.length - 1));
    ctx.fillStyle = colour(level); ctx.fillRect(c * s, r * s, s, s);
    if (gold.has(String([r, c]))) { ctx.fillStyle = "rgba(128,128,128,0.6)"; ctx.fillRect(c * s, r * s, s, s); }
    if (message.path[r][c]) { ctx.fillStyle = "rgb(214,39,40)"; ctx.fillRect(c * s + s / 4, r * s + s / 4, s / 2, s / 2); }
  }
}

function drawLoss(losses) {
  const canvas = $("loss"), ctx = canvas.getContext("2d");
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  if (!losses.length) return;
  const high = Math.max(...losses, 1e-9);
  ctx.strokeStyle = "rgb(31,119,180)"; ctx.beginPath();
  losses.forEach((v, i) => { const x = i / Math.max(losses.length - 1, 1) * (canvas.width - 10) + 5;
                             const y = canvas.height - 5 - v / high * (canvas.height - 20);
                             i ? ctx.lineTo(x, y) : ctx.moveTo(x, y); });
  ctx.stroke(); ctx.fillStyle = "#333"; ctx.fillText(`training loss (max ${high.toFixed(1)})`, 8, 12);
}

// ---- another map: uploaded, read by the CLI's loaders
async function upload(file) {
  try {
    const data = await api(`api/map?name=${encodeURIComponent(file.name)}`, { method: "POST", body: file });
    state.waypoints = []; state.start = state.end = null; state.history = []; state.future = [];
    openMap(data);
  } catch (error) { $("gold-error").textContent = error.message; }
}

function openMap(data) {
  state.map = data; $("map-name").textContent = `${data.name}: ${data.rows}x${data.cols} cells`;
  takeRequest(data.gold.request);  // a gold given with --gold: its waypoints and ends
  layout(); drawBar(); showGold(data.gold); scheduleExplore();
}

async function main() {
  const estimators = ["imle", "aimle", "imle-two-sided", "blackbox", "perturbed", "straight-through", "score-function"];
  $("estimator").innerHTML = estimators.map((name) => `<option>${name}</option>`).join("");
  const canvas = $("map");
  canvas.addEventListener("mousedown", onDown); canvas.addEventListener("mousemove", onMove);
  window.addEventListener("mouseup", onUp);
  document.addEventListener("keydown", (event) => {
    if ((event.ctrlKey || event.metaKey) && event.key === "z") { event.preventDefault(); undo(); }
    else if ((event.ctrlKey || event.metaKey) && event.key === "y") { event.preventDefault(); redo(); }
    else if ((event.key === "Delete" || event.key === "Backspace") && state.hover) {
      const index = nearWaypoint(state.hover);
      if (index >= 0) { remember(); state.waypoints.splice(index, 1); updateGold(); }
    }
  });
  $("undo").onclick = undo; $("redo").onclick = redo;
  $("clear").onclick = () => { remember(); state.waypoints = []; state.start = state.end = null; updateGold(); };
  $("settings").addEventListener("input", scheduleExplore);
  document.querySelectorAll("button[data-figure]").forEach((b) => b.addEventListener("click", exportFigure));
  $("learn-start").onclick = learn;
  $("learn-stop").onclick = () => post("api/learn/stop", {});
  $("upload").addEventListener("change", (event) => event.target.files[0] && upload(event.target.files[0]));
  const main = document.querySelector("main");
  main.addEventListener("dragover", (event) => { event.preventDefault(); main.classList.add("dragging"); });
  main.addEventListener("dragleave", () => main.classList.remove("dragging"));
  main.addEventListener("drop", (event) => { event.preventDefault(); main.classList.remove("dragging");
                                            if (event.dataTransfer.files[0]) upload(event.dataTransfer.files[0]); });
  settings();
  openMap(await api("api/map"));
  document.body.dataset.ready = "true";
}

main().catch((error) => { $("gold-error").textContent = error.message; });
