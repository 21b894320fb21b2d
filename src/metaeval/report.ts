import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { confusionChart, coverageChart, distributionChart, intervalBarChart, reliabilityChart, renderSvg, svgToPng, type ChartSpec } from "./charts.js";
import type { JudgeReport, Metrics, PairAgreement } from "./evaluate.js";
import type { MetaEvalResult } from "./meta-eval.js";
import type { ScoreAgreement } from "./metrics.js";
import type { PairwiseAgreement } from "./pairwise.js";
import type { MetricValue } from "./types.js";

/** Report content, independent of the output format; rendered once as Markdown and once as HTML. */
type Block =
  | { type: "heading"; level: 1 | 2 | 3; text: string }
  | { type: "paragraph"; text: string }
  | { type: "list"; items: string[] }
  | { type: "table"; head: string[]; rows: string[][] }
  | { type: "chart"; name: string; title: string; spec: ChartSpec }
  | { type: "details"; summary: string; text: string };

/** What the report calls each metric: a short name for table heads and chart titles, and a note where the name alone misleads. */
const METRICS: Record<string, { name: string; note?: string }> = {
  pearson: { name: "Pearson r" },
  spearman: { name: "Spearman ρ" },
  kendallTau: { name: "Kendall τ-b" },
  mae: { name: "Mean absolute error", note: "lower is better" },
  exactAgreement: { name: "Exact agreement" },
  withinOne: { name: "Agreement within one point" },
  kappa: { name: "Cohen's κ" },
  quadraticKappa: { name: "Quadratic-weighted κ" },
  accuracyWithTies: { name: "Accuracy with ties", note: "tie is a third class" },
  accuracyWithoutTies: { name: "Accuracy without ties", note: "items where neither side says tie" },
  accuracyDecisiveGold: { name: "Accuracy on decisive gold", note: "judge tie counts wrong" },
  macroPrecision: { name: "Macro precision" },
  macroRecall: { name: "Macro recall" },
  macroF1: { name: "Macro F1" },
};

/** The metric's name with its note, for the rows of the agreement tables. */
export const METRIC_LABELS: Record<string, string> = Object.fromEntries(
  Object.entries(METRICS).map(([id, m]) => [id, m.note ? `${m.name} (${m.note})` : m.name]),
);

/** The metric's short name, for table heads and chart titles; an unknown id as given. */
export function metricName(id: string): string {
  return METRICS[id]?.name ?? id;
}

const SCORE_ROWS = ["pearson", "spearman", "kendallTau", "exactAgreement", "withinOne", "kappa", "quadraticKappa", "mae"] as const;
const PAIRWISE_ROWS = ["accuracyWithTies", "accuracyWithoutTies", "accuracyDecisiveGold", "kappa", "macroPrecision", "macroRecall", "macroF1"] as const;

export function formatNumber(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(3);
}

/** "0.712", or "n/a: <reason>"; never NaN. */
export function formatValue(m: MetricValue | undefined): string {
  if (!m) return "";
  return m.value === null ? `n/a: ${m.reason ?? "undefined"}` : formatNumber(m.value);
}

/**
 * A bootstrap p-value. None of the resamples on the far side of zero means p is below what the
 * resamples can show (1 / resamples), never 0; below 0.001 it reads "< 0.001".
 */
export function formatPValue(p: number, resamples: number): string {
  const floor = Math.max(0.001, resamples > 0 ? 1 / resamples : 0);
  if (p === 0) return `< ${Number(floor.toPrecision(2))}`;
  return p < 0.001 ? "< 0.001" : p.toFixed(3);
}

export function formatInterval(m: MetricValue | undefined): string {
  return m?.ci ? `[${formatNumber(m.ci[0])}, ${formatNumber(m.ci[1])}]` : "";
}

function pct(part: number, whole: number): string {
  return whole === 0 ? "0" : `${part} (${((100 * part) / whole).toFixed(1)}%)`;
}

function slug(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "") || "judge";
}

function metricOf(metrics: Metrics, name: string): MetricValue | undefined {
  return (metrics as unknown as Record<string, MetricValue | undefined>)[name];
}

