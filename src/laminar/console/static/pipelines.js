// The pipeline list and the selected pipeline: controls, graph, chart, live output, logs.
import { api, el, fillRows, fmtDuration, fmtNumber } from "./api.js";
import { createChart } from "./chart.js";

const $ = (id) => document.getElementById(id);
const MAX_ROWS = 200;
let selected = null;
let chart = null;
let tail = null;

export async function refreshPipelines() {
  const { pipelines } = await api("/pipelines");
  $("no-pipelines").hidden = pipelines.length > 0;
  const body = $("pipelines").querySelector("tbody");
  body.replaceChildren(...pipelines.map((p) => {
    const open = el("button", { onclick: () => select(p.id) }, "Open");
    const row = el("tr", { "data-id": p.id, class: p.id === selected ? "selected" : "" },
      el("td", {}, p.name), el("td", {}, el("span", { class: `badge ${p.state}` }, p.state)),
      el("td", {}, fmtNumber(p.events_per_second)), el("td", {}, fmtNumber(p.rows_per_second)),
      el("td", {}, p.lag_p50_ms === null ? "–" : `${fmtNumber(p.lag_p50_ms, 0)} ms`),
      el("td", {}, fmtDuration(p.uptime_s)), el("td", {}, p.rows_out), el("td", {}, open));
    return row;
  }));
  if (selected !== null) {
    const current = pipelines.find((p) => p.id === selected);
    if (current) showDetail(current); else closeDetail();
  }
}

export function select(id) {
  if (selected !== id) {
    closeTail();
    selected = id;
    $("output").querySelector("tbody").replaceChildren();
    openTail();
  }
  refreshPipelines();
  refreshDetail();
}

function closeDetail() {
  closeTail();
  selected = null;
  $("detail").hidden = true;
}

function showDetail(p) {
  $("detail").hidden = false;
  $("detail-name").textContent = p.name;
  const state = $("detail-state");
  state.textContent = p.state;
  state.className = `badge ${p.state}`;
  $("detail-sql").textContent = p.sql;
  $("detail-error").hidden = !p.error;
  $("detail-error").textContent = p.error || "";
  const info = [
    ["source table", p.table], ["sink", p.sink], ["connection", p.connection_status || "–"],
    ["last event id", p.last_event_id ?? "–"], ["committed Last-Event-ID", p.committed_event_id ?? "–"],
    ["de-duplication", `${p.dedup_entries ?? 0} keys held, ${p.events_deduplicated ?? 0} dropped`],
    ["window/group state", `${p.state_rows ?? 0} rows, ${p.state_bytes ?? 0} bytes`],
    ["restarts", p.restarts],
  ];
  $("source-info").replaceChildren(...info.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
}

export async function refreshDetail() {
  if (selected === null) return;
  const id = selected;
  const [graph, metrics, logs] = await Promise.all([
    api(`/pipelines/${id}/graph`), api(`/pipelines/${id}/metrics`), api(`/pipelines/${id}/logs`),
  ]).catch(() => [null, null, null]);
  if (graph === null || id !== selected) return;
  drawGraph(graph);
  if (chart === null) chart = createChart($("chart"));
  chart.update(metrics.series);
  $("chart").dataset.points = String(metrics.series.length);
  fillRows($("pipeline-logs").querySelector("tbody"),
    logs.logs.map((l) => [l.timestamp ?? "", l.level, l.message]));
}

function drawGraph({ nodes }) {
  const svg = $("graph");
  const ns = "http://www.w3.org/2000/svg";
  const width = 150, gap = 40;
  svg.setAttribute("width", String(nodes.length * (width + gap)));
  const parts = [];
  nodes.forEach((n, i) => {
    const x = i * (width + gap) + 2;
    const g = document.createElementNS(ns, "g");
    g.setAttribute("class", `graph-node ${n.kind}`);
    const rect = document.createElementNS(ns, "rect");
    Object.entries({ x, y: 10, width, height: 60, rx: 6, class: "node" })
      .forEach(([k, v]) => rect.setAttribute(k, String(v)));
    const label = document.createElementNS(ns, "text");
    label.setAttribute("x", String(x + 8)); label.setAttribute("y", "34");
    label.textContent = n.label.length > 22 ? `${n.label.slice(0, 21)}…` : n.label;
    const rate = document.createElementNS(ns, "text");
    rate.setAttribute("x", String(x + 8)); rate.setAttribute("y", "54");
    rate.textContent = n.kind === "sink" ? `${fmtNumber(n.rate)} rows/s · ${n.rows}` :
      n.rate !== null ? `${fmtNumber(n.rate)} ev/s` : n.detail ?? "";
    g.append(rect, label, rate);
    parts.push(g);
    if (i > 0) {
      const line = document.createElementNS(ns, "line");
      Object.entries({ x1: x - gap, y1: 40, x2: x, y2: 40 })
        .forEach(([k, v]) => line.setAttribute(k, String(v)));
      parts.push(line);
    }
  });
  svg.replaceChildren(...parts);
}

// -- live output: EventSource with pause (close) and resume (reopen after the last id) --------

let lastId = null;
let columns = [];
let received = 0;

function openTail() {
  const after = lastId === null ? "" : `?last_event_id=${lastId}`;
  tail = new EventSource(`/api/v1/pipelines/${selected}/output${after}`);
  tail.addEventListener("columns", (e) => {
    columns = JSON.parse(e.data);
    $("output").querySelector("thead").replaceChildren(
      el("tr", {}, ...columns.map((c) => el("th", {}, c))));
  });
  tail.addEventListener("message", (e) => {
    lastId = e.lastEventId;
    const rows = JSON.parse(e.data);
    received += rows.length;
    const body = $("output").querySelector("tbody");
    const fresh = rows.reverse().map((r) => el("tr", {}, ...columns.map((c) => el("td", {},
      typeof r[c] === "object" && r[c] !== null ? JSON.stringify(r[c]) : r[c]))));
    body.prepend(...fresh);
    while (body.rows.length > MAX_ROWS) body.deleteRow(body.rows.length - 1);
    $("tail-count").textContent = `${received} rows received`;
  });
  setTailState("live");
}

function closeTail() {
  if (tail !== null) tail.close();
  tail = null;
}

function setTailState(state) {
  const badge = $("tail-state");
  badge.textContent = state;
  badge.className = `badge ${state}`;
  $("pause").textContent = state === "paused" ? "Resume" : "Pause";
}

export function installPipelineControls() {
  $("pause").addEventListener("click", () => {
    if (tail !== null) { closeTail(); setTailState("paused"); } else { openTail(); }
  });
  const act = (path, body) => async () => {
    await api(`/pipelines/${selected}${path}`, { method: "POST", body });
    await refreshPipelines();
  };
  $("stop").addEventListener("click", act("/stop", {}));
  $("restart").addEventListener("click", act("/restart", { state: true }));
  $("restart-fresh").addEventListener("click", act("/restart", { state: false }));
  $("delete").addEventListener("click", async () => {
    await api(`/pipelines/${selected}`, { method: "DELETE" });
    closeDetail();
    await refreshPipelines();
  });
}

export function resetTail() {
  lastId = null;
  received = 0;
}
