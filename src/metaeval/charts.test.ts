import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { confusionChart, distributionChart, intervalBarChart, reliabilityChart, renderSvg, svgToPng } from "./charts.js";

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

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
    expect(dist).toContain(">2.33<");
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
});
