/**
 * A real HTTP server on 127.0.0.1 that speaks the OpenAI chat-completions wire format
 * (POST /v1/chat/completions, GET /v1/models) and the Ollama one (POST /api/chat, GET /api/tags),
 * with a scriptable plan of faults: error statuses with retry-after headers, hung requests,
 * dropped connections and slow replies. Replies are deterministic from the prompt and fast,
 * so the same server serves retry tests and the orchestration-overhead benchmark.
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export type Fault =
  /** Answer with this status and an error body in the wire format of the endpoint. */
  | { status: number; message?: string; retryAfter?: number | string; retryAfterMs?: number }
  /** Never answer (until the client gives up or the server closes). */
  | { hang: true }
  /** Send the status line, headers and part of the body, then stall. */
  | { stallBody: true }
  /** Close the connection without answering. */
  | { drop: true }
  /** Answer normally after a wait. */
  | { delayMs: number };

export type Wire = "openai" | "ollama";

export interface ChatBody {
  model?: string;
  messages?: { role: string; content: string }[];
  max_tokens?: number;
  options?: { num_predict?: number; [key: string]: unknown };
  [key: string]: unknown;
}

export interface RecordedRequest {
  /** 0-based arrival order over both wire formats. */
  index: number;
  wire: Wire;
  path: string;
  headers: IncomingHttpHeaders;
  body: ChatBody;
}

export interface FaultServerOptions {
  /** Fault for request i (array: by arrival index; undefined or past the end = normal answer). */
  faults?: (Fault | undefined)[] | ((index: number, body: ChatBody, wire: Wire) => Fault | undefined);
  /** The assistant text for a request. Default: `defaultReply` of the last user message. */
  reply?: (body: ChatBody, wire: Wire) => string;
  /** Model listed by /v1/models and /api/tags. */
  model?: string;
  /** When set, OpenAI requests without a fault must carry `Authorization: Bearer <apiKey>` (else 401). */
  apiKey?: string;
  /** Keep request bodies in `requests` (default true; benchmarks turn it off). */
  record?: boolean;
  /**
   * OpenAI `logprobs.content` for a reply, sent when the request asks for `logprobs: true`
   * (tokens, logprob, top_logprobs, as OpenAI's API writes them). Without it the field is null.
   */
  logprobs?: (body: ChatBody, text: string) => Array<{ token: string; logprob: number; top_logprobs: Array<{ token: string; logprob: number }> }> | null;
}

export interface FaultServer {
  /** Root URL, e.g. http://127.0.0.1:41234 (the Ollama host). */
  url: string;
  /** OpenAI base URL: `${url}/v1`. */
  baseURL: string;
  requests: RecordedRequest[];
  /** Chat requests received, recorded or not. */
  readonly count: number;
  close(): Promise<void>;
}

export async function startFaultServer(options: FaultServerOptions = {}): Promise<FaultServer> {
  const record = options.record ?? true;
  const model = options.model ?? "fault-model";
  const requests: RecordedRequest[] = [];
  let count = 0;

  const faultFor = (index: number, body: ChatBody, wire: Wire): Fault | undefined =>
    typeof options.faults === "function" ? options.faults(index, body, wire) : options.faults?.[index];

  const handleChat = (req: IncomingMessage, res: ServerResponse, wire: Wire, raw: string): void => {
    let body: ChatBody;
    try {
      body = JSON.parse(raw) as ChatBody;
    } catch {
      sendError(res, wire, 400, "request body is not valid JSON");
      return;
    }
    const index = count++;
    if (record) requests.push({ index, wire, path: req.url ?? "", headers: req.headers, body });
    const fault = faultFor(index, body, wire);
    if (!fault && wire === "openai" && options.apiKey !== undefined && req.headers.authorization !== `Bearer ${options.apiKey}`) {
      sendError(res, wire, 401, "Incorrect API key provided.");
      return;
    }
    const answer = (): void => {
      const text = (options.reply ?? ((b: ChatBody) => defaultReply(lastUserMessage(b))))(body, wire);
      const logprobs = wire === "openai" && body.logprobs === true && options.logprobs ? options.logprobs(body, text) : null;
      sendJson(res, 200, wire === "openai" ? openaiCompletion(body, text, model, logprobs) : ollamaChat(body, text, model));
    };
    if (!fault) answer();
    else if ("hang" in fault) return;
    else if ("drop" in fault) req.socket.destroy();
    else if ("stallBody" in fault) {
      res.writeHead(200, { "content-type": "application/json; charset=utf-8", "content-length": 1000 });
      res.write('{"id":"chatcmpl-stalled","choices":[');
    }
    else if ("delayMs" in fault) setTimeout(answer, fault.delayMs);
    else {
      const headers: Record<string, string> = {};
      if (fault.retryAfter !== undefined) headers["retry-after"] = String(fault.retryAfter);
      if (fault.retryAfterMs !== undefined) headers["retry-after-ms"] = String(fault.retryAfterMs);
      sendError(res, wire, fault.status, fault.message ?? `injected fault ${fault.status}`, headers);
    }
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const path = (req.url ?? "").split("?")[0];
      if (req.method === "POST" && path === "/v1/chat/completions") handleChat(req, res, "openai", Buffer.concat(chunks).toString("utf8"));
      else if (req.method === "POST" && path === "/api/chat") handleChat(req, res, "ollama", Buffer.concat(chunks).toString("utf8"));
      else if (req.method === "GET" && path === "/v1/models")
        sendJson(res, 200, { object: "list", data: [{ id: model, object: "model", created: 0, owned_by: "fault-server" }] });
      else if (req.method === "GET" && path === "/api/tags")
        sendJson(res, 200, { models: [{ name: model, model, modified_at: new Date(0).toISOString(), size: 0, digest: "", details: {} }] });
      else if (path?.startsWith("/api/")) sendError(res, "ollama", 404, `unknown path ${path}`);
      else sendError(res, "openai", 404, `unknown path ${path}`);
    });
  });
  server.keepAliveTimeout = 30_000;

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;

  return {
    url,
    baseURL: `${url}/v1`,
    requests,
    get count() {
      return count;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Hung requests and idle keep-alive sockets would hold close() open forever.
        server.closeAllConnections();
      }),
  };
}

