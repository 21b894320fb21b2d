import { Resvg } from "@resvg/resvg-js";
import type * as VegaLite from "vega-lite";
import type { ConfusionMatrix } from "./agreement.js";

/** A Vega-Lite spec; typed loosely because charts are built here from plain objects. */
export type ChartSpec = Record<string, unknown>;

const FONT = "DejaVu Sans, Liberation Sans, Arial, Helvetica, sans-serif";
/** Axis and legend settings for counts of rows: whole-number ticks, never 0.5 of a row. */
const COUNT_GUIDE = { format: "d", tickMinStep: 1 };

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
      { mark: "rect", encoding: { color: { field: "count", type: "quantitative", scale: { scheme: "blues", domain: [0, max] }, title: "rows", legend: COUNT_GUIDE } } },
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

type LabelCount = { label: string; count: number };

/**
 * Judge and gold label counts. Whole-number scores and verdicts are categories, side by side. Gold
 * averaged over several raters is not a category (2.33 does not sit halfway between 2 and 3 as a
 * band would put it): then the scores stand on a number line, the judge's panel above gold's.
 */
export function distributionChart(judge: LabelCount[], gold: LabelCount[], title: string, axisTitle = "label"): ChartSpec {
  const all = [...gold, ...judge];
  const numeric = all.length > 0 && all.every((d) => d.label.trim() !== "" && Number.isFinite(Number(d.label)));
  if (numeric && all.some((d) => !Number.isInteger(Number(d.label)))) return scoreLineChart(judge, gold, title, axisTitle);
  const order = [...new Set(all.map((d) => d.label))].sort((a, b) => {
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
      y: { field: "count", type: "quantitative", title: "rows", axis: COUNT_GUIDE },
      color: { field: "source", type: "nominal", sort: ["judge", "gold"], scale: { range: ["#4c78a8", "#f58518"] }, title: null },
    },
    config: CONFIG,
  };
}

