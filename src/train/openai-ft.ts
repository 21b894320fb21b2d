/**
 * Hosted fine-tuning through the OpenAI API (or a server speaking its fine-tuning wire format):
 * upload the export, create the job, follow its events with a progress bar, and record the
 * resulting model. The API key comes from OPENAI_API_KEY only and is never printed.
 */
import { createReadStream, createWriteStream, mkdirSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { once } from "node:events";
import { addSecret, errorText, redactError, redactSecrets } from "../util/redact.js";
import OpenAI from "openai";
import { z } from "zod";
import { Progress } from "../util/progress.js";
import { readExportDir, readStrict, type ExportDir } from "./export-dir.js";
import { didYouMean } from "./fields.js";
import { TrainStore } from "./train-store.js";

export type HostedTrainer = "sft" | "dpo";

export interface HostedOptions {
  trainer: HostedTrainer;
  /** A `critic export` folder. */
  data: string;
  /** The model to fine-tune, e.g. gpt-4.1-mini-2025-04-14. */
  base: string;
  /** Folder for converted files and job.json (default: a temporary folder when converting). */
  output?: string;
  /** OpenAI-compatible base URL (default: the SDK's, or $OPENAI_BASE_URL). */
  baseURL?: string;
  /** Hyper-parameters and job fields: n_epochs, batch_size, learning_rate_multiplier, beta (dpo), suffix, seed. */
  set?: string[];
  store: string | TrainStore;
  pollIntervalMs?: number;
  /** Stops following (the job keeps running on the server). */
  signal?: AbortSignal;
  log?: (line: string) => void;
  progress?: NodeJS.WritableStream | false;
  env?: NodeJS.ProcessEnv;
}

export interface HostedResult {
  id: number;
  jobId: string;
  status: "succeeded" | "failed" | "cancelled" | "interrupted";
  fineTunedModel: string | null;
  error: string | null;
  trainedTokens: number | null;
}

const HYPER: Record<HostedTrainer, string[]> = {
  sft: ["n_epochs", "batch_size", "learning_rate_multiplier"],
  dpo: ["n_epochs", "batch_size", "learning_rate_multiplier", "beta"],
};
const JOB_FIELDS = ["suffix", "seed"];

interface HostedSettings {
  hyperparameters: Record<string, number | "auto">;
  suffix?: string;
  seed?: number;
}

export function parseHostedSettings(trainer: HostedTrainer, settings: string[] = []): HostedSettings {
  const out: HostedSettings = { hyperparameters: {} };
  for (const text of settings) {
    const eq = text.indexOf("=");
    if (eq <= 0) throw new Error(`--set expects key=value, got "${text}"`);
    const key = text.slice(0, eq).trim();
    const raw = text.slice(eq + 1).trim();
    const known = [...HYPER[trainer], ...JOB_FIELDS];
    if (!known.includes(key)) {
      const close = didYouMean(key, known);
      throw new Error(
        `unknown OpenAI fine-tuning setting "${key}" for ${trainer === "sft" ? "supervised" : "dpo"} jobs; known: ${known.join(", ")}` +
          (close.length > 0 ? `; did you mean "${close[0]}"?` : ""),
      );
    }
    if (key === "suffix") out.suffix = raw;
    else if (key === "seed") out.seed = integer(key, raw);
    else if (raw === "auto") out.hyperparameters[key] = "auto";
    else {
      const n = Number(raw);
      if (!Number.isFinite(n) || n <= 0) throw new Error(`--set ${key}: expected a positive number or "auto", got "${raw}"`);
      if ((key === "n_epochs" || key === "batch_size") && !Number.isInteger(n)) throw new Error(`--set ${key}: expected a whole number, got "${raw}"`);
      out.hyperparameters[key] = n;
    }
  }
  return out;
}

function integer(key: string, raw: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n)) throw new Error(`--set ${key}: expected a whole number, got "${raw}"`);
  return n;
}

// ---------------------------------------------------------------- conversion

type Msg = { role: "system" | "user" | "assistant"; content: string };

function messagesOf(value: unknown, where: string): Msg[] {
  if (typeof value === "string") return [{ role: "user", content: value }];
  if (!Array.isArray(value)) throw new Error(`${where}: expected text or a list of messages`);
  return value.map((m, i) => {
    const msg = m as { role?: unknown; content?: unknown };
    const role = msg.role === "developer" ? "system" : msg.role;
    if (role !== "system" && role !== "user" && role !== "assistant") throw new Error(`${where}[${i}].role: expected system, user or assistant, got ${JSON.stringify(msg.role)}`);
    if (typeof msg.content !== "string") throw new Error(`${where}[${i}].content: expected text`);
    return { role, content: msg.content };
  });
}

