/**
 * A trained package judges with the prompts it was trained on: the text `critic export -f classify`
 * wrote for a record is, byte for byte, the one user turn the head is sent for that record (plain
 * system-in-user form, and PHUDGE's prompt form). Checked through a local server speaking vLLM's
 * /classify wire format, with --head naming a package's judge.json as package.py writes it.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exportDataset } from "../export/export.js";
import { judge } from "../judge/judge.js";
import { trainedPromptForm } from "./prompt-form.js";

const RUBRIC = { criteria: "Is it correct?", ...Object.fromEntries([1, 2, 3, 4, 5].map((n) => [`score${n}_description`, `level ${n}`])) };
const records = Array.from({ length: 6 }, (_, i) => ({
  id: `r${i}`, ...RUBRIC, instruction: `Question ${i}?`, response: `Answer ${i}.`, reference_answer: `Reference ${i}.`, feedback: `f${i}`, score: (i % 5) + 1,
  judge: { template: "prometheus-absolute", rubric: RUBRIC },
}));

let tmp: string;
let server: Server;
let url: string;
const seen: Array<Array<{ role: string; content: string }>> = [];

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), "critic-prompt-form-"));
  writeFileSync(join(tmp, "judgments.jsonl"), records.map((r) => JSON.stringify(r)).join("\n") + "\n");
  server = createServer((req, res) => {
    let text = "";
    req.on("data", (c) => (text += c));
    req.on("end", () => {
      const body = JSON.parse(text) as { model: string; messages: Array<{ role: string; content: string }> };
      seen.push(body.messages);
      const usage = { prompt_tokens: 10, total_tokens: 10, completion_tokens: 0, prompt_tokens_details: null };
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ id: "c", object: "list", created: 1, model: body.model, data: [{ index: 0, label: "LABEL_0", probs: [0, 0, 1, 0, 0], num_classes: 5 }], usage }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => {
  server.close();
  rmSync(tmp, { recursive: true, force: true });
});

/** judge.json as package.py writes it from the export's head section. */
function packageFor(exportDir: string, name: string): string {
  const head = (JSON.parse(readFileSync(join(exportDir, "export.json"), "utf8")) as { head: { labels: number[]; template: string; template_options: Record<string, unknown> } }).head;
  const { augment_drop: _dropped, ...options } = head.template_options;
  const dir = join(tmp, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "judge.json"), JSON.stringify({
    format: "critic-judge-package", version: 1, kind: "classify", labels: head.labels, scale: { min: 1, max: 5 },
    template: head.template, template_options: { ...options, chat_template: true }, pooling: "last",
    backbone: "backbone.gguf", head: "head.safetensors", base_model: "org/base", source_run: null, created_by: "critic train classify",
  }));
  return dir;
}

describe("a package judges with its training prompts", () => {
  for (const form of ["system-in-user", "phudge"] as const) {
    it(`${form}: the head is sent the exported text of each record as one user turn`, async () => {
      const exportDir = join(tmp, `export-${form}`);
      // Test rows keep the rubric and the reference, as inference does; train rows may drop them under PHUDGE's form.
      await exportDataset({ input: join(tmp, "judgments.jsonl"), outDir: exportDir, formats: ["classify"], testSize: 3, ...(form === "phudge" ? { augmentDrop: 0.5 } : {}) });
      const texts = (split: string) => readFileSync(join(exportDir, `${split}.jsonl`), "utf8").trim().split("\n").map((l) => (JSON.parse(l) as { text: string }).text);
      const exported = form === "phudge" ? texts("test") : [...texts("train"), ...texts("test")];
      expect(exported).toHaveLength(form === "phudge" ? 3 : records.length);
      const pkg = packageFor(exportDir, `pkg-${form}`);
      seen.length = 0;
      const summary = await judge({ input: join(tmp, "judgments.jsonl"), output: join(tmp, `out-${form}.jsonl`), model: "vllm-classify:m", baseURL: url, headOutput: pkg, progress: false, store: join(tmp, `${form}.sqlite`) });
      expect(summary, JSON.stringify(summary)).toMatchObject({ judged: records.length, failed: 0 });
      expect(seen.every((messages) => messages.length === 1 && messages[0]!.role === "user")).toBe(true);
      const sent = seen.map((m) => m[0]!.content);
      for (const text of exported) expect(sent).toContain(text);
    });
  }

  it("refuses a package trained without a chat template, and a prompt form it does not know", () => {
    expect(() => trainedPromptForm({ chat_template: false })).toThrow(/without a chat template/);
    expect(() => trainedPromptForm({ prompt_form: "other" })).toThrow(/prompt_form "other"/);
    expect(trainedPromptForm({})).toBeUndefined();
  });
});
