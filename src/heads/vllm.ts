/**
 * A head served by vLLM's pooling API (a *ForSequenceClassification model, or a causal LM served with
 * `vllm serve <model> --runner pooling --convert classify`). Wire format as in vllm-project/vllm
 * vllm/entrypoints/pooling (classify/protocol.py at dff4cad, pooling/protocol.py at 343bacaf,
 * base/protocol.py at 65772ef):
 *   POST /classify  {model, messages, add_generation_prompt, use_activation}
 *        -> {id, object: "list", model, data: [{index, label, probs: [..], num_classes}], usage: {prompt_tokens, ...}}
 *   POST /pooling   {model, messages, add_generation_prompt, task: "classify", use_activation}
 *        -> {id, object: "list", model, data: [{index, object: "pooling", data: [..]}], usage}
 * The chat form (`messages` with `add_generation_prompt`) lets the server apply the model's own chat
 * template, as the embedded head does, so the pooled token is where a generative judge would start
 * writing. `use_activation: false` asks for the raw head outputs (logits; a regress head's value):
 * the softmax is taken here, the same way for every head. The routes sit at the server's root, not
 * under /v1 (a base URL ending in /v1 is trimmed).
 */
import type { ChatMessage } from "../backends/types.js";
import { BackendError } from "../backends/types.js";
import { createHttpHeadClient, httpHeadModel, type HttpHeadOptions } from "./http-head.js";
import type { HeadModel, HeadOutput, HeadScore } from "./spec.js";

export interface VllmHeadOptions extends HttpHeadOptions {
  /** The served model name. */
  model: string;
  route: "classify" | "pooling";
  output: HeadOutput;
}

export function createVllmHead(options: VllmHeadOptions): HeadModel & { retries: number } {
  const client = createHttpHeadClient({ ...options, baseURLs: options.baseURLs.map((u) => u.replace(/\/+$/, "").replace(/\/v1$/, "")) });
  const what = `vLLM /${options.route} (model "${options.model}")`;
  const rows = options.output.kind === "classify" ? options.output.labels!.length : 1;
  const score = async (messages: ChatMessage[], signal?: AbortSignal): Promise<HeadScore> => {
    const body = {
      model: options.model,
      messages: messages.map((m) => ({ role: m.role, content: m.content })),
      add_generation_prompt: true,
      use_activation: false,
      ...(options.route === "pooling" ? { task: "classify" } : {}),
    };
    const json = (await client.post(options.route, body, what, signal)) as { data?: Array<{ probs?: unknown; data?: unknown }>; usage?: { prompt_tokens?: number } };
    const item = json.data?.[0];
    const values = options.route === "classify" ? item?.probs : item?.data;
    if (!Array.isArray(values) || !values.every((v) => typeof v === "number")) {
      throw new BackendError(`${what}: the response has no data[0].${options.route === "classify" ? "probs" : "data"} list of numbers: ${JSON.stringify(json).slice(0, 200)}`, false);
    }
    if (values.length !== rows) throw new BackendError(`${what}: the model gives ${values.length} outputs but ${options.output.kind === "classify" ? `${rows} labels were given (--head)` : "a regress head has 1"}`, false);
    return { logits: values as number[], promptTokens: json.usage?.prompt_tokens ?? 0 };
  };
  return httpHeadModel({ kind: `vllm-${options.route}`, model: options.model, output: options.output }, client, score);
}
