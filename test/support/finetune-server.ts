/**
 * A local server on 127.0.0.1 that speaks the OpenAI fine-tuning wire format: multipart uploads to
 * POST /v1/files (purpose=fine-tune), POST /v1/fine_tuning/jobs, GET /v1/fine_tuning/jobs/{id},
 * GET /v1/fine_tuning/jobs/{id}/events (newest first, `limit` and `after` cursors) and
 * POST /v1/fine_tuning/jobs/{id}/cancel. A job moves one state per retrieve:
 * validating_files -> queued -> running (one metrics event per retrieve) -> succeeded, or fails at
 * validation (a bad training line) or mid-training (when told to).
 */
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import { randomBytes } from "node:crypto";
import { serve } from "@hono/node-server";
import { Hono, type Context } from "hono";

export interface UploadedFile {
  id: string;
  filename: string;
  purpose: string;
  bytes: number;
  content: string;
  createdAt: number;
}

export interface FakeEvent {
  object: "fine_tuning.job.event";
  id: string;
  created_at: number;
  level: "info" | "warn" | "error";
  message: string;
  data: Record<string, unknown>;
  type: "message" | "metrics";
}

export interface FakeJob {
  body: Record<string, unknown>;
  job: Record<string, unknown> & { id: string; status: string };
  events: FakeEvent[];
  step: number;
}

export interface FineTuneServerOptions {
  /** Requests must carry `Authorization: Bearer <apiKey>`. */
  apiKey?: string;
  /** Training steps a job runs (default 5). */
  steps?: number;
  /** Fail every job after this many training steps. */
  failAtStep?: number;
  /** Refuse every request with a 401 whose message echoes its Authorization header (a careless gateway). */
  echoAuthorization?: boolean;
  /** What the server sends instead of a job object (a broken proxy or the wrong server behind the URL). */
  jobBody?: (job: Record<string, unknown>, route: "create" | "retrieve") => unknown;
}

export interface FineTuneServer {
  url: string;
  baseURL: string;
  files: Map<string, UploadedFile>;
  jobs: Map<string, FakeJob>;
  /** Every request: method, path and whether its key matched. */
  requests: Array<{ method: string; path: string; authorized: boolean; contentType: string | undefined }>;
  close(): Promise<void>;
}

const id = (prefix: string) => `${prefix}-${randomBytes(12).toString("hex")}`;
const now = () => Math.floor(Date.now() / 1000);

function error(c: Context, status: 400 | 401 | 404, message: string, param: string | null = null, code: string | null = null) {
  return c.json({ error: { message, type: status === 401 ? "invalid_request_error" : "invalid_request_error", param, code } }, status);
}

