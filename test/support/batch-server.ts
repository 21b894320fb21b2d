/**
 * A local server that speaks OpenAI's files and batches wire format: multipart upload
 * (POST /v1/files), file content, batch create / retrieve / list / cancel, and live chat
 * completions for the calls a run sends outside batches. A batch moves validating -> in_progress ->
 * completed one retrieve at a time (or stays in_progress while `hold` is set); its output and
 * error files are lines as OpenAI writes them.
 */
import { createHash } from "node:crypto";
import type { AddressInfo } from "node:net";
import type { IncomingMessage, Server } from "node:http";
import { serve } from "@hono/node-server";
import { Hono, type Context } from "hono";

interface ChatBody {
  model: string;
  messages: Array<{ role: string; content: string }>;
  seed?: number;
}

export interface BatchServerOptions {
  /** The reply to a chat request (batched or live); throw to make that line (or call) fail. */
  reply?: (body: ChatBody, how: { batched: boolean }) => string;
  /** True for an output line to write cut in half (a damaged output file). */
  cutOutputLine?: (body: ChatBody) => boolean;
  /** These routes answer 401 with a message that echoes the request's Authorization header (a careless gateway). */
  echoAuthorization?: Array<"files" | "create" | "retrieve">;
  /** The first this many batch creates make the batch, then drop the connection before replying (a gateway that lost the reply). */
  loseCreateReplies?: number;
}

interface BatchObject {
  id: string;
  object: "batch";
  endpoint: string;
  errors: null;
  input_file_id: string;
  completion_window: string;
  status: string;
  output_file_id: string | null;
  error_file_id: string | null;
  created_at: number;
  request_counts: { total: number; completed: number; failed: number };
  metadata: Record<string, string> | null;
}

export interface BatchServer {
  baseURL: string;
  files: Map<string, { filename: string; purpose: string; content: string }>;
  batches: Map<string, BatchObject>;
  counts: { uploads: number; creates: number; retrieves: number; cancels: number; live: number };
  /** While true, batches stay in_progress. */
  hold: boolean;
  close(): Promise<void>;
}

/** "Feedback: … [RESULT] n" with n from 1 to 5, the same for the same prompt. */
export function scoreReply(body: ChatBody): string {
  const text = body.messages.map((m) => m.content).join("\n");
  const n = 1 + (createHash("sha256").update(text).digest()[0]! % 5);
  return `Feedback: graded by the batch server. [RESULT] ${n}`;
}

