import { Resvg } from "@resvg/resvg-js";
import type * as VegaLite from "vega-lite";
import type { ConfusionMatrix } from "./agreement.js";

/** A Vega-Lite spec; typed loosely because charts are built here from plain objects. */
export type ChartSpec = Record<string, unknown>;

const FONT = "DejaVu Sans, Liberation Sans, Arial, Helvetica, sans-serif";
const CONFIG = {
  font: FONT,
  view: { stroke: null },
  axis: { labelFontSize: 11, titleFontSize: 12 },
  legend: { labelFontSize: 11, titleFontSize: 12 },
  title: { fontSize: 14, anchor: "start" },
};

/** Confusion matrix heatmap: gold down, judge across, counts in the cells. */
export function confusionChart(matrix: ConfusionMatrix, title: string): ChartSpec {
  const labels = matrix.labels.map(String);
  const values = matrix.counts.flatMap((row, i) => row.map((count, j) => ({ gold: labels[i], judge: labels[j], count })));
  const max = Math.max(1, ...values.map((v) => v.count));
  const side = Math.max(160, Math.min(420, labels.length * 44));
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title,
    width: side,
    height: side,
    data: { values },
    encoding: {
      x: { field: "judge", type: "ordinal", sort: labels, title: "judge", axis: { labelAngle: 0 } },
      y: { field: "gold", type: "ordinal", sort: labels, title: "gold" },
    },
    layer: [
      { mark: "rect", encoding: { color: { field: "count", type: "quantitative", scale: { scheme: "blues", domain: [0, max] }, title: "rows" } } },
      {
        mark: { type: "text", fontSize: 11 },
        encoding: {
          text: { field: "count", type: "quantitative" },
          color: { condition: { test: `datum.count > ${max / 2}`, value: "white" }, value: "black" },
        },
      },
    ],
    config: CONFIG,
  };
}

/** Judge and gold label counts side by side. */
export function distributionChart(
  judge: Array<{ label: string; count: number }>,
  gold: Array<{ label: string; count: number }>,
  title: string,
  axisTitle = "label",
): ChartSpec {
  const order = [...new Set([...gold, ...judge].map((d) => d.label))].sort((a, b) => {
    const na = Number(a), nb = Number(b);
    return Number.isNaN(na) || Number.isNaN(nb) ? a.localeCompare(b) : na - nb;
  });
  const values = [...judge.map((d) => ({ ...d, source: "judge" })), ...gold.map((d) => ({ ...d, source: "gold" }))];
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title,
    width: Math.max(220, order.length * 36),
    height: 200,
    data: { values },
    mark: "bar",
    encoding: {
      x: { field: "label", type: "ordinal", sort: order, title: axisTitle, axis: { labelAngle: 0, labelLimit: 0 } },
      xOffset: { field: "source", sort: ["judge", "gold"] },
      y: { field: "count", type: "quantitative", title: "rows" },
      color: { field: "source", type: "nominal", sort: ["judge", "gold"], scale: { range: ["#4c78a8", "#f58518"] }, title: null },
    },
    config: CONFIG,
  };
}

/** One bar per category with its confidence interval (for --by breakdowns and judge comparisons). */
export function intervalBarChart(rows: Array<{ label: string; value: number; lo?: number; hi?: number }>, metric: string, title: string): ChartSpec {
  const values = rows.map((r) => ({ ...r, lo: r.lo ?? r.value, hi: r.hi ?? r.value }));
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title,
    width: 360,
    height: Math.max(60, rows.length * 22),
    data: { values },
    // No label limit: long category names cut to the same prefix would read as one category.
    encoding: { y: { field: "label", type: "nominal", sort: null, title: null, axis: { labelLimit: 0 } } },
    layer: [
      { mark: { type: "bar", color: "#4c78a8" }, encoding: { x: { field: "value", type: "quantitative", title: metric } } },
      { mark: { type: "rule", color: "black" }, encoding: { x: { field: "lo", type: "quantitative" }, x2: { field: "hi" } } },
    ],
    config: CONFIG,
  };
}

export async function renderSvg(spec: ChartSpec): Promise<string> {
  // Loaded on the first chart: vega and vega-lite took half a second of every command's start-up.
  const [vega, vl] = await Promise.all([import("vega"), import("vega-lite")]);
  const compiled = vl.compile(spec as unknown as VegaLite.TopLevelSpec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** PNG of an SVG at twice its size; text needs a system font (DejaVu on Debian). */
export function svgToPng(svg: string): Buffer {
  const resvg = new Resvg(svg, {
    fitTo: { mode: "zoom", value: 2 },
    background: "white",
    font: { loadSystemFonts: true, defaultFontFamily: "DejaVu Sans", sansSerifFamily: "DejaVu Sans" },
  });
  return resvg.render().asPng();
}

/** Reliability diagram: accuracy against mean confidence per bin, with the diagonal of perfect calibration. */
export function reliabilityChart(bins: Array<{ confidence: number; accuracy: number; n: number }>, title: string): ChartSpec {
  const scale = { domain: [0, 1] };
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title,
    width: 300,
    height: 300,
    layer: [
      {
        data: { values: [{ x: 0, y: 0 }, { x: 1, y: 1 }] },
        mark: { type: "line", color: "#999", strokeDash: [4, 4] },
        encoding: { x: { field: "x", type: "quantitative", scale, title: "confidence" }, y: { field: "y", type: "quantitative", scale, title: "accuracy" } },
      },
      {
        data: { values: bins },
        mark: { type: "line", color: "#4c78a8" },
        encoding: { x: { field: "confidence", type: "quantitative", scale }, y: { field: "accuracy", type: "quantitative", scale } },
      },
      {
        // One point per bin, its area the bin's row count.
        data: { values: bins },
        mark: { type: "circle", color: "#4c78a8", opacity: 0.9 },
        encoding: {
          x: { field: "confidence", type: "quantitative", scale },
          y: { field: "accuracy", type: "quantitative", scale },
          size: { field: "n", type: "quantitative", title: "rows", scale: { range: [30, 400] } },
        },
      },
    ],
    config: CONFIG,
  };
}

/** Accuracy against coverage when the judge abstains below a confidence threshold. */
export function coverageChart(points: Array<{ threshold: number; coverage: number; accuracy: number | null }>, title: string): ChartSpec {
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title,
    width: 300,
    height: 220,
    data: { values: points.filter((p) => p.accuracy !== null) },
    mark: { type: "line", point: true, color: "#f58518" },
    encoding: {
      x: { field: "coverage", type: "quantitative", scale: { domain: [0, 1] }, title: "coverage (share answered)" },
      y: { field: "accuracy", type: "quantitative", scale: { zero: false }, title: "accuracy" },
      tooltip: [{ field: "threshold" }, { field: "coverage" }, { field: "accuracy" }],
    },
    config: CONFIG,
  };
}