export function buildBlocks(result: MetaEvalResult): Block[] {
  const blocks: Block[] = [];
  const ciLabel = `${Math.round(result.settings.confidence * 100)}% CI`;
  blocks.push({ type: "heading", level: 1, text: `Meta-evaluation: ${result.judges.map((j) => j.name).join(", ")}` });
  blocks.push({
    type: "list",
    items: [
      `Kind: ${result.kind === "score" ? "absolute scores" : "pairwise verdicts"}; prediction field \`${result.pred}\`; gold ${result.gold.map((g) => `\`${g}\``).join(", ")}${result.by ? `; broken down by \`${result.by}\`` : ""}`,
      `Intervals: ${ciLabel}, percentile bootstrap with ${result.settings.bootstrap} resamples, seed ${result.settings.seed} (a re-run gives the same numbers)`,
    ],
  });
  if (result.notes.length > 0) {
    blocks.push({ type: "heading", level: 2, text: "Notes" });
    blocks.push({ type: "list", items: result.notes });
  }

  if (result.comparison) {
    const c = result.comparison;
    blocks.push({ type: "heading", level: 2, text: "Judges compared" });
    blocks.push({
      type: "paragraph",
      text: `${metricName(c.metric)} on the ${c.rows} rows every judge predicted. Differences are against ${c.reference}, from a paired bootstrap (the same resampled rows for every judge); p is two-sided.`,
    });
    blocks.push({
      type: "table",
      head: ["judge", metricName(c.metric), ciLabel, `difference vs ${c.reference}`, ciLabel, "p"],
      rows: c.table.map((r) => [
        r.judge, formatValue(r.value), formatInterval(r.value),
        r.difference ? formatValue(r.difference) : "", r.difference ? formatInterval(r.difference) : "",
        r.difference?.pValue == null ? "" : formatPValue(r.difference.pValue, result.settings.bootstrap),
      ]),
    });
    const bars = c.table.filter((r) => r.value.value !== null).map((r) => ({ label: r.judge, value: r.value.value as number, lo: r.value.ci?.[0], hi: r.value.ci?.[1] }));
    if (bars.length > 0) blocks.push({ type: "chart", name: "comparison", title: "Judges compared", spec: intervalBarChart(bars, metricName(c.metric), `${metricName(c.metric)} by judge (${ciLabel})`) });
  }

  if (result.raters) {
    const r = result.raters;
    blocks.push({ type: "heading", level: 2, text: "Agreement between raters" });
    blocks.push({
      type: "paragraph",
      text: `${r.names.length} raters. Fleiss' κ ${formatValue(r.fleiss)} over ${r.fleiss.items} items rated by all${result.kind === "score" ? " (ratings rounded, treated as nominal)" : ""}. A judge can only be as consistent with people as people are with each other.`,
    });
    blocks.push(pairTable(r.pairs));
  }

  for (const judge of result.judges) blocks.push(...judgeBlocks(result, judge, ciLabel));
  return blocks;
}

function pairTable(pairs: PairAgreement[]): Block {
  const names = Object.keys(pairs[0]?.metrics ?? {});
  return {
    type: "table",
    head: ["pair", "n", ...names.map((n) => METRIC_LABELS[n] ?? n)],
    rows: pairs.map((p) => [`${p.a} vs ${p.b}`, String(p.n), ...names.map((n) => formatValue(p.metrics[n]))]),
  };
}

function mean(values: Array<number | null>): number | null {
  const v = values.filter((x): x is number => x !== null);
  return v.length === 0 ? null : v.reduce((a, b) => a + b, 0) / v.length;
}

