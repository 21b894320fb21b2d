import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sharedData } from "../../test/support/cli.js";
import { lastUserMessage, startFaultServer, type FaultServer } from "../../test/support/fault-server.js";
import type { PairwiseAgreement, ScoreAgreement } from "../metaeval/index.js";
import { RunStore } from "../store/run-store.js";
import { BENCHMARKS, getBenchmark, runBenchmark, parsePrometheusPrompt, type BenchItem } from "./index.js";

async function load(name: string): Promise<BenchItem[]> {
  const items: BenchItem[] = [];
  for await (const item of getBenchmark(name).items(sharedData)) items.push(item);
  return items;
}

function okRecords(items: BenchItem[]): Record<string, unknown>[] {
  return items.flatMap((i) => (i.ok ? [i.record] : []));
}

describe("benchmark loaders read ../shared/data", () => {
  // Record counts as each SOURCES.md states them.
  const expected: Record<string, number> = {
    "hhh-alignment": 221,
    "mt-bench": 320,
    "vicuna-bench": 320,
    "llmbar-natural": 100,
    "llmbar-adversarial": 134 + 92 + 47 + 46,
    "mt-bench-human": 200,
    "autoj-pairwise": 1392,
  };

  it("ships the six benchmarks the issue names", () => {
    expect(BENCHMARKS.map((b) => b.name).sort()).toEqual(Object.keys(expected).sort());
  });

  for (const [name, count] of Object.entries(expected)) {
    it(`${name}: every record loads (${count})`, async () => {
      const items = await load(name);
      expect(items.filter((i) => !i.ok)).toEqual([]);
      expect(items).toHaveLength(count);
      const benchmark = getBenchmark(name);
      for (const record of okRecords(items)) {
        expect(typeof record.instruction).toBe("string");
        if (benchmark.kind === "pairwise") {
          expect(["A", "B", "tie"]).toContain(record.gold);
          expect(typeof record.response_a).toBe("string");
          expect(typeof record.response_b).toBe("string");
        } else {
          expect(typeof record.response).toBe("string");
          expect((record.gold_score as number[]).every((s) => s >= 1 && s <= 5)).toBe(true);
        }
        if (benchmark.by) expect(record[benchmark.by]).toBeDefined();
      }
      const ids = okRecords(items).map((r) => r.id);
      expect(new Set(ids).size).toBe(ids.length);
    });
  }

  it("hhh-alignment puts the preferred response at A and B alternately", async () => {
    const records = okRecords(await load("hhh-alignment"));
    const a = records.filter((r) => r.gold === "A").length;
    expect(a).toBe(111);
    expect(records.length - a).toBe(110);
    // The preferred text is the one BIG-bench marked: spot-check the first record against the parsed copy.
    const parsed = JSON.parse(readFileSync(path.join(sharedData, "prometheus_eval/hhh_alignment_pairs_parsed.jsonl"), "utf8").split("\n")[1]!) as Record<string, string>;
    const second = records[1]!;
    expect(second.gold).toBe("B");
    expect(second.response_b).toBe(parsed.chosen);
    expect(second.response_a).toBe(parsed.rejected);
    expect(second.instruction).toBe(parsed.instruction);
  });

  it("autoj-pairwise maps 0/1/2 to A/B/tie", async () => {
    const records = okRecords(await load("autoj-pairwise"));
    const first = JSON.parse(readFileSync(path.join(sharedData, "autoj/testdata_pairwise.jsonl"), "utf8").split("\n")[0]!) as Record<string, unknown>;
    expect(records[0]!.gold).toBe({ 0: "A", 1: "B", 2: "tie" }[first.label as number]);
    expect(records[0]!.response_a).toBe(first["response 1"]);
    expect(records.some((r) => r.gold === "tie")).toBe(true);
  });
});

describe("parsePrometheusPrompt", () => {
  const prompt = JSON.parse(readFileSync(path.join(sharedData, "prometheus_eval/mt_bench_eval.json"), "utf8"))[0].instruction as string;

  it("splits a published prompt into fields that render back to it", () => {
    const fields = parsePrometheusPrompt(prompt);
    expect("error" in fields).toBe(false);
    if ("error" in fields) return;
    expect(fields.response.startsWith("Sure, here's a limerick")).toBe(true);
    expect(fields.reference_answer?.startsWith("In this blog, two phones")).toBe(true);
    expect(fields.rubric.startsWith("[Does the response properly address")).toBe(true);
  });

  it("refuses a prompt that differs from the template", () => {
    expect(parsePrometheusPrompt(prompt.replace("1. Write a detailed", "1. Write a short"))).toEqual({
      error: "prompt does not match the Prometheus template byte for byte",
    });
    expect(parsePrometheusPrompt("Rate this.")).toHaveProperty("error");
  });
});

