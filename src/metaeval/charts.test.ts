import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { blankMargins, decodePng } from "../../test/support/png.js";
import { confusionChart, coverageChart, distributionChart, intervalBarChart, reliabilityChart, renderSvg, svgToPng } from "./charts.js";

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

const texts = (svg: string) => [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]!);
const numerals = (svg: string) => texts(svg).filter((t) => /^-?[0-9.]+$/.test(t));
/** The SVG from the legend on (vega draws legends after the marks). */
const legendOf = (svg: string) => svg.slice(svg.indexOf("role-legend"));
/** Tick labels of one axis: from its group up to its title. */
function axisLabels(svg: string, axis: "X" | "Y"): string[] {
  const start = svg.indexOf(`aria-label="${axis}-axis`);
  return start < 0 ? [] : texts(svg.slice(start, svg.indexOf("role-axis-title", start)));
}
/** Centre x of each bar, by the bar's aria-label ("score: 2.33; rows: 4; source: gold"). */
function barCentres(svg: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of svg.matchAll(/<path aria-label="([^"]*)"[^>]*aria-roledescription="bar" d="M([0-9.e-]+),[0-9.e-]+h([0-9.e-]+)/g)) {
    out.set(m[1]!, Number(m[2]) + Number(m[3]) / 2);
  }
  return out;
}