function judgeBlocks(result: MetaEvalResult, judge: JudgeReport, ciLabel: string): Block[] {
  const blocks: Block[] = [];
  const id = slug(judge.name);
  const c = judge.coverage;
  blocks.push({ type: "heading", level: 2, text: `Judge: ${judge.name}` });
  blocks.push({ type: "paragraph", text: `File \`${judge.file}\`.` });
  blocks.push({
    type: "table",
    head: ["rows", "evaluated", "failed predictions", "missing predictions", "unreadable predictions", "no gold", "unreadable gold", "no majority gold", "unreadable rows"],
    rows: [[String(c.rows), pct(c.evaluated, c.rows), pct(c.failedPrediction, c.rows), pct(c.missingPrediction, c.rows), pct(c.invalidPrediction, c.rows), pct(c.missingGold, c.rows), pct(c.invalidGold, c.rows), pct(c.noMajorityGold, c.rows), String(c.unreadableRows)]],
  });

  const names = result.kind === "score" ? SCORE_ROWS : PAIRWISE_ROWS;
  blocks.push({ type: "heading", level: 3, text: "Agreement with gold" });
  blocks.push({
    type: "table",
    head: ["metric", "value", ciLabel],
    rows: names.map((n) => [METRIC_LABELS[n] ?? n, formatValue(metricOf(judge.metrics, n)), formatInterval(metricOf(judge.metrics, n))]),
  });
  if (result.kind === "pairwise") {
    const p = judge.metrics as PairwiseAgreement;
    blocks.push({
      type: "paragraph",
      text: `Items counted: ${p.counts.all} with ties, ${p.counts.withoutTies} without ties, ${p.counts.decisiveGold} with decisive gold.`,
    });
    blocks.push({
      type: "table",
      head: ["class", "gold support", "precision", "recall", "F1"],
      rows: p.perClass.map((k) => [k.label, String(k.support), formatValue(k.precision), formatValue(k.recall), formatValue(k.f1)]),
    });
    if (p.perClass.some((k) => k.precision.value === null || k.recall.value === null || k.f1.value === null)) {
      blocks.push({
        type: "paragraph",
        text: "Macro averages are over every class in gold or judge; a class whose precision, recall or F1 is n/a above counts as 0 in them (scikit-learn's zero_division=0).",
      });
    }
  }

  const confusion = result.kind === "score" ? (judge.metrics as ScoreAgreement).confusion : (judge.metrics as PairwiseAgreement).confusion;
  if (confusion && c.evaluated > 0) {
    blocks.push({ type: "chart", name: `${id}-confusion`, title: "Confusion matrix", spec: confusionChart(confusion, `Confusion matrix: ${judge.name} vs gold`) });
  }
  if (c.evaluated > 0) {
    blocks.push({ type: "chart", name: `${id}-distribution`, title: "Distributions", spec: distributionChart(judge.distribution.judge, judge.distribution.gold, `${result.kind === "score" ? "Scores" : "Verdicts"}: ${judge.name} and gold`, result.kind === "score" ? "score" : "verdict") });
  }

  if (judge.vsRaters && result.raters) {
    blocks.push({ type: "heading", level: 3, text: "Judge against each rater, beside the raters against each other" });
    const metricNames = Object.keys(result.raters.pairs[0]?.metrics ?? judge.vsRaters[0]?.metrics ?? {});
    const vsEach = judge.vsRaters.slice(1);
    blocks.push({
      type: "table",
      head: ["metric", "raters with each other (mean over pairs)", `${judge.name} with each rater (mean)`, `${judge.name} with gold`],
      rows: metricNames.map((n) => {
        const human = mean(result.raters!.pairs.map((p) => p.metrics[n]?.value ?? null));
        const machine = mean(vsEach.map((p) => p.metrics[n]?.value ?? null));
        return [METRIC_LABELS[n] ?? n, human === null ? "n/a" : formatNumber(human), machine === null ? "n/a" : formatNumber(machine), formatValue(judge.vsRaters![0]!.metrics[n])];
      }),
    });
    blocks.push(pairTable(judge.vsRaters));
  }

  if (judge.groups && result.by) {
    blocks.push({ type: "heading", level: 3, text: `By ${result.by}` });
    const groupNames = result.kind === "score" ? (["pearson", "spearman", "kendallTau", "exactAgreement", "quadraticKappa", "mae"] as const) : (["accuracyWithTies", "accuracyWithoutTies", "kappa", "macroF1"] as const);
    blocks.push({
      type: "table",
      head: [result.by, "rows", "evaluated", "not evaluated", ...groupNames.map(metricName)],
      rows: judge.groups.map((g) => [
        g.group, String(g.coverage.rows), String(g.coverage.evaluated), String(g.coverage.rows - g.coverage.evaluated),
        ...groupNames.map((n) => {
          const m = metricOf(g.metrics, n);
          return m?.ci ? `${formatValue(m)} ${formatInterval(m)}` : formatValue(m);
        }),
      ]),
    });
    const headline = result.headline;
    const bars = judge.groups
      .map((g) => ({ g, m: metricOf(g.metrics, headline) }))
      .filter(({ m }) => m?.value != null)
      .map(({ g, m }) => ({ label: g.group, value: m!.value as number, lo: m!.ci?.[0], hi: m!.ci?.[1] }));
    if (bars.length > 0) blocks.push({ type: "chart", name: `${id}-by-${slug(result.by)}`, title: `By ${result.by}`, spec: intervalBarChart(bars, metricName(headline), `${metricName(headline)} by ${result.by} (${ciLabel})`) });
  }

  if (judge.cost) {
    blocks.push({ type: "paragraph", text: `Cost (judge.cost_usd, from \`critic judge --price\`): $${judge.cost.totalUsd.toFixed(4)} for ${judge.cost.judgments} judgments, $${judge.cost.perJudgmentUsd.toFixed(6)} per judgment.` });
  }
  if (judge.confidence) blocks.push(...confidenceBlocks(judge, id));

  blocks.push({ type: "heading", level: 3, text: "Bias probes" });
  blocks.push({ type: "list", items: biasItems(result, judge) });

  if (judge.disagreements.length > 0) {
    blocks.push({ type: "heading", level: 3, text: `Largest disagreements (top ${judge.disagreements.length})` });
    blocks.push({
      type: "table",
      head: ["line", ...(judge.disagreements.some((d) => d.id) ? ["id"] : []), ...(result.by ? [result.by] : []), "judge", "gold", "ratings", "gap"],
      rows: judge.disagreements.map((d) => [
        String(d.line), ...(judge.disagreements.some((x) => x.id) ? [d.id ?? ""] : []), ...(result.by ? [d.group ?? ""] : []),
        String(d.pred), typeof d.gold === "number" ? formatNumber(d.gold) : d.gold, d.ratings.length > 1 ? d.ratings.map(String).join(", ") : "", formatNumber(d.gap),
      ]),
    });
    for (const d of judge.disagreements) {
      if (!d.excerpt || Object.keys(d.excerpt).length === 0) continue;
      blocks.push({
        type: "details",
        summary: `line ${d.line}: judge ${String(d.pred)}, gold ${typeof d.gold === "number" ? formatNumber(d.gold) : d.gold}`,
        text: Object.entries(d.excerpt).map(([k, v]) => `${k}: ${v}`).join("\n\n"),
      });
    }
  }

  if (judge.problems.length > 0) {
    blocks.push({ type: "heading", level: 3, text: "Rows not evaluated (first 20)" });
    blocks.push({ type: "table", head: ["line", "field", "problem", "detail"], rows: judge.problems.map((p) => [String(p.line), p.field, p.problem, p.note]) });
  }
  return blocks;
}