export async function startFineTuneServer(options: FineTuneServerOptions = {}): Promise<FineTuneServer> {
  const files = new Map<string, UploadedFile>();
  const jobs = new Map<string, FakeJob>();
  const requests: FineTuneServer["requests"] = [];
  const totalSteps = options.steps ?? 5;
  let eventClock = 0;
  const app = new Hono();

  app.use("*", async (c, next) => {
    const header = c.req.header("authorization") ?? "";
    const authorized = !options.echoAuthorization && (options.apiKey === undefined || header === `Bearer ${options.apiKey}`);
    requests.push({ method: c.req.method, path: c.req.path, authorized, contentType: c.req.header("content-type") });
    if (!authorized) return error(c, 401, `Incorrect API key provided.${options.echoAuthorization ? ` Your request had 'Authorization: ${header}'` : ""}`, null, "invalid_api_key");
    await next();
  });

  app.post("/v1/files", async (c) => {
    if (!(c.req.header("content-type") ?? "").startsWith("multipart/form-data")) return error(c, 400, "Expected multipart/form-data.");
    const body = await c.req.parseBody();
    const file = body.file;
    const purpose = body.purpose;
    if (typeof purpose !== "string" || !["fine-tune", "assistants", "batch", "vision", "user_data", "evals"].includes(purpose)) {
      return error(c, 400, "Invalid purpose.", "purpose");
    }
    if (!(file instanceof File)) return error(c, 400, "No file was uploaded.", "file");
    const content = await file.text();
    const uploaded: UploadedFile = { id: id("file"), filename: file.name, purpose, bytes: Buffer.byteLength(content), content, createdAt: now() };
    files.set(uploaded.id, uploaded);
    return c.json(fileObject(uploaded));
  });

  app.get("/v1/files/:id", (c) => {
    const file = files.get(c.req.param("id"));
    return file ? c.json(fileObject(file)) : error(c, 404, `No such File object: ${c.req.param("id")}`, "id");
  });

  app.post("/v1/fine_tuning/jobs", async (c) => {
    const body = (await c.req.json()) as Record<string, unknown>;
    if (typeof body.model !== "string" || body.model === "") return error(c, 400, "Missing required parameter: 'model'.", "model");
    const training = files.get(String(body.training_file));
    if (!training) return error(c, 400, `invalid training_file: ${String(body.training_file)}`, "training_file");
    if (training.purpose !== "fine-tune") return error(c, 400, `File ${training.id} has purpose ${training.purpose}, expected fine-tune.`, "training_file");
    if (body.validation_file !== undefined && !files.has(String(body.validation_file))) return error(c, 400, `invalid validation_file: ${String(body.validation_file)}`, "validation_file");
    const method = (body.method ?? { type: "supervised" }) as { type?: string; supervised?: { hyperparameters?: Record<string, unknown> }; dpo?: { hyperparameters?: Record<string, unknown> } };
    if (method.type !== "supervised" && method.type !== "dpo") return error(c, 400, "method.type must be supervised or dpo.", "method.type");
    const hyper = { n_epochs: "auto", batch_size: "auto", learning_rate_multiplier: "auto", ...(method[method.type]?.hyperparameters ?? {}) };
    const jobId = id("ftjob");
    const job: FakeJob = {
      body,
      step: 0,
      events: [],
      job: {
        object: "fine_tuning.job",
        id: jobId,
        model: body.model,
        created_at: now(),
        finished_at: null,
        fine_tuned_model: null,
        organization_id: "org-critic-test",
        result_files: [],
        status: "validating_files",
        validation_file: body.validation_file ?? null,
        training_file: training.id,
        hyperparameters: method.type === "supervised" ? hyper : { n_epochs: hyper.n_epochs, batch_size: hyper.batch_size, learning_rate_multiplier: hyper.learning_rate_multiplier },
        trained_tokens: null,
        error: null,
        seed: typeof body.seed === "number" ? body.seed : 42,
        estimated_finish: null,
        integrations: [],
        metadata: null,
        method: { type: method.type, [method.type]: { hyperparameters: hyper } },
        user_provided_suffix: body.suffix ?? null,
      },
    };
    jobs.set(jobId, job);
    event(job, "info", `Created fine-tuning job: ${jobId}`);
    event(job, "info", `Validating training file: ${training.id}`);
    return c.json((options.jobBody ? options.jobBody(job.job, "create") : job.job) as object);
  });

  app.get("/v1/fine_tuning/jobs/:id", (c) => {
    const job = jobs.get(c.req.param("id"));
    if (!job) return error(c, 404, `Could not find fine-tune: ${c.req.param("id")}`, "id", "fine_tune_not_found");
    advance(job);
    return c.json((options.jobBody ? options.jobBody(job.job, "retrieve") : job.job) as object);
  });

  app.get("/v1/fine_tuning/jobs/:id/events", (c) => {
    const job = jobs.get(c.req.param("id"));
    if (!job) return error(c, 404, `Could not find fine-tune: ${c.req.param("id")}`, "id", "fine_tune_not_found");
    const limit = Math.min(Number(c.req.query("limit") ?? 20), 100);
    const after = c.req.query("after");
    const newestFirst = [...job.events].reverse();
    const start = after ? newestFirst.findIndex((e) => e.id === after) + 1 : 0;
    const data = newestFirst.slice(start, start + limit);
    return c.json({ object: "list", data, has_more: start + limit < newestFirst.length });
  });

  app.post("/v1/fine_tuning/jobs/:id/cancel", (c) => {
    const job = jobs.get(c.req.param("id"));
    if (!job) return error(c, 404, `Could not find fine-tune: ${c.req.param("id")}`, "id", "fine_tune_not_found");
    job.job.status = "cancelled";
    job.job.finished_at = now();
    event(job, "info", "Fine-tuning job cancelled");
    return c.json(job.job);
  });

  app.notFound((c) => error(c, 404, `Unknown request URL: ${c.req.method} ${c.req.path}.`, null, "unknown_url"));

  function event(job: FakeJob, level: FakeEvent["level"], message: string, data: Record<string, unknown> = {}, type: FakeEvent["type"] = "message") {
    job.events.push({ object: "fine_tuning.job.event", id: `ftevent-${String(++eventClock).padStart(8, "0")}${randomBytes(4).toString("hex")}`, created_at: now(), level, message, data, type });
  }

  function fail(job: FakeJob, code: string, message: string, param: string | null) {
    job.job.status = "failed";
    job.job.finished_at = now();
    job.job.error = { code, message, param };
    event(job, "error", `Fine-tuning job failed: ${message}`);
  }

  function advance(job: FakeJob) {
    const j = job.job;
    if (j.status === "validating_files") {
      const problem = validate(files.get(String(j.training_file))!, (j.method as { type: string }).type);
      if (problem) return fail(job, "invalid_training_file", problem, "training_file");
      j.status = "queued";
      event(job, "info", "Files validated, moving job to queued state");
    } else if (j.status === "queued") {
      j.status = "running";
      event(job, "info", "Fine-tuning job started");
    } else if (j.status === "running") {
      if (options.failAtStep !== undefined && job.step >= options.failAtStep) {
        return fail(job, "server_error", "The job failed due to an internal error.", null);
      }
      job.step++;
      const loss = Math.round((2 / (1 + job.step)) * 10000) / 10000;
      event(job, "info", `Step ${job.step}/${totalSteps}: training loss=${loss}`, { step: job.step, train_loss: loss, total_steps: totalSteps, train_mean_token_accuracy: 0.5 + job.step / (4 * totalSteps) }, "metrics");
      if (job.step >= totalSteps) {
        const suffix = typeof job.body.suffix === "string" ? job.body.suffix : "";
        j.status = "succeeded";
        j.finished_at = now();
        j.fine_tuned_model = `ft:${String(j.model)}:critic-test${suffix ? `:${suffix}` : ""}:${j.id.slice(6, 14)}`;
        j.trained_tokens = 1234 * totalSteps;
        j.result_files = [id("file")];
        event(job, "info", `New fine-tuned model created: ${String(j.fine_tuned_model)}`);
        event(job, "info", "The job has successfully completed");
      }
    }
  }

  const server = serve({ fetch: app.fetch, hostname: "127.0.0.1", port: 0 }) as Server;
  await new Promise<void>((resolve, reject) => {
    server.once("listening", resolve);
    server.once("error", reject);
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    baseURL: `${url}/v1`,
    files,
    jobs,
    requests,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((e) => (e ? reject(e) : resolve()));
        server.closeAllConnections();
      }),
  };
}

