import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { judge } from "../judge/judge.js";
import { headVerdict } from "./spec.js";

// Local servers speaking vLLM's pooling API and TEI's /predict (request and response JSON as in
// vllm-project/vllm vllm/entrypoints/pooling/{classify,pooling,base}/protocol.py and
// huggingface/text-embeddings-inference router/src/http/types.rs). Their logits are a function of
// the prompt text, so the test knows what each record must get.
function logitsFor(text: string, n: number): number[] {
  let h = 0;
  for (const c of text) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return Array.from({ length: n }, (_, i) => ((h >> (i * 3)) % 17) / 4 - 2);
}

interface Seen { path: string; body: Record<string, any> }

function startServer(name: string, handle: (path: string, body: Record<string, any>, seen: Seen[]) => { status: number; json: unknown; headers?: Record<string, string> }): Promise<{ url: string; seen: Seen[]; server: Server }> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    let text = "";
    req.on("data", (c) => (text += c));
    req.on("end", () => {
      const body = JSON.parse(text) as Record<string, any>;
      seen.push({ path: req.url!, body });
      const { status, json, headers } = handle(req.url!, body, seen);
      res.writeHead(status, { "content-type": "application/json", ...headers });
      res.end(JSON.stringify(json));
    });
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, server })));
}

const promptText = (body: Record<string, any>) => (body.messages as Array<{ content: string }>).map((m) => m.content).join("\n\n");

function vllm(path: string, body: Record<string, any>, seen: Seen[]) {
  // The first request gets a 429 (as vLLM behind a rate limiter would answer): retried, not failed.
  if (seen.length === 1) return { status: 429, json: { error: { message: "too many requests", code: 429 } }, headers: { "retry-after": "0" } };
  if (body.model !== "phudge-classif" || body.add_generation_prompt !== true || body.use_activation !== false || !Array.isArray(body.messages)) {
    return { status: 400, json: { error: { message: `bad request ${JSON.stringify(body).slice(0, 100)}`, code: 400 } } };
  }
  const logits = logitsFor(promptText(body), 5);
  const usage = { prompt_tokens: 42, total_tokens: 42, completion_tokens: 0, prompt_tokens_details: null };
  if (path === "/classify") return { status: 200, json: { id: "classify-1", object: "list", created: 1, model: body.model, data: [{ index: 0, label: "LABEL_0", probs: logits, num_classes: 5 }], usage } };
  if (path === "/pooling" && body.task === "classify") return { status: 200, json: { id: "pool-1", object: "list", created: 1, model: body.model, data: [{ index: 0, object: "pooling", data: logits }], usage } };
  return { status: 404, json: { detail: "Not Found" } };
}

function tei(path: string, body: Record<string, any>) {
  if (path !== "/predict" || typeof body.inputs !== "string" || body.raw_scores !== true) return { status: 422, json: { error: "bad input", error_type: "validation" } };
  const logits = logitsFor(body.inputs, 5);
  // One prediction per class, sorted by score, labels from id2label (LABEL_i by default).
  return { status: 200, json: logits.map((score, i) => ({ score, label: `LABEL_${i}` })).sort((a, b) => b.score - a.score) };
}

describe("server heads: vLLM /classify and /pooling, TEI /predict (local servers, real wire format)", () => {
  let tmp: string;
  const servers: Server[] = [];
  const records = [
    { id: 1, instruction: "What is 2+2?", response: "4" },
    { id: 2, instruction: "Name a colour.", response: "Blue." },
    { id: 3, instruction: "Capital of France?", response: "Paris." },
    { id: 4, instruction: "Largest planet?", response: "Jupiter." },
  ];
  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), "critic-server-heads-"));
    writeFileSync(join(tmp, "in.jsonl"), records.map((r) => JSON.stringify(r)).join("\n") + "\n");
  });
  afterAll(() => {
    for (const s of servers) s.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  for (const route of ["classify", "pooling"] as const) {
    it(`vllm-${route}: two endpoints share the records, a 429 is retried, scores are the softmax of the server's logits`, async () => {
      const a = await startServer("a", vllm);
      const b = await startServer("b", vllm);
      servers.push(a.server, b.server);
      const out = join(tmp, `${route}.jsonl`);
      const summary = await judge({ input: join(tmp, "in.jsonl"), output: out, model: `vllm-${route}:phudge-classif`, baseURLs: [`${a.url}/v1`, b.url], rubric: "helpfulness", progress: false, store: join(tmp, `${route}.sqlite`), requestRetries: 2 });
      expect(summary).toMatchObject({ judged: 4, failed: 0 });
      expect(summary.requestRetries).toBe(2); // each server's first answer was a 429
      expect(a.seen.every((s) => s.path === `/${route}`) && b.seen.every((s) => s.path === `/${route}`)).toBe(true);
      expect(a.seen.length).toBeGreaterThan(1);
      expect(b.seen.length).toBeGreaterThan(1);
      const judged = readFileSync(out, "utf8").trim().split("\n").map((l) => JSON.parse(l) as Record<string, any>);
      const answered = [...a.seen, ...b.seen].filter((s) => s.body.messages);
      for (const j of judged) {
        expect(j.judge.backend).toBe(`vllm-${route}`);
        expect(j.judge.tokens.prompt).toBe(42);
        const sent = answered.find((s) => promptText(s.body).includes(j.response as string))!;
        const expected = headVerdict(logitsFor(promptText(sent.body), 5), { kind: "classify", labels: [1, 2, 3, 4, 5], scale: { min: 1, max: 5 } });
        expect({ score: j.score, score_distribution: j.score_distribution, score_expected: j.score_expected }).toEqual(expected);
      }
    });
  }

  it("vllm: a server that gives another number of outputs than the labels fails the record with the reason", async () => {
    const s = await startServer("c", (path, body, seen) => (seen.length === 1 ? vllm(path, body, [...seen, ...seen]) : vllm(path, body, seen)));
    servers.push(s.server);
    const out = join(tmp, "three.jsonl");
    const summary = await judge({ input: join(tmp, "in.jsonl"), output: out, model: "vllm-classify:phudge-classif", baseURL: s.url, headOutput: "classify:1,2,3", rubric: "helpfulness", progress: false, store: join(tmp, "three.sqlite") });
    expect(summary).toMatchObject({ judged: 0, failed: 4 });
    const first = JSON.parse(readFileSync(out, "utf8").split("\n")[0]!) as Record<string, any>;
    expect(first.score).toBeNull();
    expect(first.error).toMatch(/gives 5 outputs but 3 labels were given/);
  });

  it("tei:<url>: /predict with raw scores, labels mapped to rows by LABEL_<i>", async () => {
    const s = await startServer("tei", tei);
    servers.push(s.server);
    const out = join(tmp, "tei.jsonl");
    const summary = await judge({ input: join(tmp, "in.jsonl"), output: out, model: `tei:${s.url}`, rubric: "helpfulness", progress: false, store: join(tmp, "tei.sqlite") });
    expect(summary).toMatchObject({ judged: 4, failed: 0 });
    const judged = readFileSync(out, "utf8").trim().split("\n").map((l) => JSON.parse(l) as Record<string, any>);
    for (const j of judged) {
      const sent = s.seen.find((x) => (x.body.inputs as string).includes(j.response as string))!;
      expect(j.score_distribution).toEqual(headVerdict(logitsFor(sent.body.inputs as string, 5), { kind: "classify", labels: [1, 2, 3, 4, 5], scale: { min: 1, max: 5 } }).score_distribution);
    }
  });
});
