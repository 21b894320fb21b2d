/** Which --model values name a head judge, and opening them. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { isJudgePackage, PACKAGE_MANIFEST, parseManifest } from "./package.js";
import type { HeadModel, HeadOutput } from "./spec.js";

export const HEAD_SPEC_FORMS = [
  "./judge-package/ (a critic judge package: judge.json + backbone.gguf + head.safetensors)",
  "vllm-classify:<name> (vLLM's /classify; see --base-url)",
  "vllm-pooling:<name> (vLLM's /pooling, task classify; see --base-url)",
  "tei:<url> (text-embeddings-inference /predict)",
];

export function isHeadSpec(spec: unknown): spec is string {
  return typeof spec === "string" && (/^(vllm-classify|vllm-pooling|tei):/.test(spec) || isJudgePackage(spec));
}

export interface OpenHeadOptions {
  baseURL?: string;
  baseURLs?: string[];
  /** What a server head's outputs mean: "classify:1,2,3,4,5" (default), "regress:<min>,<max>", or a package folder whose judge.json says. */
  headOutput?: string;
  concurrency?: number;
  timeoutMs?: number;
  requestRetries?: number;
  threads?: number;
  contextSize?: number;
  gpu?: "auto" | false;
  /** A package: sequences of its context (prompts evaluated in shared batches). */
  parallel?: number;
}

export const DEFAULT_HEAD_OUTPUT: HeadOutput = { kind: "classify", labels: [1, 2, 3, 4, 5], scale: { min: 1, max: 5 } };

/** --head: "classify:1,2,3,4,5", "regress:1,5", or a judge package folder. */
export function parseHeadOutput(text: string | undefined): HeadOutput & { template?: string; templateOptions?: Record<string, unknown> } {
  if (text === undefined) return DEFAULT_HEAD_OUTPUT;
  if (isJudgePackage(text)) {
    const file = text.endsWith(PACKAGE_MANIFEST) ? text : join(text, PACKAGE_MANIFEST);
    const m = parseManifest(readFileSync(file, "utf8"), file);
    return { kind: m.kind, ...(m.labels ? { labels: m.labels } : {}), scale: m.scale, template: m.template, ...(m.template_options ? { templateOptions: m.template_options } : {}) };
  }
  const match = /^(classify|regress):(.+)$/.exec(text.trim());
  const numbers = match ? match[2]!.split(",").map((x) => Number(x.trim())) : [];
  if (!match || numbers.some((n) => !Number.isFinite(n))) throw new Error(`--head "${text}": expected classify:<score of each output, e.g. 1,2,3,4,5>, regress:<min>,<max>, or a judge package folder`);
  if (match[1] === "classify") {
    if (numbers.length < 2 || new Set(numbers).size !== numbers.length) throw new Error(`--head "${text}": a classifier needs two or more different scores`);
    return { kind: "classify", labels: numbers, scale: { min: Math.min(...numbers), max: Math.max(...numbers) } };
  }
  if (numbers.length !== 2 || !(numbers[0]! < numbers[1]!)) throw new Error(`--head "${text}": regress:<min>,<max> with min below max`);
  return { kind: "regress", scale: { min: numbers[0]!, max: numbers[1]! } };
}

export async function openHead(spec: string, options: OpenHeadOptions = {}): Promise<HeadModel> {
  const urls = options.baseURLs && options.baseURLs.length > 0 ? options.baseURLs : options.baseURL ? [options.baseURL] : [];
  const http = { ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}), ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}), ...(options.requestRetries !== undefined ? { requestRetries: options.requestRetries } : {}) };
  const server = /^(vllm-classify|vllm-pooling|tei):(.*)$/.exec(spec);
  if (server) {
    const output = parseHeadOutput(options.headOutput);
    const { template, templateOptions, ...plain } = output;
    const withTemplate = <T extends HeadModel>(h: T): T => Object.assign(h, template ? { template } : {}, templateOptions ? { templateOptions } : {});
    const name = server[2]!.trim();
    if (server[1] === "tei") {
      if (!/^https?:\/\//.test(name)) throw new Error(`--model "${spec}": expected tei:<url>, e.g. tei:http://127.0.0.1:8080`);
      const { createTeiHead } = await import("./tei.js");
      return withTemplate(createTeiHead({ baseURLs: [name, ...urls.filter((u) => u !== name)], output: plain, ...http }));
    }
    if (name === "") throw new Error(`--model "${spec}": no model name after "${server[1]}:"`);
    if (urls.length === 0) throw new Error(`--model ${spec} needs --base-url (the vLLM server, e.g. http://127.0.0.1:8000)`);
    const { createVllmHead } = await import("./vllm.js");
    // vLLM's --api-key is sent as OpenAI clients send it: $OPENAI_API_KEY as a bearer token.
    return withTemplate(createVllmHead({ model: name, route: server[1] === "vllm-classify" ? "classify" : "pooling", baseURLs: urls, output: plain, apiKeyEnv: "OPENAI_API_KEY", ...http }));
  }
  if (options.headOutput !== undefined) throw new Error("--head describes a server head's outputs; a judge package says them in its judge.json");
  const { createEmbeddedHead } = await import("./embedded.js");
  return createEmbeddedHead({
    package: spec,
    ...(options.threads !== undefined ? { threads: options.threads } : {}),
    ...(options.contextSize !== undefined ? { contextSize: options.contextSize } : {}),
    ...(options.gpu !== undefined ? { gpu: options.gpu } : {}),
    ...(options.parallel !== undefined ? { parallel: options.parallel } : {}),
  });
}