function assistantOf(value: unknown, where: string): Msg[] {
  if (typeof value === "string") return [{ role: "assistant", content: value }];
  const msgs = messagesOf(value, where);
  if (msgs.length === 0 || msgs.some((m) => m.role !== "assistant")) throw new Error(`${where}: expected assistant messages`);
  return msgs;
}

/** One export row as an OpenAI supervised example ({messages}), or an error naming what is missing. */
export function toOpenAISupervised(row: Record<string, unknown>, where: string): { messages: Msg[] } {
  let messages: Msg[];
  if (row.messages !== undefined) messages = messagesOf(row.messages, `${where}.messages`);
  else if (row.prompt !== undefined && row.completion !== undefined) {
    messages = [...messagesOf(row.prompt, `${where}.prompt`), ...assistantOf(row.completion, `${where}.completion`)];
  } else if (typeof row.instruction === "string" && row.output !== undefined) {
    // critic's alpaca rows: a critique has the judge's system prompt as instruction and the judge prompt as input.
    const hasInput = typeof row.input === "string" && row.input.trim() !== "";
    messages = hasInput
      ? [{ role: "system", content: row.instruction }, { role: "user", content: row.input as string }, { role: "assistant", content: String(row.output) }]
      : [{ role: "user", content: row.instruction }, { role: "assistant", content: String(row.output) }];
  } else {
    throw new Error(`${where}: a supervised example needs messages, prompt + completion, or instruction + output (columns: ${Object.keys(row).join(", ")})`);
  }
  if (messages.at(-1)?.role !== "assistant") throw new Error(`${where}: the last message must be the assistant's answer`);
  return { messages };
}

/** One export row as an OpenAI preference example. */
export function toOpenAIPreference(row: Record<string, unknown>, where: string): { input: { messages: Msg[] }; preferred_output: Msg[]; non_preferred_output: Msg[] } {
  if (row.input !== undefined && row.preferred_output !== undefined && row.non_preferred_output !== undefined) {
    return row as unknown as ReturnType<typeof toOpenAIPreference>;
  }
  if (row.prompt === undefined || row.chosen === undefined || row.rejected === undefined) {
    throw new Error(`${where}: a preference example needs prompt, chosen and rejected (columns: ${Object.keys(row).join(", ")})`);
  }
  return {
    input: { messages: messagesOf(row.prompt, `${where}.prompt`) },
    preferred_output: assistantOf(row.chosen, `${where}.chosen`),
    non_preferred_output: assistantOf(row.rejected, `${where}.rejected`),
  };
}

const CONVERTIBLE: Record<HostedTrainer, string[]> = {
  sft: ["openai-sft", "sft-messages", "sft-prompt-completion", "alpaca", "criticon-sft", "prometheus-sft"],
  dpo: ["openai-dpo", "dpo", "dpo-conversational"],
};

/** The files to upload: the export's own (openai-* formats) or converted copies in `outDir`. */
export async function prepareHostedFiles(trainer: HostedTrainer, exp: ExportDir, outDir: () => Promise<string>): Promise<{ train: string; test?: string; converted: boolean }> {
  if (!CONVERTIBLE[trainer].includes(exp.format)) {
    throw new Error(
      `OpenAI ${trainer === "sft" ? "supervised" : "DPO"} fine-tuning cannot use a "${exp.format}" export; ` +
        `export with --format ${trainer === "sft" ? "openai-sft" : "openai-dpo"} (or one of ${CONVERTIBLE[trainer].slice(1).join(", ")}, which critic converts)`,
    );
  }
  for (const file of Object.values(exp.files)) {
    if (file && /\.parquet$/i.test(file)) throw new Error(`${file}: OpenAI fine-tuning takes JSONL; use the export's .jsonl files`);
  }
  const native = exp.format === (trainer === "sft" ? "openai-sft" : "openai-dpo");
  const convert = trainer === "sft" ? toOpenAISupervised : toOpenAIPreference;
  const dir = native ? undefined : await outDir();
  const result: { train: string; test?: string; converted: boolean } = { train: exp.files.train, converted: !native };
  for (const split of ["train", "test"] as const) {
    const source = exp.files[split];
    if (!source) continue;
    if (native) {
      // Check every row anyway: a bad line fails here, not after an upload and a queue wait.
      for await (const { record, line } of readStrict(source)) convert(record, `${path.basename(source)}:${line}`);
      result[split] = source;
      continue;
    }
    const target = path.join(dir!, `openai-${split}.jsonl`);
    const out = createWriteStream(target);
    for await (const { record, line } of readStrict(source)) {
      const text = `${JSON.stringify(convert(record, `${path.basename(source)}:${line}`))}\n`;
      if (!out.write(text)) await once(out, "drain");
    }
    out.end();
    await once(out, "finish");
    result[split] = target;
  }
  return result;
}