describe("runBenchmark end to end against a local OpenAI-compatible server", () => {
  let server: FaultServer;
  let dir: string;
  let store: RunStore;

  beforeAll(async () => {
    // A judge that always prefers A, and scores absolute answers by response length.
    server = await startFaultServer({
      reply: (body) => {
        const user = lastUserMessage(body);
        if (user.includes("###Response A:")) return "Feedback: A reads better. [RESULT] A";
        const response = /###Response to evaluate:\n([\s\S]*?)\n\n###/.exec(user)?.[1] ?? "";
        return `Feedback: scored by length. [RESULT] ${Math.min(5, 1 + Math.floor(response.length / 400))}`;
      },
    });
    dir = await mkdtemp(path.join(tmpdir(), "critic-bench-"));
    store = RunStore.open(path.join(dir, "store.sqlite"));
  });

  afterAll(async () => {
    store.close();
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("judges, measures and reports a pairwise benchmark", async () => {
    const out = path.join(dir, "hhh");
    const result = await runBenchmark({
      benchmark: "hhh-alignment", models: ["openai:always-a"], baseURL: server.baseURL, dataDir: sharedData,
      outDir: out, limit: 20, store, progress: false, bootstrap: 50,
    });
    expect(result.status).toBe("finished");
    expect(result.records).toBe(20);
    expect(result.judges[0]!.summary.judged).toBe(20);
    const judge = result.metaEval!.judges[0]!;
    // Gold alternates A, B, A, ...: a judge that always says A is right half the time.
    expect((judge.metrics as PairwiseAgreement).accuracyWithTies.value).toBeCloseTo(0.5, 12);
    const sources = new Set(readFileSync(path.join(out, "input.jsonl"), "utf8").trim().split("\n").map((l) => (JSON.parse(l) as { source: string }).source));
    expect(judge.groups?.map((g) => g.group).sort()).toEqual([...sources].sort());
    for (const file of ["input.jsonl", "judgments-openai-always-a.jsonl", "report/metrics.json", "report/report.md", "report/report.html"]) {
      expect(existsSync(path.join(out, file)), file).toBe(true);
    }
  });

  it("compares two judges on an absolute benchmark, and a re-run repays nothing", async () => {
    const out = path.join(dir, "mt");
    const options = {
      benchmark: "mt-bench", models: ["openai:judge-one", "openai:judge-two"], baseURL: server.baseURL, dataDir: sharedData,
      outDir: out, limit: 12, store, progress: false, bootstrap: 50,
    };
    const first = await runBenchmark(options);
    expect(first.judges.map((j) => j.summary.calls)).toEqual([12, 12]);
    expect(first.metaEval!.judges.map((j) => j.name)).toEqual(["openai:judge-one", "openai:judge-two"]);
    expect(first.metaEval!.comparison?.rows).toBe(12);
    expect(first.metaEval!.comparison?.table).toHaveLength(2);
    const before = server.count;
    const again = await runBenchmark(options);
    expect(server.count).toBe(before);
    expect(again.judges.map((j) => j.summary.cachedCalls)).toEqual([12, 12]);
    const pearson = (r: typeof first) => (r.metaEval!.judges[0]!.metrics as ScoreAgreement).pearson.value;
    expect(pearson(first)).not.toBeNull();
    expect(pearson(again)).toBe(pearson(first));
  });

  it("names the missing files when the data folder lacks a benchmark", async () => {
    await expect(
      runBenchmark({ benchmark: "llmbar-natural", models: ["openai:x"], baseURL: server.baseURL, dataDir: dir, outDir: path.join(dir, "none"), store }),
    ).rejects.toThrow(/llmbar\/llmbar_natural\.json.*--data/);
    await expect(
      runBenchmark({ benchmark: "llmbar-natural", models: ["openai:x"], baseURL: server.baseURL, dataDir: sharedData, outDir: path.join(dir, "wrong"), template: "criticon", store }),
    ).rejects.toThrow('benchmark "llmbar-natural" is pairwise, but template "criticon" grades absolute');
    await expect(runBenchmark({ benchmark: "nope", models: ["openai:x"], dataDir: sharedData, outDir: dir, store })).rejects.toThrow(/unknown benchmark "nope"; known: hhh-alignment/);
  });
});