/** The judge's own probabilities: expected score, calibration, abstention. */
function confidenceBlocks(judge: JudgeReport, id: string): Block[] {
  const c = judge.confidence!;
  const out: Block[] = [{ type: "heading", level: 3, text: "Confidence (from the judge's score / winner distributions)" }];
  const items = [
    `${c.rows} evaluated rows carry a distribution. Confidence is the probability the judge gave its own verdict; mean confidence ${formatNumber(c.meanConfidence)} against accuracy ${formatNumber(c.accuracy)} (a score counts as right when it equals the rounded gold).`,
    `Expected calibration error (10 equal-width bins): ${formatValue(c.ece)}.`,
  ];
  if (c.expected) {
    items.push(`Expected score (score_expected) against gold: Pearson ${formatValue(c.expected.pearson)}, Spearman ${formatValue(c.expected.spearman)}, Kendall tau-b ${formatValue(c.expected.kendallTau)}; the decoded score on the same rows: Pearson ${formatValue(c.expected.scorePearson)}.`);
  }
  out.push({ type: "list", items });
  out.push({
    type: "table",
    head: ["answer when confidence ≥", "rows", "coverage", "accuracy"],
    rows: c.coverage.map((p) => [formatNumber(p.threshold), String(p.n), formatNumber(p.coverage), p.accuracy === null ? "n/a: no rows" : formatNumber(p.accuracy)]),
  });
  out.push({ type: "chart", name: `${id}-reliability`, title: "Reliability diagram", spec: reliabilityChart(c.bins, `Reliability: ${judge.name}`) });
  out.push({ type: "chart", name: `${id}-coverage`, title: "Coverage vs accuracy", spec: coverageChart(c.coverage, `Abstaining below a confidence: ${judge.name}`) });
  return out;
}

