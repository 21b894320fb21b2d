/**
 * A real HTTP server on 127.0.0.1 speaking two hosted providers' wire formats, for the AI SDK
 * provider packages to call: Anthropic Messages (POST /v1/messages) and Gemini generateContent
 * (POST /v1beta/models/<model>:generateContent), with each one's error bodies. Hosted APIs cannot be
 * called here; the packages' own request and response code runs unchanged against this one.
 * Also Anthropic Message Batches (POST /v1/messages/batches, GET …/batches/<id>, GET its results_url
 * as JSON lines) and Gemini batches (POST /v1beta/models/<model>:batchGenerateContent with inlined
 * requests, GET /v1beta/batches/<id> until done, responses inlined), answered from the same `reply`;
 * `hold` keeps every batch in progress.
 * Answers come from `reply(prompt)`; every request and its answer are recorded.
 */
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";

export type ProviderWire = "anthropic" | "gemini";

export interface ProviderRequest {
  wire: ProviderWire;
  path: string;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
  /** The prompt as one text (system, then the user turns), what `reply` was given. */
  prompt: string;
  answer?: string;
}

export interface ProviderServer {
  url: string;
  /** Base URLs as each provider package takes them. */
  anthropicURL: string;
  geminiURL: string;
  requests: ProviderRequest[];
  /** Answer the next requests with these error statuses first (429, 529 …), with retry-after seconds. */
  failNext(faults: Array<{ status: number; retryAfter?: number; message?: string }>): void;
  /** Message Batches created, status polls, and live Messages calls. */
  counts: { batchCreates: number; batchRetrieves: number; live: number };
  /** While true, batches stay "in_progress". */
  hold: boolean;
  close(): Promise<void>;
}

/** A deterministic judge answer: feedback, then a verdict picked from the prompt's text. */
export function judgeReply(prompt: string): string {
  let h = 0;
  for (const c of prompt) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return `Feedback: The response addresses the instruction and follows the rubric in part. [RESULT] ${(h % 5) + 1}`;
}

function textOf(content: unknown): string {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) return content.map((p) => (p && typeof p === "object" && "text" in p ? String((p as { text: unknown }).text) : "")).join("");
  return "";
}

