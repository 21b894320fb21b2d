import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import { Command } from "commander";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { startFineTuneServer, type FineTuneServer } from "../../test/support/finetune-server.js";
import { registerTrain } from "../cli/train.js";
import { followHostedJob, parseHostedSettings, runHostedFineTune, toOpenAIPreference } from "./openai-ft.js";
import { TrainStore } from "./train-store.js";

const KEY = "sk-test-finetune-0123456789";
const root = mkdtempSync(path.join(tmpdir(), "critic-openai-ft-"));
const store = path.join(root, "store.sqlite");
let server: FineTuneServer;

function makeExport(name: string, format: string, trainer: string, rows: object[], test?: object[]): string {
  const dir = path.join(root, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, "train.jsonl"), rows.map((r) => JSON.stringify(r)).join("\n") + "\n");
  if (test) writeFileSync(path.join(dir, "test.jsonl"), test.map((r) => JSON.stringify(r)).join("\n") + "\n");
  writeFileSync(path.join(dir, "export.json"), JSON.stringify({ format, trainer, conversational: true, files: test ? { train: "train.jsonl", test: "test.jsonl" } : { train: "train.jsonl" }, counts: {} }));
  return dir;
}

const chat = (q: string, a: string) => ({ messages: [{ role: "system", content: "You are a critical teacher." }, { role: "user", content: q }, { role: "assistant", content: a }] });
const quiet = new Writable({ write: (_c, _e, done) => done() });

beforeAll(async () => {
  server = await startFineTuneServer({ apiKey: KEY, steps: 4 });
});
afterAll(async () => {
  await server?.close();
  rmSync(root, { recursive: true, force: true });
});

