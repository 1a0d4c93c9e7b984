// The console page: views, the editor's actions, the source probe, catalog and logs.
import { api, el, fillRows } from "./api.js";
import { createEditor } from "./editor.js";
import {
  installPipelineControls, refreshDetail, refreshPipelines, resetTail, select,
} from "./pipelines.js";

const $ = (id) => document.getElementById(id);
const EXAMPLE = "-- Inspect a source to create its table, then query it, e.g.\n" +
  "-- SELECT symbol, price FROM stocks WHERE price > 100\n";
let editor = null;

function show(view) {
  for (const button of document.querySelectorAll("nav button")) {
    button.classList.toggle("active", button.dataset.view === view);
  }
  for (const section of document.querySelectorAll(".view")) {
    section.hidden = section.id !== `view-${view}`;
  }
  if (view === "catalog") refreshCatalog();
  if (view === "logs") refreshLogs();
  if (view === "editor") refreshSchema();
}

async function refreshSchema() {
  const { relations } = await api("/catalog");
  editor.setSchema(relations);
}

async function refreshCatalog() {
  const { tables, views, connections } = await api("/catalog");
  fillRows($("catalog-tables").querySelector("tbody"),
    tables.map((t) => [t.name, t.connector, t.columns, JSON.stringify(t.options)]));
  fillRows($("catalog-views").querySelector("tbody"), views.map((v) => [v.name, v.sql]));
  fillRows($("catalog-connections").querySelector("tbody"),
    connections.map((c) => [c.name, c.endpoint, JSON.stringify(c.options)]));
}

async function refreshLogs() {
  const { logs } = await api("/logs");
  fillRows($("logs").querySelector("tbody"),
    logs.map((l) => [l.timestamp, l.level, l.table_name ?? "", l.message]));
}

function showError(box, error) {
  box.hidden = !error;
  box.textContent = error
    ? (error.line ? `line ${error.line}, column ${error.column}: ` : "") + error.message
    : "";
}

async function createPipeline() {
  showError($("editor-error"), null);
  try {
    const name = $("pipeline-name").value.trim() || undefined;
    const { pipeline } = await api("/pipelines", { method: "POST", body: { sql: editor.text(), name } });
    resetTail();
    show("pipelines");
    select(pipeline.id);
  } catch (e) {
    showError($("editor-error"), e);
  }
}

async function runStatements() {
  showError($("editor-error"), null);
  try {
    const { results } = await api("/sql", { method: "POST", body: { sql: editor.text() } });
    $("sql-results").replaceChildren(...results.map((r) => r.columns
      ? el("table", { class: "grid" }, el("tr", {}, ...r.columns.map((c) => el("th", {}, c))),
        ...r.rows.map((row) => el("tr", {}, ...row.map((v) => el("td", {}, v)))))
      : el("p", {}, r.message)));
    refreshSchema();
  } catch (e) {
    showError($("editor-error"), e);
  }
}

async function validateNow() {
  const { valid, errors } = await api("/validate", { method: "POST", body: { sql: editor.text() } });
  $("editor-status").textContent = valid ? "valid" : "";
  showError($("editor-error"), valid ? null : { ...errors[0], message: errors[0].error });
}

async function probe(event) {
  event.preventDefault();
  showError($("probe-error"), null);
  $("probe-result").hidden = true;
  $("probe-run").disabled = true;
  $("probe-status").textContent = "";
  try {
    const token = $("probe-token").value.trim();
    const report = await api("/probe", { method: "POST", body: {
      url: $("probe-url").value, seconds: Number($("probe-seconds").value),
      table: $("probe-table").value.trim() || undefined,
      options: token ? { token } : {},  // the DDL names ${SSE_TOKEN}, never the token
    } });
    $("probe-summary").textContent = `${report.events} events in ${report.seconds} s ` +
      `(${report.rate}/s); ids: ${report.ids.kind}` +
      (report.retry.length ? `; retry ${report.retry.join(", ")} ms` : "");
    fillRows($("probe-types").querySelector("tbody"),
      Object.entries(report.event_types).map(([t, n]) => [t, `${n} events`]));
    $("probe-ddl").textContent = report.ddl;
    $("probe-examples").textContent = Object.entries(report.examples)
      .map(([t, xs]) => xs.map((x) => `${t}: ${x}`).join("\n")).join("\n");
    $("probe-result").hidden = false;
  } catch (e) {
    showError($("probe-error"), e);
  } finally {
    $("probe-run").disabled = false;
  }
}

async function createProbedTable() {
  try {
    const { results } = await api("/sql", { method: "POST", body: { sql: $("probe-ddl").textContent } });
    $("probe-status").textContent = results.map((r) => r.message).join("; ");
  } catch (e) {
    showError($("probe-error"), e);
  }
}

async function refreshHealth() {
  const health = await api("/health").catch(() => ({ status: "unreachable" }));
  const badge = $("health");
  badge.textContent = health.status;
  badge.className = `badge ${health.status}`;
}

function start() {
  editor = createEditor($("editor"), EXAMPLE);
  for (const button of document.querySelectorAll("nav button")) {
    button.addEventListener("click", () => show(button.dataset.view));
  }
  $("create-pipeline").addEventListener("click", createPipeline);
  $("run-sql").addEventListener("click", runStatements);
  $("validate").addEventListener("click", validateNow);
  $("probe-form").addEventListener("submit", probe);
  $("probe-create").addEventListener("click", createProbedTable);
  $("probe-edit").addEventListener("click", () => {
    editor.setText($("probe-ddl").textContent);
    show("editor");
  });
  installPipelineControls();
  const tick = () => Promise.all([refreshPipelines(), refreshHealth()]).catch(() => {});
  tick();
  setInterval(tick, 1000);
  setInterval(() => refreshDetail().catch(() => {}), 2000);
  document.body.dataset.ready = "true";
}

start();