export async function startProviderServer(reply: (prompt: string) => string = judgeReply): Promise<ProviderServer> {
  const requests: ProviderRequest[] = [];
  let url = "";
  const faults: Array<{ status: number; retryAfter?: number; message?: string }> = [];
  const state = { counts: { batchCreates: 0, batchRetrieves: 0, live: 0 }, hold: false };
  const batches = new Map<string, { requests: Array<{ custom_id: string; params: Record<string, unknown> }>; created: string }>();
  const batchBody = (id: string) => {
    const batch = batches.get(id)!;
    const ended = !state.hold;
    const n = batch.requests.length;
    return {
      id, type: "message_batch", processing_status: ended ? "ended" : "in_progress",
      request_counts: { processing: ended ? 0 : n, succeeded: ended ? n : 0, errored: 0, canceled: 0, expired: 0 },
      created_at: batch.created, expires_at: batch.created, ended_at: ended ? new Date().toISOString() : null,
      results_url: ended ? `${url}/v1/messages/batches/${id}/results` : null,
    };
  };
  const handleBatch = (method: string, path: string, raw: string, res: import("node:http").ServerResponse) => {
    const json = (status: number, value: unknown) => res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(value));
    if (method === "POST" && path === "/v1/messages/batches") {
      const body = JSON.parse(raw) as { requests: Array<{ custom_id: string; params: Record<string, unknown> }> };
      const id = `msgbatch_${batches.size + 1}`;
      batches.set(id, { requests: body.requests, created: new Date().toISOString() });
      state.counts.batchCreates++;
      return json(200, batchBody(id));
    }
    const results = /^\/v1\/messages\/batches\/([^/]+)\/results$/.exec(path);
    if (method === "GET" && results && batches.has(results[1]!)) {
      const lines = batches.get(results[1]!)!.requests.map(({ custom_id, params }) => {
        const prompt = [textOf(params.system), ...((params.messages as Array<{ content: unknown }>) ?? []).map((m) => textOf(m.content))].join("\n\n");
        const answer = reply(prompt);
        requests.push({ wire: "anthropic", path, headers: {}, body: params, prompt, answer });
        return JSON.stringify({ custom_id, result: { type: "succeeded", message: { id: `msg_${custom_id.slice(0, 8)}`, type: "message", role: "assistant", model: params.model, content: [{ type: "text", text: answer }], stop_reason: "end_turn", stop_sequence: null, usage: { input_tokens: Math.ceil(prompt.length / 4), output_tokens: Math.ceil(answer.length / 4) } } } });
      });
      res.writeHead(200, { "content-type": "application/binary" }).end(lines.join("\n") + "\n");
      return;
    }
    const one = /^\/v1\/messages\/batches\/([^/]+)$/.exec(path);
    if (method === "GET" && one && batches.has(one[1]!)) {
      state.counts.batchRetrieves++;
      return json(200, batchBody(one[1]!));
    }
    return json(404, { type: "error", error: { type: "not_found_error", message: `no batch at ${path}` } });
  };
  const geminiBatches = new Map<string, Array<{ request: Record<string, unknown>; metadata: { key: string } }>>();
  const geminiOperation = (name: string) => {
    const items = geminiBatches.get(name)!;
    const done = !state.hold;
    return {
      name,
      metadata: {
        "@type": "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatch",
        state: done ? "BATCH_STATE_SUCCEEDED" : "BATCH_STATE_RUNNING",
        batchStats: { requestCount: String(items.length), ...(done ? { successfulRequestCount: String(items.length) } : { pendingRequestCount: String(items.length) }) },
        ...(done
          ? {
              output: {
                inlinedResponses: {
                  inlinedResponses: items.map(({ request, metadata }) => {
                    const prompt = [textOf((request.systemInstruction as { parts?: unknown } | undefined)?.parts), ...((request.contents as Array<{ parts: unknown }>) ?? []).map((c) => textOf(c.parts))].join("\n\n");
                    const answer = reply(prompt);
                    requests.push({ wire: "gemini", path: name, headers: {}, body: request, prompt, answer });
                    return { metadata: { key: metadata.key }, response: { candidates: [{ content: { parts: [{ text: answer }], role: "model" }, finishReason: "STOP", index: 0 }], usageMetadata: { promptTokenCount: Math.ceil(prompt.length / 4), candidatesTokenCount: Math.ceil(answer.length / 4) } } };
                  }),
                },
              },
            }
          : {}),
      },
      ...(done ? { done: true } : {}),
    };
  };
  const handleGeminiBatch = (method: string, path: string, raw: string, res: import("node:http").ServerResponse) => {
    const json = (status: number, value: unknown) => res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(value));
    if (method === "POST" && path.endsWith(":batchGenerateContent")) {
      const body = JSON.parse(raw) as { batch: { inputConfig: { requests: { requests: Array<{ request: Record<string, unknown>; metadata: { key: string } }> } } } };
      const name = `batches/gb${geminiBatches.size + 1}`;
      geminiBatches.set(name, body.batch.inputConfig.requests.requests);
      state.counts.batchCreates++;
      return json(200, geminiOperation(name));
    }
    const name = path.slice("/v1beta/".length);
    if (method === "GET" && geminiBatches.has(name)) {
      state.counts.batchRetrieves++;
      return json(200, geminiOperation(name));
    }
    return json(404, { error: { code: 404, message: `no batch at ${path}`, status: "NOT_FOUND" } });
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const path = req.url ?? "";
      if (path.startsWith("/v1/messages/batches")) {
        handleBatch(req.method ?? "GET", path, Buffer.concat(chunks).toString("utf8"), res);
        return;
      }
      if (/^\/v1beta\/models\/[^/:]+:batchGenerateContent$/.test(path) || path.startsWith("/v1beta/batches/")) {
        handleGeminiBatch(req.method ?? "GET", path, Buffer.concat(chunks).toString("utf8"), res);
        return;
      }
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>;
      } catch {
        res.writeHead(400, { "content-type": "application/json" }).end(JSON.stringify({ error: { message: "invalid JSON" } }));
        return;
      }
      const gemini = /^\/v1beta\/models\/([^/:]+):generateContent$/.exec(path);
      const wire: ProviderWire | undefined = path === "/v1/messages" ? "anthropic" : gemini ? "gemini" : undefined;
      if (!wire) {
        res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ error: { message: `no route ${path}` } }));
        return;
      }
      const prompt =
        wire === "anthropic"
          ? [textOf(body.system), ...((body.messages as Array<{ content: unknown }>) ?? []).map((m) => textOf(m.content))].join("\n\n")
          : [
              textOf((body.systemInstruction as { parts?: unknown } | undefined)?.parts),
              ...((body.contents as Array<{ parts: unknown }>) ?? []).map((c) => textOf(c.parts)),
            ].join("\n\n");
      const recorded: ProviderRequest = { wire, path, headers: req.headers, body, prompt };
      requests.push(recorded);
      state.counts.live++;
      const fault = faults.shift();
      if (fault) {
        const headers: Record<string, string> = { "content-type": "application/json", ...(fault.retryAfter !== undefined ? { "retry-after": String(fault.retryAfter) } : {}) };
        const message = fault.message ?? `fault ${fault.status}`;
        const errorBody =
          wire === "anthropic"
            ? { type: "error", error: { type: fault.status === 429 ? "rate_limit_error" : fault.status === 529 ? "overloaded_error" : "invalid_request_error", message } }
            : { error: { code: fault.status, message, status: fault.status === 429 ? "RESOURCE_EXHAUSTED" : "INVALID_ARGUMENT" } };
        res.writeHead(fault.status, headers).end(JSON.stringify(errorBody));
        return;
      }
      const answer = reply(prompt);
      recorded.answer = answer;
      const inputTokens = Math.ceil(prompt.length / 4);
      const outputTokens = Math.ceil(answer.length / 4);
      const payload =
        wire === "anthropic"
          ? {
              id: `msg_${requests.length}`, type: "message", role: "assistant", model: body.model,
              content: [{ type: "text", text: answer }], stop_reason: "end_turn", stop_sequence: null,
              usage: { input_tokens: inputTokens, output_tokens: outputTokens },
            }
          : {
              candidates: [{ content: { parts: [{ text: answer }], role: "model" }, finishReason: "STOP", index: 0 }],
              usageMetadata: { promptTokenCount: inputTokens, candidatesTokenCount: outputTokens, totalTokenCount: inputTokens + outputTokens },
              modelVersion: gemini![1],
            };
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(payload));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    anthropicURL: `${url}/v1`,
    geminiURL: `${url}/v1beta`,
    requests,
    failNext: (list) => faults.push(...list),
    counts: state.counts,
    get hold() {
      return state.hold;
    },
    set hold(value: boolean) {
      state.hold = value;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
