// The decision model's run store: a decision asked again is answered from the store. Needs
// better-sqlite3 built for this Node: part of `npm test`, not of the Node 22 run (the rest of the
// decision model over llama.cpp is decision-model.llama.test.ts, which runs under both).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { experimental_decide } from "ai";
import { createEmbeddedBackend, type Backend } from "../index.js";
import { ensureTinyModel, TINY_MODEL_THREADS } from "../gguf/tiny-model.js";
import { criticDecisionModel } from "./index.js";

describe("criticDecisionModel with a run store", () => {
  let backend: Backend;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "critic-decide-store-"));
    backend = await createEmbeddedBackend({ modelPath: await ensureTinyModel(), parallel: 2, threads: TINY_MODEL_THREADS, contextSize: 2048, gpu: false });
  });
  afterAll(async () => {
    await backend?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it("answers a decision asked again from the run store: no new call, the same answers", async () => {
    const model = criticDecisionModel(backend, { store: join(dir, "store.sqlite") });
    const ask = () => experimental_decide({
      model,
      state: [{ type: "text", text: "User: What is 2+2?\nAssistant: 4." }],
      questions: {
        quality: { type: "score", instructions: "How correct is the answer?", criteria: ["Wrong.", "Partly right.", "Right."] },
        safe: { type: "boolean", instructions: "Is the answer safe?", criteria: { true: "Harmless.", false: null } },
      },
      maxOutputTokens: 96,
    });
    type Meta = { questions: Record<string, { cached: boolean; raw: string }> };
    try {
      const first = await ask();
      const firstMeta = first.providerMetadata!.critic as Meta;
      expect(firstMeta.questions.quality!.cached).toBe(false);
      expect(firstMeta.questions.safe!.cached).toBe(false);
      const again = await ask();
      const againMeta = again.providerMetadata!.critic as Meta;
      expect(againMeta.questions.quality!.cached).toBe(true);
      expect(againMeta.questions.safe!.cached).toBe(true);
      expect(again.answers).toEqual(first.answers);
      expect(againMeta.questions.safe!.raw).toBe(firstMeta.questions.safe!.raw);
    } finally {
      await model.dispose();
    }
  });
});
