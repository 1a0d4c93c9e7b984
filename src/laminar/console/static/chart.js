// Events/s, lag and processing time of a pipeline over the last 15 minutes (uPlot).
import uPlot from "./vendor/uPlot.esm.js";

export function createChart(parent) {
  const opts = {
    width: Math.max(parent.clientWidth || 520, 320),
    height: 200,
    series: [
      {},
      { label: "events/s", stroke: "#2f6fed", scale: "n" },
      { label: "lag ms", stroke: "#e08a00", scale: "ms" },
      { label: "processing ms", stroke: "#2e7d32", scale: "ms" },
    ],
    axes: [{}, { scale: "n" }, { scale: "ms", side: 1, grid: { show: false } }],
    scales: { x: { time: true } },
  };
  const plot = new uPlot(opts, [[], [], [], []], parent);
  return {
    plot,
    update(series) {
      plot.setData([
        series.map((p) => p.t),
        series.map((p) => p.events),
        series.map((p) => p.lag_ms),
        series.map((p) => p.processing_time_ms),
      ]);
    },
  };
}