/** The last user message of a chat body ("" when there is none). */
export function lastUserMessage(body: ChatBody): string {
  const messages = body.messages ?? [];
  for (let i = messages.length - 1; i >= 0; i--) if (messages[i]?.role === "user") return messages[i]?.content ?? "";
  return "";
}

/** A score 1-5 fixed by the text (FNV-1a hash), so answers are reproducible. */
export function scoreFor(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return ((hash >>> 0) % 5) + 1;
}

/** A Prometheus-style critique whose score is `scoreFor(prompt)`. */
export function defaultReply(prompt: string): string {
  const score = scoreFor(prompt);
  return `Feedback: The response meets the rubric at level ${score}; it is judged on the criteria given. [RESULT] ${score}`;
}

/** Whitespace-separated words: a stand-in token count that is the same on every run. */
function countWords(text: string): number {
  let words = 0;
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const space = text.charCodeAt(i) <= 32;
    if (!space && !inWord) words++;
    inWord = !space;
  }
  return words;
}

/** The reply cut to the token limit, and why generation stopped. */
function limitReply(text: string, limit: number | undefined): { text: string; tokens: number; stop: "stop" | "length" } {
  const tokens = countWords(text);
  if (limit === undefined || tokens <= limit) return { text, tokens, stop: "stop" };
  return { text: text.split(/\s+/).filter(Boolean).slice(0, limit).join(" "), tokens: limit, stop: "length" };
}

function promptTokens(body: ChatBody): number {
  return (body.messages ?? []).reduce((sum, m) => sum + countWords(typeof m.content === "string" ? m.content : ""), 0);
}

let completionId = 0;

function openaiCompletion(body: ChatBody, text: string, model: string, logprobs: unknown[] | null = null): unknown {
  const reply = limitReply(text, body.max_tokens);
  const prompt = promptTokens(body);
  return {
    id: `chatcmpl-fault-${++completionId}`,
    object: "chat.completion",
    created: Math.floor(Date.now() / 1000),
    model: body.model ?? model,
    choices: [{
      index: 0,
      message: { role: "assistant", content: reply.text, refusal: null },
      logprobs: logprobs === null ? null : { content: logprobs.map((t) => ({ bytes: null, ...(t as object) })), refusal: null },
      finish_reason: reply.stop,
    }],
    usage: { prompt_tokens: prompt, completion_tokens: reply.tokens, total_tokens: prompt + reply.tokens },
    system_fingerprint: null,
  };
}

function ollamaChat(body: ChatBody, text: string, model: string): unknown {
  const reply = limitReply(text, body.options?.num_predict);
  return {
    model: body.model ?? model,
    created_at: new Date().toISOString(),
    message: { role: "assistant", content: reply.text },
    done_reason: reply.stop,
    done: true,
    total_duration: 1_000_000,
    load_duration: 100_000,
    prompt_eval_count: promptTokens(body),
    prompt_eval_duration: 400_000,
    eval_count: reply.tokens,
    eval_duration: 500_000,
  };
}

function sendError(res: ServerResponse, wire: Wire, status: number, message: string, headers: Record<string, string> = {}): void {
  const body =
    wire === "openai"
      ? { error: { message, type: status === 429 ? "rate_limit_exceeded" : status >= 500 ? "server_error" : "invalid_request_error", param: null, code: null } }
      : { error: message };
  sendJson(res, status, body, headers);
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(payload), ...headers });
  res.end(payload);
}