// ---------------------------------------------------------------- the job

const JOB_STATUSES = ["validating_files", "queued", "running", "succeeded", "failed", "cancelled"] as const;
const jobSchema = z.looseObject({ id: z.string().min(1), status: z.enum(JOB_STATUSES) });
const fileSchema = z.looseObject({ id: z.string().min(1) });

/**
 * The SDK returns whatever JSON the server sent: a proxy or another server behind the URL answers
 * 200 with something else, and the job id would be `undefined`. Check before using it.
 */
function checked<V>(schema: z.ZodType, value: V, request: string, what: string): V {
  const result = schema.safeParse(value);
  if (result.success) return value;
  const problems = result.error.issues.map((issue) => `${issue.path.join(".") || "(body)"}: ${issue.message}`).join("; ");
  const body = JSON.stringify(value) ?? String(value);
  throw new Error(`${request} answered something that is not ${what}: ${problems}; the body was ${body.length > 300 ? `${body.slice(0, 300)}…` : body}`);
}

export async function runHostedFineTune(options: HostedOptions): Promise<HostedResult> {
  const env = options.env ?? process.env;
  const apiKey = env.OPENAI_API_KEY;
  if (!apiKey || apiKey.trim() === "") throw new Error("set OPENAI_API_KEY to fine-tune with --provider openai (the key is read from the environment only)");
  const settings = parseHostedSettings(options.trainer, options.set);
  const exp = readExportDir(options.data);
  const log = redactingLog(options.log);
  const outDir = async () => {
    if (options.output) {
      mkdirSync(options.output, { recursive: true });
      return path.resolve(options.output);
    }
    return mkdtemp(path.join(tmpdir(), "critic-openai-ft-"));
  };
  const files = await prepareHostedFiles(options.trainer, exp, outDir);
  if (files.converted) log(`converted the ${exp.format} export to OpenAI's ${options.trainer === "sft" ? "chat" : "preference"} format: ${path.dirname(files.train)}`);

  addSecret(apiKey);
  const client = new OpenAI({ apiKey, ...(options.baseURL ? { baseURL: options.baseURL } : env.OPENAI_BASE_URL ? { baseURL: env.OPENAI_BASE_URL } : {}), maxRetries: 3 });
  const store = typeof options.store === "string" ? TrainStore.open(options.store) : options.store;
  const id = store.start({
    provider: "openai",
    trainer: options.trainer,
    base: options.base,
    ...(options.output ? { runDir: path.resolve(options.output) } : {}),
    options: { export: exp.dir, format: exp.format, settings, baseURL: options.baseURL ?? null },
  });
  try {
    log(`uploading ${path.basename(files.train)}`);
    const trainFile = checked(fileSchema, await client.files.create({ file: createReadStream(files.train), purpose: "fine-tune" }), "POST /files", "a file object");
    let validationFile: string | undefined;
    if (files.test) {
      log(`uploading ${path.basename(files.test)}`);
      validationFile = checked(fileSchema, await client.files.create({ file: createReadStream(files.test), purpose: "fine-tune" }), "POST /files", "a file object").id;
    }
    const method: OpenAI.FineTuning.JobCreateParams.Method =
      options.trainer === "sft"
        ? { type: "supervised", supervised: { hyperparameters: settings.hyperparameters } }
        : { type: "dpo", dpo: { hyperparameters: settings.hyperparameters } };
    const created = await client.fineTuning.jobs.create({
      model: options.base,
      training_file: trainFile.id,
      ...(validationFile ? { validation_file: validationFile } : {}),
      ...(settings.suffix ? { suffix: settings.suffix } : {}),
      ...(settings.seed !== undefined ? { seed: settings.seed } : {}),
      method,
    });
    const job = checked(jobSchema, created, "POST /fine_tuning/jobs", "a fine-tuning job");
    store.update(id, { jobId: job.id });
    log(`created fine-tuning job ${job.id} (${job.status})`);
    return await follow(client, job.id, id, store, options, log);
  } catch (error) {
    // The SDK's error carries the server's words, which may echo the Authorization header.
    const redacted = redactError(error);
    store.finish(id, { status: "failed", error: errorText(redacted) });
    throw redacted;
  } finally {
    if (typeof options.store === "string") store.close();
  }
}