export async function startBatchServer(options: BatchServerOptions = {}): Promise<BatchServer> {
  const reply = options.reply ?? scoreReply;
  const app = new Hono();
  let next = 0;
  const id = (prefix: string) => `${prefix}_${(++next).toString(36).padStart(6, "0")}`;
  const state: BatchServer = {
    baseURL: "",
    files: new Map(),
    batches: new Map(),
    counts: { uploads: 0, creates: 0, retrieves: 0, cancels: 0, live: 0 },
    hold: false,
    close: async () => {},
  };
  const completion = (body: ChatBody, batched: boolean) => ({
    id: id("chatcmpl"), object: "chat.completion", created: Math.floor(Date.now() / 1000), model: body.model,
    choices: [{ index: 0, message: { role: "assistant", content: reply(body, { batched }) }, finish_reason: "stop" }],
    usage: { prompt_tokens: 100, completion_tokens: 10, total_tokens: 110 },
  });

  const echo = (route: "files" | "create" | "retrieve", c: Context) =>
    options.echoAuthorization?.includes(route)
      ? c.json({ error: { message: `Incorrect API key provided. Your request had 'Authorization: ${c.req.header("authorization") ?? ""}'`, type: "invalid_request_error", code: "invalid_api_key" } }, 401)
      : undefined;
  let lostReplies = 0;

  app.post("/v1/files", async (c) => {
    const refused = echo("files", c);
    if (refused) return refused;
    const form = await c.req.parseBody();
    const file = form.file;
    if (!(file instanceof File)) return c.json({ error: { message: "file is required", type: "invalid_request_error" } }, 400);
    if (form.purpose !== "batch") return c.json({ error: { message: `purpose must be batch, got ${String(form.purpose)}` } }, 400);
    const fileId = id("file");
    const content = await file.text();
    state.files.set(fileId, { filename: file.name, purpose: "batch", content });
    state.counts.uploads++;
    return c.json({ id: fileId, object: "file", bytes: Buffer.byteLength(content), created_at: Math.floor(Date.now() / 1000), filename: file.name, purpose: "batch", status: "processed" });
  });

  app.get("/v1/files/:id/content", (c) => {
    const file = state.files.get(c.req.param("id"));
    return file ? c.text(file.content) : c.json({ error: { message: "no such file" } }, 404);
  });

  app.post("/v1/batches", async (c) => {
    const refused = echo("create", c);
    if (refused) return refused;
    const body = (await c.req.json()) as { input_file_id: string; endpoint: string; completion_window: string; metadata?: Record<string, string> };
    const input = state.files.get(body.input_file_id);
    if (!input) return c.json({ error: { message: `no file ${body.input_file_id}` } }, 400);
    if (body.endpoint !== "/v1/chat/completions" || body.completion_window !== "24h") return c.json({ error: { message: "unsupported endpoint or window" } }, 400);
    const total = input.content.split("\n").filter((l) => l.trim() !== "").length;
    const batch: BatchObject = {
      id: id("batch"), object: "batch", endpoint: body.endpoint, errors: null, input_file_id: body.input_file_id, completion_window: body.completion_window,
      status: "validating", output_file_id: null, error_file_id: null, created_at: Math.floor(Date.now() / 1000),
      request_counts: { total, completed: 0, failed: 0 }, metadata: body.metadata ?? null,
    };
    state.batches.set(batch.id, batch);
    state.counts.creates++;
    if (lostReplies < (options.loseCreateReplies ?? 0)) {
      lostReplies++;
      (c.env as { incoming: IncomingMessage }).incoming.socket.destroy();
    }
    return c.json(batch);
  });

  app.get("/v1/batches", (c) => {
    const data = [...state.batches.values()].reverse();
    return c.json({ object: "list", data, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null, has_more: false });
  });

  app.get("/v1/batches/:id", (c) => {
    const refused = echo("retrieve", c);
    if (refused) return refused;
    const batch = state.batches.get(c.req.param("id"));
    if (!batch) return c.json({ error: { message: "no such batch" } }, 404);
    state.counts.retrieves++;
    if (batch.status === "validating") batch.status = "in_progress";
    else if (batch.status === "in_progress" && !state.hold) finish(batch);
    else if (batch.status === "cancelling") batch.status = "cancelled";
    return c.json(batch);
  });

  app.post("/v1/batches/:id/cancel", (c) => {
    const batch = state.batches.get(c.req.param("id"));
    if (!batch) return c.json({ error: { message: "no such batch" } }, 404);
    state.counts.cancels++;
    if (batch.status === "validating" || batch.status === "in_progress") batch.status = "cancelling";
    return c.json(batch);
  });

  app.post("/v1/chat/completions", async (c) => {
    state.counts.live++;
    const body = (await c.req.json()) as ChatBody;
    try {
      return c.json(completion(body, false));
    } catch (error) {
      return c.json({ error: { message: (error as Error).message } }, 500);
    }
  });

  function finish(batch: BatchObject): void {
    const out: string[] = [];
    const errors: string[] = [];
    for (const line of state.files.get(batch.input_file_id)!.content.split("\n")) {
      if (line.trim() === "") continue;
      const request = JSON.parse(line) as { custom_id: string; body: ChatBody };
      try {
        const answer = JSON.stringify({ id: id("batch_req"), custom_id: request.custom_id, response: { status_code: 200, request_id: id("req"), body: completion(request.body, true) }, error: null });
        out.push(options.cutOutputLine?.(request.body) ? answer.slice(0, answer.length >> 1) : answer);
        batch.request_counts.completed++;
      } catch (error) {
        errors.push(JSON.stringify({ id: id("batch_req"), custom_id: request.custom_id, response: null, error: { code: "server_error", message: (error as Error).message } }));
        batch.request_counts.failed++;
      }
    }
    const put = (lines: string[]) => {
      const fileId = id("file");
      state.files.set(fileId, { filename: `${batch.id}.jsonl`, purpose: "batch_output", content: lines.map((l) => `${l}\n`).join("") });
      return fileId;
    };
    batch.output_file_id = out.length > 0 ? put(out) : null;
    batch.error_file_id = errors.length > 0 ? put(errors) : null;
    batch.status = "completed";
  }

  const server = await new Promise<Server>((resolve) => {
    const s = serve({ fetch: app.fetch, hostname: "127.0.0.1", port: 0 }, () => resolve(s as Server)) as Server;
  });
  state.baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  state.close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return state;
}