function biasItems(result: MetaEvalResult, judge: JudgeReport): string[] {
  const b = judge.bias;
  const items: string[] = [];
  if (b.position) {
    items.push(
      `Position consistency (swapped runs): share of ${b.position.pairs} pairs whose verdict survived the swap ${formatValue(b.position.consistency)}; of the flips, ${b.position.preferredFirst} picked whichever response stood first and ${b.position.preferredSecond} whichever stood second.`,
    );
  }
  if (b.firstPosition) items.push(`Share of decisive verdicts for A (the first response): judge ${formatValue(b.firstPosition.judgeA)}, gold ${formatValue(b.firstPosition.goldA)}.`);
  if (b.length && "judgeLongerWins" in b.length) {
    items.push(
      `Length: share of decisive verdicts (responses of different length) that pick the longer response: judge ${formatValue(b.length.judgeLongerWins)} of ${b.length.judgeItems}, gold ${formatValue(b.length.goldLongerWins)} of ${b.length.goldItems}.`,
    );
  } else if (b.length) {
    items.push(`Length: Spearman ρ of score with response length (characters) over ${b.length.items} rows: judge ${formatValue(b.length.judge)}, gold ${formatValue(b.length.gold)}.`);
  } else {
    items.push(result.kind === "score" ? "Length: no `response` text in the judgments." : "Length: no `response_a`/`response_b` text in the judgments.");
  }
  if (b.scale) {
    const s = b.scale;
    items.push(
      `Scale use (points ${s.scale.map(String).join(", ")}): the judge uses ${s.judge.used} distinct values (normalized entropy ${formatValue(s.judge.normalizedEntropy)}, std ${formatValue(s.judge.std)}); gold ${s.gold.used} (entropy ${formatValue(s.gold.normalizedEntropy)}, std ${formatValue(s.gold.std)}).`,
    );
  }
  if (!b.position && result.kind === "pairwise") items.push("Position consistency: no swapped runs in the judgments (run `critic judge --swap`).");
  return items;
}

// ---------------------------------------------------------------- rendering

function mdCell(s: string): string {
  return s.replace(/\|/g, "\\|").replace(/\r?\n/g, " ");
}