/** Follows an existing job (e.g. after an interrupted `critic train --provider openai`). */
export async function followHostedJob(options: Omit<HostedOptions, "trainer" | "data" | "base" | "set" | "output"> & { jobId: string }): Promise<HostedResult> {
  const env = options.env ?? process.env;
  const apiKey = env.OPENAI_API_KEY;
  if (!apiKey || apiKey.trim() === "") throw new Error("set OPENAI_API_KEY to follow an OpenAI fine-tuning job");
  addSecret(apiKey);
  const client = new OpenAI({ apiKey, ...(options.baseURL ? { baseURL: options.baseURL } : env.OPENAI_BASE_URL ? { baseURL: env.OPENAI_BASE_URL } : {}), maxRetries: 3 });
  const store = typeof options.store === "string" ? TrainStore.open(options.store) : options.store;
  let job: OpenAI.FineTuning.FineTuningJob;
  try {
    job = checked(jobSchema, await client.fineTuning.jobs.retrieve(options.jobId), `GET /fine_tuning/jobs/${options.jobId}`, "a fine-tuning job");
  } catch (error) {
    if (typeof options.store === "string") store.close();
    throw redactError(error);
  }
  const id = store.start({ provider: "openai", trainer: job.method?.type === "dpo" ? "dpo" : "sft", base: job.model, options: { followed: true } });
  store.update(id, { jobId: job.id });
  try {
    return await follow(client, job.id, id, store, options, redactingLog(options.log));
  } catch (error) {
    const redacted = redactError(error);
    store.finish(id, { status: "failed", error: errorText(redacted) });
    throw redacted;
  } finally {
    if (typeof options.store === "string") store.close();
  }
}

async function follow(
  client: OpenAI,
  jobId: string,
  id: number,
  store: TrainStore,
  options: Pick<HostedOptions, "pollIntervalMs" | "signal" | "progress">,
  log: (line: string) => void,
): Promise<HostedResult> {
  const seen = new Set<string>();
  let progress: Progress | undefined;
  let shown = 0;
  let lastStatus = "";
  const interval = options.pollIntervalMs ?? 10_000;
  for (;;) {
    // An unknown status would never end the loop: it is an error, as is a body without one.
    const job = checked(jobSchema, await client.fineTuning.jobs.retrieve(jobId), `GET /fine_tuning/jobs/${jobId}`, "a fine-tuning job");
    if (job.status !== lastStatus) {
      lastStatus = job.status;
      if (job.status !== "running") log(`job ${jobId}: ${job.status}`);
    }
    // Events come newest first: take the new ones and show them oldest first.
    const page = await client.fineTuning.jobs.listEvents(jobId, { limit: 100 });
    const fresh: OpenAI.FineTuning.FineTuningJobEvent[] = [];
    for (const event of page.data) {
      if (seen.has(event.id)) break;
      fresh.push(event);
    }
    for (const event of fresh.reverse()) {
      seen.add(event.id);
      if (event.type === "metrics") {
        const data = (event.data ?? {}) as { step?: number; total_steps?: number; train_loss?: number };
        if (typeof data.step === "number" && typeof data.total_steps === "number") {
          if (options.progress !== false) {
            progress ??= new Progress({ label: `fine-tune ${jobId}`, total: data.total_steps, ...(options.progress ? { stream: options.progress } : {}) });
            if (data.step > shown) progress.tick(data.step - shown, typeof data.train_loss === "number" ? `loss ${data.train_loss.toFixed(4)}` : "");
          }
          shown = Math.max(shown, data.step);
          store.update(id, { step: data.step, totalSteps: data.total_steps, ...(typeof data.train_loss === "number" ? { loss: data.train_loss } : {}) });
        }
      } else {
        log(`${event.level === "info" ? "" : `${event.level}: `}${event.message}`);
      }
    }
    if (job.status === "succeeded" || job.status === "failed" || job.status === "cancelled") {
      progress?.finish();
      const error = job.error ? redactSecrets(`${job.error.code}: ${job.error.message}${job.error.param ? ` (${job.error.param})` : ""}`) : job.status === "cancelled" ? "the job was cancelled" : null;
      store.finish(id, { status: job.status === "succeeded" ? "succeeded" : "failed", fineTunedModel: job.fine_tuned_model, error });
      return { id, jobId, status: job.status, fineTunedModel: job.fine_tuned_model, error, trainedTokens: job.trained_tokens };
    }
    if (await sleep(interval, options.signal)) {
      progress?.finish();
      store.finish(id, { status: "interrupted", error: "stopped following; the job continues on the server" });
      return { id, jobId, status: "interrupted", fineTunedModel: null, error: null, trainedTokens: null };
    }
  }
}

function redactingLog(log: ((line: string) => void) | undefined): (line: string) => void {
  return (line) => log?.(redactSecrets(line));
}

/** Resolves true when aborted. */
function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve(false);
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(true);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
