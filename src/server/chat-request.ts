/** The OpenAI chat completions request body, checked and turned into a backend request. */
import { z } from "zod";
import type { ChatMessage, GenerateRequest } from "../backends/types.js";

const textPart = z.object({ type: z.literal("text"), text: z.string() });

const message = z.object({
  // "developer" is OpenAI's newer name for the system role.
  role: z.enum(["system", "developer", "user", "assistant"], {
    error: 'role must be "system", "developer", "user" or "assistant" (tool messages are not supported)',
  }),
  content: z.union([z.string(), z.array(textPart)], { error: "content must be a string or an array of text parts" }),
});

/** Fields this server cannot honour: refused rather than silently ignored. */
const unsupported = (name: string) =>
  z.unknown().optional().refine((v) => v == null || (Array.isArray(v) && v.length === 0), `${name} are not supported by this server`);

const optionalNumber = (schema: z.ZodNumber) => schema.nullish().transform((v) => v ?? undefined);

export const chatCompletionRequest = z.object({
  model: z.string().optional(),
  messages: z.array(message).min(1, "messages must hold at least one message"),
  temperature: optionalNumber(z.number().min(0).max(2)),
  top_p: optionalNumber(z.number().gt(0).max(1)),
  /** llama.cpp-server extension. */
  top_k: optionalNumber(z.number().int().min(0)),
  max_tokens: optionalNumber(z.number().int().min(1)),
  max_completion_tokens: optionalNumber(z.number().int().min(1)),
  seed: optionalNumber(z.number().int()),
  stop: z
    .union([z.string(), z.array(z.string())])
    .nullish()
    .transform((v) => (v == null ? undefined : Array.isArray(v) ? v : [v])),
  n: optionalNumber(z.number().int().min(1).max(16)),
  stream: z.boolean().nullish(),
  stream_options: z.object({ include_usage: z.boolean().optional() }).nullish(),
  /** llama.cpp-server extension: a GBNF grammar the output must follow. */
  grammar: z.string().nullish(),
  response_format: z
    .discriminatedUnion("type", [
      z.object({ type: z.literal("text") }),
      z.object({ type: z.literal("json_schema"), json_schema: z.object({ name: z.string().optional(), schema: z.record(z.string(), z.unknown()) }) }),
    ], { error: 'response_format.type must be "text" or "json_schema" (json_object is not supported; give a schema or a grammar)' })
    .nullish(),
  tools: unsupported("tools"),
  functions: unsupported("functions"),
  /** Each output token's log probability (backends that have them: the embedded model). */
  logprobs: z.boolean({ error: "logprobs must be true or false" }).nullish(),
  /** With logprobs: the most likely tokens at each position, 0-20 as OpenAI allows. */
  top_logprobs: optionalNumber(z.number().int().min(0).max(20)),
}).refine((body) => body.top_logprobs === undefined || body.logprobs === true, { message: "top_logprobs needs logprobs: true", path: ["top_logprobs"] });

export type ChatCompletionRequest = z.infer<typeof chatCompletionRequest>;

/** The backend request for one choice; choice i > 0 of a seeded n > 1 request gets seed + i so choices differ. */
export function toGenerateRequest(body: ChatCompletionRequest, choice: number, signal?: AbortSignal): GenerateRequest {
  const messages: ChatMessage[] = body.messages.map((m) => ({
    role: m.role === "developer" ? "system" : m.role,
    content: typeof m.content === "string" ? m.content : m.content.map((part) => part.text).join(""),
  }));
  const maxTokens = body.max_completion_tokens ?? body.max_tokens;
  const seed = body.seed !== undefined ? body.seed + choice : undefined;
  const request: GenerateRequest = {
    messages,
    params: {
      // OpenAI samples at temperature 1 unless told otherwise; the backends default to greedy.
      temperature: body.temperature ?? 1,
      ...(body.top_p !== undefined ? { topP: body.top_p } : {}),
      ...(body.top_k !== undefined ? { topK: body.top_k } : {}),
      ...(maxTokens !== undefined ? { maxTokens } : {}),
      ...(seed !== undefined ? { seed } : {}),
      ...(body.stop && body.stop.length > 0 ? { stop: body.stop } : {}),
    },
    ...(signal ? { signal } : {}),
  };
  if (body.logprobs) request.logprobs = { top: body.top_logprobs ?? 0 };
  if (body.grammar) request.constraint = { gbnf: body.grammar };
  else if (body.response_format?.type === "json_schema") request.constraint = { jsonSchema: body.response_format.json_schema.schema };
  return request;
}

/** "messages.0.role: ..." from the first zod issue, with the parameter path for OpenAI's `param` field. */
export function describeIssue(error: z.ZodError): { message: string; param: string | null } {
  const issue = error.issues[0];
  if (!issue) return { message: "invalid request body", param: null };
  const param = issue.path.length > 0 ? issue.path.map(String).join(".") : null;
  return { message: param ? `${param}: ${issue.message}` : issue.message, param };
}
