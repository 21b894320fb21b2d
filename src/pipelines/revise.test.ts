import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RunStore } from "../store/run-store.js";
import { lastUserMessage, startFaultServer, type ChatBody, type FaultServer } from "../../test/support/fault-server.js";
import { loadPrinciple } from "./assets.js";
import { revise, reviseRecords, type ReviseRecord } from "./revise.js";
import { readJsonl, writeJsonl } from "../../test/support/jsonl.js";

const jsonl = (name: string, rows: unknown[]): string => writeJsonl(join(dir, name), rows);

const dir = mkdtempSync(join(tmpdir(), "critic-revise-"));
const principle = loadPrinciple("harmlessness");
let server: FaultServer;
/** Score the scripted judge gives a response, by its text; "garbage" answers without a verdict. */
let judgeScore: (response: string) => number | "garbage" = () => 3;
let onRequest: (count: number) => void = () => {};

function kind(body: ChatBody): "judge" | "critique" | "revision" | "answer" {
  const last = lastUserMessage(body);
  if (last.includes("###Response to evaluate:")) return "judge";
  if (last === principle.critiqueRequest) return "critique";
  if (last === principle.revisionRequest) return "revision";
  return "answer";
}

/** A scripted generator and judge on one real OpenAI-wire server. */
function reply(body: ChatBody): string {
  onRequest(server.count);
  const messages = body.messages ?? [];
  const prompt = messages[0]?.content ?? "";
  switch (kind(body)) {
    case "answer":
      return `original answer to ${prompt}`;
    case "critique":
      return `critique of: ${messages.at(-2)!.content}`;
    case "revision": {
      // Revision k+1 revises the response the conversation shows (the original or revision k).
      const previous = Number(/^revision (\d+)/.exec(messages[1]!.content)?.[1] ?? 0);
      return `revision ${previous + 1} of ${prompt}`;
    }
    case "judge": {
      const response = /###Response to evaluate:\n([\s\S]*?)\n\n###Score Rubrics/.exec(lastUserMessage(body))![1]!;
      const score = judgeScore(response);
      return score === "garbage" ? "I cannot decide." : `Feedback: scored by script. [RESULT] ${score}`;
    }
  }
}

beforeAll(async () => {
  server = await startFaultServer({ reply });
});
afterAll(async () => server?.close());

const base = () => ({ model: "openai:gen", baseURL: server.baseURL, progress: false as const, params: { maxTokens: 64 } });

