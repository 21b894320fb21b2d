/**
 * `critic meta-eval --require "kappa>=0.6"`: thresholds on any metric the report prints, checked for
 * every judge, so CI can fail a build when a judge drifts. A metric that is n/a fails (a gate that
 * cannot be measured is not passed).
 */
import { didYouMean } from "../util/did-you-mean.js";
import type { JudgeReport } from "./evaluate.js";
import type { MetaEvalResult } from "./meta-eval.js";
import type { MetricValue } from "./types.js";

export type Comparison = ">=" | ">" | "<=" | "<" | "==";

export interface Requirement {
  /** As written, e.g. "position_consistency>=0.85". */
  text: string;
  metric: string;
  op: Comparison;
  threshold: number;
}

export interface GateRow {
  requirement: string;
  judge: string;
  value: number | null;
  /** Why the value is n/a. */
  reason?: string;
  passed: boolean;
}

export interface GateResult {
  passed: boolean;
  rows: GateRow[];
}

const REQUIREMENT = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(>=|<=|==|=|>|<)\s*(-?\d+(?:\.\d+)?(?:e[-+]?\d+)?)\s*$/i;

/** "kappa>=0.6" -> {metric, op, threshold}; throws on anything else. */
export function parseRequirement(text: string): Requirement {
  const match = REQUIREMENT.exec(text);
  if (!match) throw new Error(`--require "${text}": expected <metric><op><number>, e.g. "kappa>=0.6" (ops: >= > <= < ==)`);
  const op = (match[2] === "=" ? "==" : match[2]) as Comparison;
  return { text: `${match[1]} ${op} ${match[3]}`, metric: match[1]!, op, threshold: Number(match[3]) };
}

/** camelCase and snake_case name the same metric: "position_consistency" is "positionConsistency". */
const normalise = (name: string) => name.replace(/_/g, "").toLowerCase();

/** Every metric of a judge a requirement may name, by its camelCase name. */
export function gateMetrics(judge: JudgeReport): Record<string, MetricValue> {
  const out: Record<string, MetricValue> = {};
  for (const [name, value] of Object.entries(judge.metrics as unknown as Record<string, unknown>)) {
    if (isMetric(value)) out[name] = value;
  }
  const position = judge.bias.position;
  if (position) out.positionConsistency = position.consistency;
  else if ("accuracyWithTies" in out) out.positionConsistency = { value: null, reason: "no judgment was graded in both orders (judge with --swap)" };
  if (judge.confidence) {
    out.ece = judge.confidence.ece;
    if (judge.confidence.expected) {
      out.expectedPearson = judge.confidence.expected.pearson;
      out.expectedSpearman = judge.confidence.expected.spearman;
    }
  }
  if (judge.cost) out.costPerJudgment = { value: judge.cost.perJudgmentUsd };
  const c = judge.coverage;
  out.coverage = c.rows > 0 ? { value: c.evaluated / c.rows } : { value: null, reason: "no rows" };
  return out;
}

function isMetric(value: unknown): value is MetricValue {
  return value !== null && typeof value === "object" && "value" in value && (typeof (value as MetricValue).value === "number" || (value as MetricValue).value === null);
}

function holds(value: number, op: Comparison, threshold: number): boolean {
  switch (op) {
    case ">=": return value >= threshold;
    case ">": return value > threshold;
    case "<=": return value <= threshold;
    case "<": return value < threshold;
    case "==": return Math.abs(value - threshold) < 1e-9;
  }
}

/** Checks every requirement for every judge; an unknown metric name throws with a did-you-mean. */
export function checkRequirements(result: MetaEvalResult, requirements: Requirement[]): GateResult {
  const rows: GateRow[] = [];
  for (const requirement of requirements) {
    for (const judge of result.judges) {
      const metrics = gateMetrics(judge);
      const name = Object.keys(metrics).find((k) => normalise(k) === normalise(requirement.metric));
      if (name === undefined) {
        const names = Object.keys(metrics);
        const close = didYouMean(requirement.metric, [...names, ...names.map(snake)]);
        const hint = close.length > 0 ? `; did you mean ${close.map((c) => `"${c}"`).join(" or ")}?` : "";
        throw new Error(`--require "${requirement.text}": ${result.kind} meta-eval has no metric "${requirement.metric}"${hint} (metrics: ${names.map(snake).join(", ")})`);
      }
      const m = metrics[name]!;
      rows.push({
        requirement: requirement.text,
        judge: judge.name,
        value: m.value,
        ...(m.value === null ? { reason: m.reason ?? "undefined" } : {}),
        passed: m.value !== null && holds(m.value, requirement.op, requirement.threshold),
      });
    }
  }
  return { passed: rows.every((r) => r.passed), rows };
}

const snake = (name: string) => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** The gate as a plain-text table for the terminal. */
export function formatGate(gate: GateResult): string {
  const cells = gate.rows.map((r) => [r.requirement, r.judge, r.value === null ? `n/a (${r.reason})` : r.value.toFixed(4), r.passed ? "pass" : "FAIL"]);
  const head = ["requirement", "judge", "value", "result"];
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => c.map((v, i) => v.padEnd(widths[i]!)).join("  ").trimEnd();
  const failed = gate.rows.filter((r) => !r.passed).length;
  return [line(head), ...cells.map(line), failed === 0 ? `gate: all ${gate.rows.length} passed` : `gate: ${failed} of ${gate.rows.length} failed`].join("\n") + "\n";
}