describe("charts (vega-lite -> vega -> SVG -> resvg PNG)", () => {
  it("confusion heatmap carries the counts and labels as text, and rasterises", async () => {
    const svg = await renderSvg(confusionChart({ labels: [1, 2, 3], counts: [[5, 2, 0], [1, 8, 3], [0, 2, 12]] }, "Confusion matrix"));
    expect(svg.startsWith("<svg")).toBe(true);
    for (const text of [">12<", ">8<", ">Confusion matrix<", ">judge<", ">gold<"]) expect(svg).toContain(text);
    const png = svgToPng(svg);
    expect(png.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
    const dir = process.env.CRITIC_CHART_DIR ?? mkdtempSync(path.join(tmpdir(), "critic-chart-"));
    writeFileSync(path.join(dir, "confusion.png"), png);
  });

  it("distribution and interval charts render", async () => {
    const dist = await renderSvg(distributionChart([{ label: "1", count: 3 }, { label: "2", count: 10 }], [{ label: "2", count: 8 }, { label: "2.33", count: 2 }], "Scores"));
    // Averaged gold stands on a number line: 2.33 is a bar there, not a category label.
    expect(dist).toContain('aria-label="label: 2.33; rows: 2; source: gold"');
    const bars = await renderSvg(intervalBarChart([{ label: "math", value: 0.4, lo: 0.3, hi: 0.5 }, { label: "coding", value: 0.6 }], "pearson", "By category"));
    expect(bars).toContain(">coding<");
    // Long names that share a prefix stay whole (vega-lite's default label limit cut both to one text).
    const long = await renderSvg(intervalBarChart([{ label: "solving_exam_questions_with_math", value: 0.4 }, { label: "solving_exam_questions_without_math", value: 0.6 }], "pearson", "By category"));
    expect(long).toContain(">solving_exam_questions_with_math<");
    expect(long).toContain(">solving_exam_questions_without_math<");
    if (process.env.CRITIC_CHART_DIR) {
      writeFileSync(path.join(process.env.CRITIC_CHART_DIR, "dist.png"), svgToPng(dist));
      writeFileSync(path.join(process.env.CRITIC_CHART_DIR, "bars.png"), svgToPng(bars));
    }
  });

  it("the reliability diagram draws one point per bin, sized by its rows, beside the diagonal", async () => {
    const bins = [{ confidence: 0.35, accuracy: 0.8, n: 30 }, { confidence: 0.55, accuracy: 0.56, n: 34 }, { confidence: 0.93, accuracy: 0.77, n: 9 }];
    const svg = await renderSvg(reliabilityChart(bins, "Reliability"));
    // Vega draws circle marks as <path> in role-mark groups; count the symbols of the point layer.
    const symbols = svg.match(/<g class="mark-symbol role-mark[^"]*"[^>]*>(.*?)<\/g>/s)?.[1] ?? "";
    expect((symbols.match(/<path /g) ?? []).length).toBe(3);
    expect(svg).toContain(">rows<");
  });

  it("counts read as whole numbers: heatmap legend, distribution axis, reliability size legend", async () => {
    const heat = await renderSvg(confusionChart({ labels: ["A", "B", "tie"], counts: [[1, 0, 0], [0, 1, 0], [0, 0, 0]] }, "Confusion"));
    expect(numerals(legendOf(heat))).toContain("1");
    const dist = await renderSvg(distributionChart([{ label: "A", count: 3 }, { label: "B", count: 1 }], [{ label: "A", count: 2 }], "Verdicts", "verdict"));
    const rel = await renderSvg(reliabilityChart([{ confidence: 0.5, accuracy: 0.5, n: 3 }, { confidence: 0.7, accuracy: 0.6, n: 1 }], "Reliability"));
    expect(numerals(heat).filter((t) => t.includes("."))).toEqual([]);
    expect(axisLabels(dist, "Y").filter((t) => t.includes("."))).toEqual([]);
    expect(numerals(legendOf(rel)).filter((t) => t.includes("."))).toEqual([]);
  });

  it("a coverage chart of one point labels its accuracy axis with at most two decimals", async () => {
    const svg = await renderSvg(coverageChart([{ threshold: 0, coverage: 1, accuracy: 0.275 }, { threshold: 0.3, coverage: 0, accuracy: null }], "Coverage"));
    const labels = axisLabels(svg, "Y");
    expect(labels.length).toBeGreaterThanOrEqual(2);
    expect(labels.filter((t) => !/^[0-9]+(\.[0-9]{1,2})?$/.test(t))).toEqual([]);
    // Accuracies between 0.8 and 0.9 get that tenth as their axis.
    const close = await renderSvg(coverageChart([{ threshold: 0, coverage: 1, accuracy: 0.819 }, { threshold: 0.5, coverage: 0.6, accuracy: 0.808 }, { threshold: 0.9, coverage: 0.2, accuracy: 0.827 }], "Coverage"));
    const ticks = axisLabels(close, "Y").map(Number);
    expect([Math.min(...ticks), Math.max(...ticks)]).toEqual([0.8, 0.9]);
  });

  it("averaged gold scores sit at their value on the score axis, not evenly spaced as categories", async () => {
    const gold = [1, 1.5, 2, 2.33, 3].map((v, i) => ({ label: String(v), count: i + 1 }));
    const svg = await renderSvg(distributionChart([{ label: "1", count: 2 }, { label: "2", count: 3 }, { label: "3", count: 1 }], gold, "Scores", "score"));
    const at = barCentres(svg);
    const x = (score: number, source: string) => {
      const found = [...at].find(([label]) => label.startsWith(`score: ${score};`) && label.endsWith(`source: ${source}`));
      if (!found) throw new Error(`no ${source} bar at ${score} in ${[...at.keys()].join(" | ")}`);
      return found[1];
    };
    // 2 -> 2.33 is two thirds of 1.5 -> 2 (as categories both steps are one band).
    expect((x(2.33, "gold") - x(2, "gold")) / (x(2, "gold") - x(1.5, "gold"))).toBeCloseTo(0.66, 1);
    // The judge's 2 and gold's 2 stand at the same place on the axis.
    expect(Math.abs(x(2, "judge") - x(2, "gold"))).toBeLessThan(1);
  });

  it("a PNG is as big as its chart: no wide blank margin beside a narrow heatmap under a long title", async () => {
    const svg = await renderSvg(confusionChart({ labels: ["A", "B", "tie"], counts: [[3, 1, 0], [1, 2, 1], [0, 0, 0]] }, "Confusion matrix: judge-with-a-rather-long-name vs gold"));
    const margins = blankMargins(decodePng(svgToPng(svg)));
    // The PNG is drawn at twice the SVG's size; vega pads a chart by 5 units.
    for (const [side, px] of Object.entries(margins)) expect(px, side).toBeLessThanOrEqual(2 * 5 + 4);
  });
});