function fileObject(file: UploadedFile) {
  return { object: "file", id: file.id, purpose: file.purpose, filename: file.filename, bytes: file.bytes, created_at: file.createdAt, expires_at: null, status: "processed", status_details: null };
}

/** What OpenAI's file validation checks, in brief: JSON lines of the method's shape. */
function validate(file: UploadedFile, method: string): string | undefined {
  const lines = file.content.split("\n").filter((l) => l.trim() !== "");
  if (lines.length === 0) return "Training file is empty.";
  for (const [i, line] of lines.entries()) {
    let row: Record<string, unknown>;
    try {
      row = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return `Line ${i + 1} is not valid JSON.`;
    }
    if (method === "supervised") {
      const messages = row.messages;
      if (!Array.isArray(messages) || messages.length === 0) return `Line ${i + 1}: missing messages.`;
      if ((messages.at(-1) as { role?: string }).role !== "assistant") return `Line ${i + 1}: the last message must be from the assistant.`;
    } else {
      const input = row.input as { messages?: unknown } | undefined;
      if (!input || !Array.isArray(input.messages) || !Array.isArray(row.preferred_output) || !Array.isArray(row.non_preferred_output)) {
        return `Line ${i + 1}: expected input.messages, preferred_output and non_preferred_output.`;
      }
    }
  }
  return undefined;
}