describe("hosted fine-tuning over the OpenAI wire format", () => {
  afterEach(() => {
    vi.restoreAllMocks();
    vi.unstubAllEnvs();
    process.exitCode = undefined;
  });

  it("uploads an openai-sft export, creates a supervised job, follows it to succeeded and records the model (CLI)", async () => {
    const data = makeExport("openai-sft", "openai-sft", "openai-sft", [chat("Rate: 2+2=5", "Wrong. [SCORE] 1"), chat("Rate: 3+3=6", "Right. [SCORE] 10")], [chat("Rate: 1+1=2", "Right. [SCORE] 10")]);
    vi.stubEnv("OPENAI_API_KEY", KEY);
    const stdout: string[] = [];
    const stderr: string[] = [];
    vi.spyOn(process.stdout, "write").mockImplementation((c: string | Uint8Array) => (stdout.push(String(c)), true));
    vi.spyOn(process.stderr, "write").mockImplementation((c: string | Uint8Array) => (stderr.push(String(c)), true));
    const program = new Command().exitOverride();
    registerTrain(program);
    await program.parseAsync(
      ["train", "sft", "--provider", "openai", "--base-url", server.baseURL, "--data", data, "--base", "gpt-4.1-mini-2025-04-14", "--set", "n_epochs=3", "--set", "suffix=judge", "--store", store, "--poll-interval", "0.01"],
      { from: "user" },
    );

    // Wire format: two multipart uploads with purpose=fine-tune, then a supervised job on them.
    const uploads = [...server.files.values()];
    expect(uploads.map((f) => [f.filename, f.purpose])).toEqual([["train.jsonl", "fine-tune"], ["test.jsonl", "fine-tune"]]);
    expect(uploads[0]!.content).toBe(readFileSync(path.join(data, "train.jsonl"), "utf8"));
    expect(server.requests.filter((r) => r.path === "/v1/files").every((r) => r.contentType?.startsWith("multipart/form-data"))).toBe(true);
    expect(server.requests.every((r) => r.authorized)).toBe(true);
    const [job] = [...server.jobs.values()];
    expect(job!.body).toEqual({
      model: "gpt-4.1-mini-2025-04-14",
      training_file: uploads[0]!.id,
      validation_file: uploads[1]!.id,
      suffix: "judge",
      method: { type: "supervised", supervised: { hyperparameters: { n_epochs: 3 } } },
    });
    expect(server.requests.some((r) => r.method === "GET" && r.path.endsWith("/events"))).toBe(true);

    const model = job!.job.fine_tuned_model as string;
    expect(model).toMatch(/^ft:gpt-4\.1-mini-2025-04-14:critic-test:judge:/);
    expect(stdout.join("")).toContain(`fine-tuned model: ${model}`);
    expect(stdout.join("")).toContain(`use it: critic judge data.jsonl -o judged.jsonl --model openai:${model}\n`);
    expect(stderr.join("")).toContain("The job has successfully completed");
    expect(stderr.join("") + stdout.join("")).not.toContain(KEY);
    expect(process.exitCode).toBeUndefined();

    const s = TrainStore.open(store);
    expect(s.list(1)[0]).toMatchObject({ provider: "openai", trainer: "sft", status: "succeeded", fineTunedModel: model, jobId: job!.job.id, step: 4, totalSteps: 4, base: "gpt-4.1-mini-2025-04-14" });
    expect(JSON.stringify(s.list(1)[0])).not.toContain(KEY);
    s.close();
  });

  it("converts a dpo export to OpenAI's preference format and sends a dpo job", async () => {
    const data = makeExport("dpo", "dpo", "dpo", [{ prompt: "Rate: 2+2=5", chosen: "Wrong. [SCORE] 1", rejected: "Great. [SCORE] 10" }]);
    const out = path.join(root, "dpo-run");
    const result = await runHostedFineTune({ trainer: "dpo", data, base: "gpt-4.1-mini", output: out, baseURL: server.baseURL, set: ["beta=0.2"], store, pollIntervalMs: 5, env: { OPENAI_API_KEY: KEY }, progress: quiet });
    expect(result.status).toBe("succeeded");
    const upload = [...server.files.values()].at(-1)!;
    expect(JSON.parse(upload.content)).toEqual({
      input: { messages: [{ role: "user", content: "Rate: 2+2=5" }] },
      preferred_output: [{ role: "assistant", content: "Wrong. [SCORE] 1" }],
      non_preferred_output: [{ role: "assistant", content: "Great. [SCORE] 10" }],
    });
    expect(readFileSync(path.join(out, "openai-train.jsonl"), "utf8")).toBe(upload.content);
    const job = [...server.jobs.values()].at(-1)!;
    expect(job.body.method).toEqual({ type: "dpo", dpo: { hyperparameters: { beta: 0.2 } } });
  });

  it("records a job that fails during training; a bad row is caught before any upload", async () => {
    const failing = await startFineTuneServer({ apiKey: KEY, steps: 6, failAtStep: 2 });
    try {
      const data = makeExport("sft-fail", "sft-prompt-completion", "sft", [{ prompt: "Rate it", completion: "[SCORE] 3" }]);
      const result = await runHostedFineTune({ trainer: "sft", data, base: "gpt-4.1-mini", baseURL: failing.baseURL, store, pollIntervalMs: 5, env: { OPENAI_API_KEY: KEY }, progress: quiet });
      expect(result).toMatchObject({ status: "failed", fineTunedModel: null, error: "server_error: The job failed due to an internal error." });
      const s = TrainStore.open(store);
      expect(s.get(result.id)).toMatchObject({ status: "failed", step: 2, totalSteps: 6, error: "server_error: The job failed due to an internal error." });
      s.close();
    } finally {
      await failing.close();
    }
    // A native openai-sft file whose rows are fine for critic but whose last turn OpenAI rejects never gets this far:
    // critic checks every row before uploading.
    const bad = makeExport("bad-openai", "openai-sft", "openai-sft", [{ messages: [{ role: "user", content: "no answer" }] }]);
    await expect(runHostedFineTune({ trainer: "sft", data: bad, base: "m", baseURL: server.baseURL, store, env: { OPENAI_API_KEY: KEY } })).rejects.toThrow(/train\.jsonl:1: the last message must be the assistant's answer/);
  });

  it("never shows the key when the server echoes the Authorization header: the error, its body, and the stored run", async () => {
    const echoing = await startFineTuneServer({ echoAuthorization: true });
    try {
      const data = makeExport("sft-echo", "openai-sft", "openai-sft", [chat("q", "a")]);
      const error = await runHostedFineTune({ trainer: "sft", data, base: "m", baseURL: echoing.baseURL, store, env: { OPENAI_API_KEY: KEY } }).then(
        () => undefined,
        (e: unknown) => e as Error & { error?: unknown },
      );
      expect(error?.message).toContain("Bearer [redacted]");
      expect(error?.message).not.toContain(KEY);
      expect(String(error?.stack)).not.toContain(KEY);
      expect(JSON.stringify(error?.error)).not.toContain(KEY);
      const s = TrainStore.open(store);
      const stored = s.list(1)[0]!;
      s.close();
      expect(stored.status).toBe("failed");
      expect(String(stored.error)).toContain("[redacted]");
      expect(JSON.stringify(stored)).not.toContain(KEY);
      await expect(followHostedJob({ jobId: "ftjob-x", baseURL: echoing.baseURL, store, env: { OPENAI_API_KEY: KEY } })).rejects.toThrow(/Bearer \[redacted\]/);
    } finally {
      await echoing.close();
    }
  });

  it("refuses exports it cannot convert, unknown settings and a missing key", async () => {
    const kto = makeExport("kto", "kto", "kto", [{ prompt: "p", completion: "c", label: true }]);
    await expect(runHostedFineTune({ trainer: "sft", data: kto, base: "m", baseURL: server.baseURL, store, env: { OPENAI_API_KEY: KEY } })).rejects.toThrow(
      /cannot use a "kto" export; export with --format openai-sft/,
    );
    expect(() => parseHostedSettings("sft", ["n_epoch=3"])).toThrow(/did you mean "n_epochs"/);
    expect(() => parseHostedSettings("sft", ["beta=0.1"])).toThrow(/unknown OpenAI fine-tuning setting "beta" for supervised jobs/);
    expect(parseHostedSettings("dpo", ["beta=auto", "batch_size=8", "seed=7"])).toEqual({ hyperparameters: { beta: "auto", batch_size: 8 }, seed: 7 });
    const data = makeExport("sft-nokey", "openai-sft", "openai-sft", [chat("q", "a")]);
    await expect(runHostedFineTune({ trainer: "sft", data, base: "m", store, env: {} })).rejects.toThrow(/set OPENAI_API_KEY/);
    expect(() => toOpenAIPreference({ prompt: "p", chosen: "c" }, "x:1")).toThrow(/needs prompt, chosen and rejected/);
  });

  it("a response that is not a fine-tuning job fails with what was wrong, instead of `(undefined)` and polling forever", async () => {
    const data = makeExport("sft-bad-server", "openai-sft", "openai-sft", [chat("q", "a")]);
    const noJob = await startFineTuneServer({ apiKey: KEY, jobBody: () => ({ object: "list", data: [] }) });
    const oddStatus = await startFineTuneServer({ apiKey: KEY, jobBody: (job, route) => (route === "retrieve" ? { ...job, status: "pending_forever" } : job) });
    try {
      await expect(runHostedFineTune({ trainer: "sft", data, base: "m", baseURL: noJob.baseURL, store, pollIntervalMs: 5, env: { OPENAI_API_KEY: KEY }, progress: quiet })).rejects.toThrow(
        /POST \/fine_tuning\/jobs answered something that is not a fine-tuning job: id: .*; status: .*\{"object":"list","data":\[\]\}/,
      );
      await expect(runHostedFineTune({ trainer: "sft", data, base: "m", baseURL: oddStatus.baseURL, store, pollIntervalMs: 5, env: { OPENAI_API_KEY: KEY }, progress: quiet })).rejects.toThrow(
        /GET \/fine_tuning\/jobs\/ftjob-\w+ answered something that is not a fine-tuning job: status: .*pending_forever/,
      );
    } finally {
      await Promise.all([noJob.close(), oddStatus.close()]);
    }
  });
});
