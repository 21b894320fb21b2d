import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { RunStore, callKey } from "./run-store.js";

const identity = {
  backend: "openai",
  model: "m",
  messages: [{ role: "user" as const, content: "hi" }],
  params: { temperature: 0, maxTokens: 10 },
};

describe("callKey", () => {
  it("does not depend on key order but does depend on every part", () => {
    const reordered = { params: { maxTokens: 10, temperature: 0 }, model: "m", messages: identity.messages, backend: "openai" };
    expect(callKey(reordered)).toBe(callKey(identity));
    expect(callKey({ ...identity, params: { temperature: 0.1, maxTokens: 10 } })).not.toBe(callKey(identity));
    expect(callKey({ ...identity, model: "other" })).not.toBe(callKey(identity));
    expect(callKey({ ...identity, constraint: { gbnf: 'root ::= "a"' } })).not.toBe(callKey(identity));
    expect(callKey({ ...identity, variant: "prefix-reuse" })).not.toBe(callKey(identity));
    expect(callKey({ ...identity, verdict: { candidates: ["1", "2"] } })).not.toBe(callKey(identity));
  });
});

describe("RunStore", () => {
  it("persists calls and runs across reopen", () => {
    const path = join(mkdtempSync(join(tmpdir(), "critic-store-")), "nested", "store.sqlite");
    const store = RunStore.open(path);
    const key = callKey(identity);
    expect(store.getCall(key)).toBeUndefined();
    store.putCall(key, { text: "ok [RESULT] 3", usage: { promptTokens: 5, completionTokens: 3 }, latencyMs: 12 });
    const runId = store.startRun("judge", { input: "x.jsonl" });
    store.finishRun(runId, "finished", { judged: 1 });
    store.close();

    const reopened = RunStore.open(path);
    expect(reopened.getCall(key)?.text).toBe("ok [RESULT] 3");
    expect(reopened.countCalls()).toBe(1);
    const [run] = reopened.listRuns();
    expect(run).toMatchObject({ id: runId, command: "judge", status: "finished", summary: { judged: 1 } });
    reopened.close();
  });

  it("commits calls in groups: at once to itself, to other readers within the group's time or size", async () => {
    const path = join(mkdtempSync(join(tmpdir(), "critic-store-")), "store.sqlite");
    const writer = RunStore.open(path);
    const reader = RunStore.open(path);
    const call = (n: number) => ({ text: `answer ${n}`, usage: { promptTokens: 1, completionTokens: 1 }, latencyMs: 1 });
    writer.putCall("k0", call(0));
    expect(writer.getCall("k0")?.text).toBe("answer 0");
    expect(reader.getCall("k0")).toBeUndefined(); // not committed yet
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(reader.getCall("k0")?.text).toBe("answer 0"); // committed by the timer
    for (let n = 1; n <= 64; n++) writer.putCall(`k${n}`, call(n));
    // 64 calls make a group: committed without waiting for the timer.
    expect(reader.getCall("k64")?.text).toBe("answer 64");
    writer.putCall("last", call(99));
    writer.close(); // commits the rest
    expect(reader.getCall("last")?.text).toBe("answer 99");
    expect(reader.countCalls()).toBe(66);
    reader.close();
  });
});
