/**
 * POST /classify (and /v1/classify): a judge package's head, answered in vLLM's classification format
 * (vllm-project/vllm vllm/entrypoints/pooling/classify/protocol.py at dff4cad), so `critic serve
 * --model ./judge-package/` can stand in for `vllm serve ... --runner pooling --convert classify`
 * (critic's own `--model vllm-classify:<name>` reads it).
 *   {model?, messages: [{role, content}], add_generation_prompt?, use_activation?}   (chat form), or
 *   {model?, input: "text" | ["text", ...], use_activation?}                         (each text a user turn)
 *   -> {id, object: "list", created, model, data: [{index, label, probs, num_classes}], usage}
 * `probs` is the softmax of the head's logits (use_activation false: the logits; a regress head's value
 * is returned as it is). `label` is the score of the argmax row. The chat template is always applied
 * (the head was trained on chat-formatted prompts), with the assistant turn opened.
 */
import { randomUUID } from "node:crypto";
import type { Context, Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { z } from "zod";
import type { ChatMessage } from "../backends/types.js";
import { softmax, type HeadModel } from "../heads/spec.js";

const message = z.object({ role: z.enum(["system", "user", "assistant"]), content: z.string() });
const classifyRequest = z.union([
  z.object({ model: z.string().optional(), messages: z.array(message).min(1), add_generation_prompt: z.boolean().optional(), use_activation: z.boolean().nullish() }),
  z.object({ model: z.string().optional(), input: z.union([z.string(), z.array(z.string()).min(1)]), use_activation: z.boolean().nullish() }),
]);

export function registerClassifyRoute(app: Hono, head: HeadModel, modelName: string, maxBodyBytes = 8 * 1024 * 1024): void {
  const fail = (c: Context, status: 400 | 404 | 413 | 500, msg: string) => c.json({ error: { message: msg, type: status === 500 ? "server_error" : "invalid_request_error", param: null, code: status } }, status);
  const handler = async (c: Context) => {
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      return fail(c, 400, "The request body is not valid JSON.");
    }
    const parsed = classifyRequest.safeParse(body);
    if (!parsed.success) return fail(c, 400, "expected {messages: [{role, content}]} or {input: string | string[]}");
    const request = parsed.data;
    if (request.model !== undefined && request.model !== modelName) return fail(c, 404, `The model '${request.model}' does not exist; this server serves '${modelName}'.`);
    const prompts: ChatMessage[][] = "messages" in request ? [request.messages] : (Array.isArray(request.input) ? request.input : [request.input]).map((text) => [{ role: "user" as const, content: text }]);
    let scores;
    try {
      scores = await head.score(prompts, c.req.raw.signal);
    } catch (error) {
      return fail(c, 500, `Classification failed: ${(error as Error).message}`);
    }
    const activation = request.use_activation !== false && head.output.kind === "classify";
    const promptTokens = scores.reduce((s, x) => s + x.promptTokens, 0);
    return c.json({
      id: `classify-${randomUUID()}`,
      object: "list",
      created: Math.floor(Date.now() / 1000),
      model: modelName,
      data: scores.map((s, index) => {
        let best = 0;
        s.logits.forEach((l, i) => (best = l > s.logits[best]! ? i : best));
        return { index, label: head.output.labels ? String(head.output.labels[best]) : null, probs: activation ? softmax(s.logits) : s.logits, num_classes: s.logits.length };
      }),
      usage: { prompt_tokens: promptTokens, total_tokens: promptTokens, completion_tokens: 0, prompt_tokens_details: null },
    });
  };
  const limit = bodyLimit({ maxSize: maxBodyBytes, onError: (c) => fail(c, 413, "Request body too large.") });
  app.post("/classify", limit, handler);
  app.post("/v1/classify", limit, handler);
}