function toMarkdown(blocks: Block[]): string {
  const out: string[] = [];
  for (const b of blocks) {
    if (b.type === "heading") out.push(`${"#".repeat(b.level)} ${b.text}`);
    else if (b.type === "paragraph") out.push(b.text);
    else if (b.type === "list") out.push(b.items.map((i) => `- ${i}`).join("\n"));
    else if (b.type === "table") {
      out.push([`| ${b.head.map(mdCell).join(" | ")} |`, `| ${b.head.map(() => "---").join(" | ")} |`, ...b.rows.map((r) => `| ${r.map(mdCell).join(" | ")} |`)].join("\n"));
    } else if (b.type === "chart") out.push(`![${b.title}](charts/${b.name}.svg)`);
    else out.push(`<details><summary>${escapeHtml(b.summary)}</summary>\n\n\`\`\`text\n${b.text.replace(/```/g, "ʼʼʼ")}\n\`\`\`\n\n</details>`);
  }
  return `${out.join("\n\n")}\n`;
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** Inline `code` spans in report text. */
function inline(s: string): string {
  return escapeHtml(s).replace(/`([^`]+)`/g, "<code>$1</code>");
}

const STYLE = `
body { font-family: system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; max-width: 1100px; margin: 2rem auto; padding: 0 1rem; color: #1d1d1f; line-height: 1.45; }
h1 { font-size: 1.6rem; } h2 { margin-top: 2.2rem; border-bottom: 1px solid #ddd; padding-bottom: .2rem; } h3 { margin-top: 1.5rem; }
table { border-collapse: collapse; margin: .6rem 0; font-size: .92rem; }
th, td { border: 1px solid #d0d0d0; padding: .25rem .55rem; text-align: left; vertical-align: top; }
th { background: #f3f4f6; } tr:nth-child(even) td { background: #fafafa; }
td:not(:first-child) { font-variant-numeric: tabular-nums; }
figure { margin: 1rem 0; display: inline-block; vertical-align: top; } figure svg { max-width: 100%; height: auto; }
details { margin: .3rem 0; } details pre { white-space: pre-wrap; background: #f6f8fa; padding: .6rem; border-radius: 4px; font-size: .85rem; }
code { background: #f3f4f6; padding: 0 .2rem; border-radius: 3px; }
`;

function toHtml(blocks: Block[], svgs: Map<string, string>, title: string): string {
  const body: string[] = [];
  for (const b of blocks) {
    if (b.type === "heading") body.push(`<h${b.level}>${inline(b.text)}</h${b.level}>`);
    else if (b.type === "paragraph") body.push(`<p>${inline(b.text)}</p>`);
    else if (b.type === "list") body.push(`<ul>${b.items.map((i) => `<li>${inline(i)}</li>`).join("")}</ul>`);
    else if (b.type === "table") {
      body.push(
        `<table><thead><tr>${b.head.map((h) => `<th>${inline(h)}</th>`).join("")}</tr></thead><tbody>${b.rows
          .map((r) => `<tr>${r.map((c) => `<td>${inline(c)}</td>`).join("")}</tr>`)
          .join("")}</tbody></table>`,
      );
    } else if (b.type === "chart") body.push(`<figure aria-label="${escapeHtml(b.title)}">${svgs.get(b.name) ?? ""}</figure>`);
    else body.push(`<details><summary>${escapeHtml(b.summary)}</summary><pre>${escapeHtml(b.text)}</pre></details>`);
  }
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head><body>\n${body.join("\n")}\n</body></html>\n`;
}

/** The report as one self-contained HTML page (charts as inline SVG), as report.html holds it. */
export async function renderReportHtml(result: MetaEvalResult): Promise<string> {
  const blocks = buildBlocks(result);
  const svgs = new Map<string, string>();
  for (const b of blocks) if (b.type === "chart") svgs.set(b.name, await renderSvg(b.spec));
  return toHtml(blocks, svgs, blocks[0]?.type === "heading" ? blocks[0].text : "Meta-evaluation");
}

export interface WrittenReport {
  dir: string;
  files: string[];
}

/** Writes metrics.json, report.md, a self-contained report.html (SVGs inline) and charts/*.svg + *.png. */
export async function writeReport(result: MetaEvalResult, dir: string): Promise<WrittenReport> {
  await mkdir(path.join(dir, "charts"), { recursive: true });
  const blocks = buildBlocks(result);
  const files: string[] = [];
  const write = async (name: string, data: string | Buffer) => {
    await writeFile(path.join(dir, name), data);
    files.push(name);
  };
  const svgs = new Map<string, string>();
  for (const b of blocks) {
    if (b.type !== "chart") continue;
    const svg = await renderSvg(b.spec);
    svgs.set(b.name, svg);
    await write(`charts/${b.name}.svg`, svg);
    await write(`charts/${b.name}.png`, svgToPng(svg));
  }
  await write("metrics.json", `${JSON.stringify(result, null, 2)}\n`);
  await write("report.md", toMarkdown(blocks));
  const heading = blocks[0]?.type === "heading" ? blocks[0].text : "Meta-evaluation";
  await write("report.html", toHtml(blocks, svgs, heading));
  return { dir, files };
}