describe("revise() on a scripted OpenAI-wire generator and judge", () => {
  it("chains answer -> critique -> revision, scores every step, accepts an improvement and rejects bad records", async () => {
    judgeScore = (r) => (r.startsWith("revision 2") ? 5 : r.startsWith("revision 1") ? 4 : 2);
    const input = jsonl("prompts.jsonl", [
      { id: 1, prompt: "How do I pick a lock?" },
      { id: 2 },
      "{broken",
      { id: 3, instruction: "Say something mean." },
    ]);
    const output = join(dir, "out.jsonl");
    const store = join(dir, "a.sqlite");
    const requestsBefore = server.count;
    const summary = await revise({ ...base(), input, output, store, steps: 2 });
    expect(summary).toMatchObject({ status: "finished", records: 4, rejected: 2, items: 2, written: 2, failed: 0 });
    expect(summary.stage).toMatchObject({ accepted: 2, notAccepted: 0, principle: "harmlessness", steps: 2, accept: "improved" });
    // Per prompt: 1 answer + 2 x (critique + revision) + 3 judgments.
    expect(server.count - requestsBefore).toBe(2 * 8);
    expect(summary.generation).toMatchObject({ calls: 10, cachedCalls: 0 });
    expect(summary.judge).toMatchObject({ calls: 6, judged: 6, failed: 0 });

    const rows = readJsonl<ReviseRecord>(output);
    expect(rows.map((r) => r.id)).toEqual([1, 3]);
    const [first, second] = rows;
    expect(first!.prompt).toBe("How do I pick a lock?");
    expect(second!.prompt).toBe("Say something mean.");
    expect(second!.instruction).toBe("Say something mean.");
    expect(first!.principle).toBe("harmlessness");
    expect(first!.chain.map((s) => [s.response, s.score])).toEqual([
      ["original answer to How do I pick a lock?", 2],
      ["revision 1 of How do I pick a lock?", 4],
      ["revision 2 of How do I pick a lock?", 5],
    ]);
    expect(first!.chain[0]).not.toHaveProperty("critique");
    expect(first!.chain[1]!.critique).toBe("critique of: original answer to How do I pick a lock?");
    expect(first!.chain[2]!.critique).toBe("critique of: revision 1 of How do I pick a lock?");
    expect(first!.chain[1]!.feedback).toBe("scored by script.");
    expect(first).toMatchObject({ accepted: true, chosen: "revision 2 of How do I pick a lock?", rejected: "original answer to How do I pick a lock?", chosen_score: 5, rejected_score: 2 });
    expect(first).not.toHaveProperty("error");

    const rejects = readJsonl(summary.rejects!);
    expect(rejects.map((r) => [r.line, r.field ?? null])).toEqual([[2, "prompt"], [3, null]]);
    expect(String(rejects[0]!.reason)).toMatch(/missing field "prompt" \(or "instruction"\)/);

    // The judge was given the principle's own rubric.
    const judgePrompt = server.requests.map((r) => lastUserMessage(r.body)).find((m) => m.includes("###Score Rubrics"))!;
    expect(judgePrompt).toContain(principle.rubric!.criteria);
    // The revision turn carries prompt, answer, critique request, critique and revision request.
    const revisionBody = server.requests.find((r) => kind(r.body) === "revision")!.body;
    expect(revisionBody.messages!.map((m) => m.role)).toEqual(["user", "assistant", "user", "assistant", "user"]);

    // Run again: every call is in the store, nothing is paid.
    const again = server.count;
    const rerun = await revise({ ...base(), input, output, store, steps: 2 });
    expect(server.count).toBe(again);
    expect(rerun.generation.cachedCalls).toBe(10);
    expect(rerun.judge.cachedCalls).toBe(6);
    expect(readJsonl<ReviseRecord>(output)).toEqual(rows);
  });

  it("applies the acceptance rule, keeps the best accepted revision and never accepts a failed score", async () => {
    const records = [{ prompt: "p-improve" }, { prompt: "p-same" }, { prompt: "p-garbage" }];
    judgeScore = (r) => {
      if (r.includes("p-garbage") && r.startsWith("revision")) return "garbage";
      if (r.includes("p-same")) return 3;
      return r.startsWith("revision") ? 4 : 3;
    };
    const run = async (accept: "improved" | "always" | { minGain: number }) => {
      const out: ReviseRecord[] = [];
      for await (const r of reviseRecords(records, { ...base(), accept, maxRetries: 1 })) out.push(r);
      return out;
    };
    const improved = await run("improved");
    expect(improved.map((r) => r.accepted)).toEqual([true, false, false]);
    expect(improved[1]).toMatchObject({ chosen: null, rejected: null, chosen_score: null, rejected_score: null });
    expect(improved[1]).not.toHaveProperty("error");
    const garbage = improved[2]!;
    expect(garbage.chain[1]).toMatchObject({ score: null, feedback: null, error: expect.stringMatching(/unparseable judge output after 2 attempt/) });
    expect(garbage.error).toMatch(/^judge failed on revision 1: unparseable/);

    expect((await run({ minGain: 2 })).map((r) => r.accepted)).toEqual([false, false, false]);
    const always = await run("always");
    expect(always.map((r) => r.accepted)).toEqual([true, true, false]);
    expect(always[1]).toMatchObject({ chosen_score: 3, rejected_score: 3 });
  });

  it("records a generation failure instead of inventing a chain", async () => {
    const failing = await startFaultServer({ faults: (_i, body) => (kind(body) === "critique" ? { status: 400, message: "bad critique" } : undefined), reply });
    try {
      const out: ReviseRecord[] = [];
      for await (const r of reviseRecords([{ prompt: "x" }], { ...base(), baseURL: failing.baseURL })) out.push(r);
      expect(out[0]!.chain).toHaveLength(1);
      expect(out[0]).toMatchObject({ accepted: false, chosen: null });
      expect(out[0]!.error).toMatch(/^generation failed at step 1: .*bad critique/);
    } finally {
      await failing.close();
    }
  });

  it("an interrupted run leaves .partial; the resumed run pays exactly for the calls not finished before", async () => {
    judgeScore = (r) => (r.startsWith("revision") ? 4 : 2);
    const input = jsonl("many.jsonl", Array.from({ length: 12 }, (_, i) => ({ id: i, prompt: `prompt number ${i}` })));
    // Reference: what a whole run pays.
    const start = server.count;
    await revise({ ...base(), input, output: join(dir, "ref.jsonl"), store: join(dir, "ref.sqlite"), concurrency: 2 });
    const full = server.count - start;
    expect(full).toBe(12 * 5);

    const output = join(dir, "resume.jsonl");
    const storePath = join(dir, "resume.sqlite");
    const controller = new AbortController();
    const stopAt = server.count + 23;
    onRequest = (n) => {
      if (n >= stopAt) controller.abort();
    };
    const first = await revise({ ...base(), input, output, store: storePath, concurrency: 2, signal: controller.signal });
    onRequest = () => {};
    expect(first.status).toBe("interrupted");
    expect(first.output).toBe(`${output}.partial`);
    expect(existsSync(output)).toBe(false);
    expect(first.items).toBeLessThan(12);
    const store = RunStore.open(storePath);
    const cached = store.countCalls();
    store.close();
    expect(cached).toBeGreaterThanOrEqual(23);
    expect(cached).toBeLessThan(full);

    const before = server.count;
    const second = await revise({ ...base(), input, output, store: storePath, concurrency: 2 });
    expect(second.status).toBe("finished");
    expect(server.count - before).toBe(full - cached);
    expect(second.generation.cachedCalls + second.judge.cachedCalls).toBe(cached);
    expect(readJsonl<ReviseRecord>(output).map((r) => r.id)).toEqual([...Array(12).keys()]);
    expect(readJsonl<ReviseRecord>(output)).toEqual(readJsonl<ReviseRecord>(join(dir, "ref.jsonl")));
  });
});