/** Counts on a quantitative score axis, one panel per side, bars as wide as the closest two values allow. */
function scoreLineChart(judge: LabelCount[], gold: LabelCount[], title: string, axisTitle: string): ChartSpec {
  const values = [...judge.map((d) => ({ score: Number(d.label), count: d.count, source: "judge" })), ...gold.map((d) => ({ score: Number(d.label), count: d.count, source: "gold" }))];
  const scores = [...new Set(values.map((v) => v.score))].sort((a, b) => a - b);
  const lo = Math.floor(scores[0] as number) - 0.5;
  const hi = Math.ceil(scores[scores.length - 1] as number) + 0.5;
  const width = Math.max(320, Math.min(640, (hi - lo) * 90));
  let gap = hi - lo;
  for (let i = 1; i < scores.length; i++) gap = Math.min(gap, (scores[i] as number) - (scores[i - 1] as number));
  const barWidth = Math.max(1.5, Math.min(36, 0.8 * gap * (width / (hi - lo))));
  const wholeTicks = hi - lo <= 21 ? { values: Array.from({ length: Math.round(hi - lo) }, (_, i) => lo + 0.5 + i) } : {};
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title,
    data: { values },
    facet: { row: { field: "source", type: "nominal", sort: ["judge", "gold"], title: null, header: { labelAngle: 0, labelAlign: "left", labelFontSize: 12 } } },
    spec: {
      width,
      height: 110,
      mark: { type: "bar", width: barWidth },
      encoding: {
        x: { field: "score", type: "quantitative", title: axisTitle, scale: { domain: [lo, hi], nice: false, zero: false }, axis: { ...wholeTicks, format: "~g" } },
        y: { field: "count", type: "quantitative", title: "rows", axis: COUNT_GUIDE },
        color: { field: "source", type: "nominal", sort: ["judge", "gold"], scale: { range: ["#4c78a8", "#f58518"] }, legend: null },
      },
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

const PNG_ZOOM = 2;
/** Blank kept around the drawing, in SVG units (vega's own padding). */
const PNG_MARGIN = 5;

function rasterise(svg: string): { width: number; height: number; pixels: Buffer; png: () => Buffer } {
  const image = new Resvg(svg, {
    fitTo: { mode: "zoom", value: PNG_ZOOM },
    background: "white",
    font: { loadSystemFonts: true, defaultFontFamily: "DejaVu Sans", sansSerifFamily: "DejaVu Sans" },
  }).render();
  return { width: image.width, height: image.height, pixels: image.pixels, png: () => image.asPng() };
}

/**
 * PNG of an SVG at twice its size, cut to what is drawn. Vega sizes a chart by guessing text widths
 * (0.8 em a character, bold or not) and leaves the guess's surplus as blank canvas, up to half the
 * image under a long title; the real text, drawn here, tells where the chart ends. Text needs a
 * system font (DejaVu on Debian).
 */
export function svgToPng(svg: string): Buffer {
  const full = rasterise(svg);
  const box = inkBox(full.width, full.height, full.pixels);
  const root = /^<svg\b[^>]*?\swidth="([\d.]+)"\s+height="([\d.]+)"\s+viewBox="([-\d.]+) ([-\d.]+) [\d.]+ [\d.]+"/.exec(svg);
  if (!box || !root) return full.png();
  const [x0, y0] = [Number(root[3]), Number(root[4])];
  const left = Math.max(0, Math.floor(box.x0 / PNG_ZOOM) - PNG_MARGIN);
  const top = Math.max(0, Math.floor(box.y0 / PNG_ZOOM) - PNG_MARGIN);
  const right = Math.min(Number(root[1]), Math.ceil((box.x1 + 1) / PNG_ZOOM) + PNG_MARGIN);
  const bottom = Math.min(Number(root[2]), Math.ceil((box.y1 + 1) / PNG_ZOOM) + PNG_MARGIN);
  const [width, height] = [right - left, bottom - top];
  const cropped = svg.replace(root[0], root[0].replace(/width="[\d.]+"/, `width="${width}"`).replace(/height="[\d.]+"/, `height="${height}"`).replace(/viewBox="[^"]*"/, `viewBox="${x0 + left} ${y0 + top} ${width} ${height}"`));
  return rasterise(cropped).png();
}

/** Bounds of the pixels that are not white, or undefined for a blank image. */
function inkBox(width: number, height: number, rgba: Buffer): { x0: number; y0: number; x1: number; y1: number } | undefined {
  let x0 = width, y0 = height, x1 = -1, y1 = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      if ((rgba[i] as number) > 250 && (rgba[i + 1] as number) > 250 && (rgba[i + 2] as number) > 250) continue;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
    }
  }
  return x1 < 0 ? undefined : { x0, y0, x1, y1 };
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
          size: { field: "n", type: "quantitative", title: "rows", scale: { range: [30, 400] }, legend: COUNT_GUIDE },
        },
      },
    ],
    config: CONFIG,
  };
}

/** Accuracy against coverage when the judge abstains below a confidence threshold. */
export function coverageChart(points: Array<{ threshold: number; coverage: number; accuracy: number | null }>, title: string): ChartSpec {
  const answered = points.filter((p) => p.accuracy !== null);
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title,
    width: 300,
    height: 220,
    data: { values: answered },
    mark: { type: "line", point: { color: "#f58518" }, color: "#f58518" },
    encoding: {
      x: { field: "coverage", type: "quantitative", scale: { domain: [0, 1] }, title: "coverage (share answered)" },
      y: { field: "accuracy", type: "quantitative", scale: { domain: accuracyDomain(answered.map((p) => p.accuracy as number)), nice: false }, title: "accuracy", axis: { format: ".2f" } },
      tooltip: [{ field: "threshold" }, { field: "coverage" }, { field: "accuracy" }],
    },
    config: CONFIG,
  };
}

/**
 * The accuracy axis: the tenths around the values, so close accuracies stay apart and a single point
 * still gets an axis with ticks (vega-lite gives one value a zero-width domain, labelled 0.250000).
 */
function accuracyDomain(values: number[]): [number, number] {
  if (values.length === 0) return [0, 1];
  // In whole tenths: 0.9 - 0.8 is 0.09999999999999998 in floating point.
  let lo = Math.floor(Math.min(...values) * 10);
  let hi = Math.ceil(Math.max(...values) * 10);
  if (hi === lo) {
    lo = Math.max(0, lo - 1);
    hi = Math.min(10, hi + 1);
  }
  return [lo / 10, hi / 10];
}
