/**
 * POST /v1/reward: scores (prompt, completion) pairs with the judge engine, for RL trainers such
 * as TRL's GRPO (assets/trl/reward_fn.py calls it). A batch runs through judgeStream with the
 * server's template, rubric and backend, at the backend's concurrency; a completion the judge
 * could not score gets a null reward and an entry in `errors`, never a made-up number.
 *
 *   {"prompts": ["..."], "completions": ["..."]}            or (TRL's conversational form)
 *   {"prompts": [[{"role": "user", "content": "..."}]], "completions": [[{"role": "assistant", "content": "..."}]]} or
 *   {"items": [{"prompt": "...", "completion": "...", "reference": "..."}]}
 *   -> {"rewards": [7, null], "errors": [{"index": 1, "error": "..."}], "scale": {"min": 1, "max": 10}, ...}
 */
import { existsSync } from "node:fs";
import type { Hono, Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import { z } from "zod";
import type { Backend, SamplingParams } from "../backends/types.js";
import { judgeStream, type EngineInput } from "../judge/engine.js";
import { resolveGrader } from "../judge/grader.js";
import type { Grader } from "../judge/types.js";
import type { RunStore } from "../store/run-store.js";
import type { HeadModel } from "../heads/spec.js";
import { getTemplate, loadTemplateFile, type Rubric, type Scale } from "../templates/index.js";

export interface RewardEndpointOptions {
  /** An absolute-grading grader (see resolveGrader). */
  grader: Grader;
  /** The template's score range, returned so clients can normalise. */
  scale?: Scale;
  params?: SamplingParams;
  /** Judge calls in flight per request (default: the backend's concurrency). */
  concurrency?: number;
  /** New samples when an output does not parse (default 2). */
  maxRetries?: number;
  /** Samples per item, averaged (default 1). */
  samples?: number;
  /** Largest batch accepted (default 1024 items). */
  maxItems?: number;
  /** Cache judge calls here (a repeated completion is not paid twice). */
  store?: RunStore;
  maxBodyBytes?: number;
  /** The model id clients see (default: the backend's model). */
  modelName?: string;
  /** A judge package's head scores instead of the backend (src/heads). */
  head?: HeadModel;
}

export interface RewardSetup {
  template?: string;
  rubric?: string | Rubric;
  maxTokens?: number;
}

/** The grader and scale for `critic serve --reward`; refuses pairwise templates and incomplete setups up front. */
export function rewardGrader(setup: RewardSetup): { grader: Grader; scale?: Scale } {
  const grader = resolveGrader({ template: setup.template ?? "prometheus-absolute", mode: "absolute", rubric: setup.rubric, maxTokens: setup.maxTokens });
  try {
    grader.buildMessages({ instruction: "probe", response: "probe" });
  } catch (error) {
    throw new Error(`the reward endpoint cannot fill template "${grader.template}" from a prompt and a completion: ${(error as Error).message}`);
  }
  return { grader, ...(templateScale(setup.template) ? { scale: templateScale(setup.template)! } : {}) };
}

function templateScale(name: string | undefined): Scale | undefined {
  const n = name ?? "prometheus-absolute";
  if (/\.ya?ml$/i.test(n) || existsSync(n)) return loadTemplateFile(n).scale;
  return getTemplate(n === "prometheus" ? "prometheus-absolute" : n).scale;
}

/**
 * TRL's conversational prompts and completions are lists of {role, content}: a prompt becomes its
 * last user turn (the turn the judge grades the answer to), a completion its joined contents —
 * the same reading as reward_fn.py's `_text`.
 */
function messageText(value: unknown): unknown {
  const isMessage = (m: unknown): m is { role?: unknown; content: string } =>
    typeof m === "object" && m !== null && typeof (m as { content?: unknown }).content === "string";
  if (isMessage(value)) return value.content;
  if (!Array.isArray(value) || value.length === 0 || !value.every(isMessage)) return value;
  const users = value.filter((m) => m.role === "user");
  return users.length > 0 ? users[users.length - 1]!.content : value.map((m) => m.content).join("");
}

const text = (field: string) =>
  z.preprocess(messageText, z.string({ error: `${field} must be a string or a list of {role, content} messages` }));

const rewardRequest = z.union([
  z.object({
    prompts: z.array(text("each prompt"), { error: "prompts must be an array of strings" }),
    completions: z.array(text("each completion"), { error: "completions must be an array of strings" }),
    references: z.array(z.string().nullable()).optional(),
  }),
  z.object({
    items: z.array(
      z.object({ prompt: text("prompt"), completion: text("completion"), reference: z.string().nullish() }, { error: "each item must be an object with prompt and completion" }),
      { error: "items must be an array" },
    ),
  }),
]);

interface Item {
  prompt: string;
  completion: string;
  reference?: string | null;
}

/** Checks the body and names the field at fault. */
export function parseRewardRequest(body: unknown, maxItems: number): { ok: true; items: Item[] } | { ok: false; message: string; param: string | null } {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return { ok: false, message: "the body must be a JSON object with prompts and completions (or items)", param: null };
  const record = body as Record<string, unknown>;
  if (!("items" in record) && !("prompts" in record) && !("completions" in record)) {
    return { ok: false, message: "the body needs prompts and completions (arrays of strings) or items ([{prompt, completion}])", param: null };
  }
  if (!("items" in record)) {
    if (!("prompts" in record)) return { ok: false, message: "prompts is missing", param: "prompts" };
    if (!("completions" in record)) return { ok: false, message: "completions is missing", param: "completions" };
  }
  const parsed = rewardRequest.safeParse(body);
  if (!parsed.success) {
    // A union reports the issues of every branch; keep those of the branch the body meant.
    const branch = "items" in record ? "items" : null;
    const issues = parsed.error.issues.flatMap((i) => (i.code === "invalid_union" ? i.errors.flat() : [i]));
    const issue = issues.find((i) => (branch ? i.path[0] === "items" : i.path[0] !== "items")) ?? issues[0];
    const param = issue && issue.path.length > 0 ? issue.path.map(String).join(".") : branch;
    return { ok: false, message: `${param ? `${param}: ` : ""}${issue?.message ?? "invalid request"}`, param };
  }
  const data = parsed.data;
  let items: Item[];
  if ("items" in data) items = data.items;
  else {
    if (data.prompts.length !== data.completions.length) {
      return { ok: false, message: `prompts and completions must have the same length (got ${data.prompts.length} and ${data.completions.length})`, param: "completions" };
    }
    if (data.references && data.references.length !== data.prompts.length) {
      return { ok: false, message: `references must have one entry per prompt (got ${data.references.length} for ${data.prompts.length})`, param: "references" };
    }
    items = data.prompts.map((prompt, i) => ({ prompt, completion: data.completions[i]!, reference: data.references?.[i] ?? null }));
  }
  if (items.length === 0) return { ok: false, message: `${"items" in data ? "items" : "prompts"} is empty`, param: "items" in data ? "items" : "prompts" };
  if (items.length > maxItems) return { ok: false, message: `at most ${maxItems} items per request (got ${items.length})`, param: "items" in data ? "items" : "prompts" };
  return { ok: true, items };
}

export function registerRewardRoute(app: Hono, backend: Backend, options: RewardEndpointOptions): void {
  if (options.grader.mode !== "absolute") throw new Error(`the reward endpoint needs an absolute template; "${options.grader.template}" grades pairwise`);
  const maxItems = options.maxItems ?? 1024;
  const fail = (c: Context, status: 400 | 413 | 500, message: string, param: string | null = null) =>
    c.json({ error: { message, type: status === 500 ? "server_error" : "invalid_request_error", param, code: status === 413 ? "request_too_large" : null } }, status);

  app.post(
    "/v1/reward",
    bodyLimit({ maxSize: options.maxBodyBytes ?? 32 * 1024 * 1024, onError: (c) => fail(c, 413, "Request body too large.") }),
    async (c) => {
      let body: unknown;
      try {
        body = await c.req.json();
      } catch {
        return fail(c, 400, "The request body is not valid JSON.");
      }
      const parsed = parseRewardRequest(body, maxItems);
      if (!parsed.ok) return fail(c, 400, parsed.message, parsed.param);

      const inputs: EngineInput[] = parsed.items.map((item, index) => ({
        index,
        record: { instruction: item.prompt, response: item.completion, ...(item.reference ? { reference_answer: item.reference } : {}) },
      }));
      const rewards: Array<number | null> = new Array<number | null>(inputs.length).fill(null);
      const errors: Array<{ index: number; error: string }> = [];
      let promptTokens = 0;
      let completionTokens = 0;
      try {
        for await (const judgment of judgeStream(inputs, {
          backend,
          grader: options.grader,
          ...(options.store ? { store: options.store } : {}),
          ...(options.params ? { params: options.params } : {}),
          ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
          ...(options.maxRetries !== undefined ? { maxRetries: options.maxRetries } : {}),
          ...(options.samples !== undefined ? { samples: options.samples } : {}),
          ...(options.head ? { head: options.head } : {}),
          signal: c.req.raw.signal,
        })) {
          const score = typeof judgment.score === "number" ? judgment.score : null;
          rewards[judgment.index] = score;
          if (score === null) errors.push({ index: judgment.index, error: judgment.error ?? "no score" });
          promptTokens += judgment.judge.tokens.prompt;
          completionTokens += judgment.judge.tokens.completion;
        }
      } catch (error) {
        return fail(c, 500, `Judging failed: ${(error as Error).message}`);
      }
      return c.json({
        object: "reward.list",
        model: options.modelName ?? backend.model,
        template: options.grader.template,
        rewards,
        errors,
        ...(options.scale ? { scale: options.scale } : {}),
        usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens },
      });
    },
  );
}
