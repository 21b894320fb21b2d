import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { describeLaunch, launchRun, startLaunch } from "./launch.js";
import { writeRunFolder } from "./recipe.js";
import { TrainStore } from "./train-store.js";

const fakeTrl = fileURLToPath(new URL("../../test/support/fake-trl.mjs", import.meta.url));
const root = mkdtempSync(path.join(tmpdir(), "critic-launch-"));
const storePath = path.join(root, "store.sqlite");
let data: string;

beforeAll(() => {
  data = path.join(root, "export");
  mkdirSync(data);
  writeFileSync(path.join(data, "train.jsonl"), `${JSON.stringify({ prompt: "Rate: 2+2=5", chosen: "Wrong. [SCORE] 1", rejected: "Fine. [SCORE] 9" })}\n`);
  writeFileSync(path.join(data, "export.json"), JSON.stringify({ format: "dpo", trainer: "dpo", conversational: false, files: { train: "train.jsonl" }, counts: { train: 1 } }));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function runFolder(name: string, trainer: "dpo" | "grpo" = "dpo"): Promise<string> {
  return (await writeRunFolder({ trainer, data, base: "tiny/base", output: path.join(root, name) })).runDir;
}

function sink(): { stream: Writable; text: () => string } {
  let text = "";
  return { stream: new Writable({ write: (chunk, _e, done) => ((text += String(chunk)), done()) }), text: () => text };
}

describe("launching a run folder", () => {
  it("parses the trainer's output into progress and records a succeeded run with its last step and loss", async () => {
    const runDir = await runFolder("ok");
    const progress = sink();
    const lines: string[] = [];
    const result = await launchRun({ runDir, launcher: fakeTrl, store: storePath, progress: progress.stream, echo: (l) => lines.push(l), env: { FAKE_TRL_STEPS: "20" } });
    expect(result.status).toBe("succeeded");
    expect(result.exitCode).toBe(0);
    expect(result.state).toMatchObject({ step: 20, total: 20, loss: 0.8123, epoch: 2 });
    expect(result.state.summary?.train_runtime).toBe(20.5);
    expect(lines.some((l) => l.includes("'rewards/chosen': 0.12"))).toBe(true);
    // Plain (non-TTY) progress: a line per 10%; the loss joins once a log dict has been read.
    expect(progress.text()).toMatch(/train dpo 20\/20 /);
    expect(describeLaunch(result)).toMatch(/^train run \d+ succeeded at step 20\/20, loss 0\.8123 after \d+s$/);

    const store = TrainStore.open(storePath);
    const row = store.get(result.id)!;
    store.close();
    expect(row).toMatchObject({ provider: "trl", trainer: "dpo", status: "succeeded", step: 20, totalSteps: 20, loss: 0.8123, epoch: 2, exitCode: 0, runDir, base: "tiny/base", error: null });
    expect(row.finishedAt).not.toBeNull();
  });

  it("reads log values printed as quoted strings", async () => {
    const runDir = await runFolder("strings", "grpo");
    const result = await launchRun({ runDir, launcher: fakeTrl, store: storePath, progress: false, env: { FAKE_TRL_VALUES: "strings", FAKE_TRL_STEPS: "10" } });
    expect(result.status).toBe("succeeded");
    expect(result.state.learningRate).not.toBeNull();
    expect(result.state.total).toBe(10);
  });

  it("records a failed run with the trainer's error line and exit code", async () => {
    const runDir = await runFolder("fail");
    const result = await launchRun({ runDir, launcher: fakeTrl, store: storePath, progress: false, env: { FAKE_TRL_MODE: "fail", FAKE_TRL_STEPS: "20" } });
    expect(result.status).toBe("failed");
    expect(result.exitCode).toBe(1);
    expect(result.state.step).toBe(10);
    const store = TrainStore.open(storePath);
    const row = store.get(result.id)!;
    store.close();
    expect(row).toMatchObject({ status: "failed", exitCode: 1, step: 10, totalSteps: 20 });
    expect(row.error).toMatch(/torch\.OutOfMemoryError: CUDA out of memory/);
  });

  it("forwards Ctrl-C to the trainer and records the run as interrupted", async () => {
    const runDir = await runFolder("sigint");
    const lines: string[] = [];
    const running = startLaunch({ runDir, launcher: fakeTrl, store: storePath, progress: false, echo: (l) => lines.push(l), env: { FAKE_TRL_MODE: "hang", FAKE_TRL_STEPS: "20" } });
    for (let i = 0; i < 200 && !lines.some((l) => l.includes("'epoch'")); i++) await new Promise((r) => setTimeout(r, 20));
    running.interrupt();
    const result = await running.done;
    expect(result.status).toBe("interrupted");
    expect(result.exitCode).toBe(130);
    expect(lines.join("\n")).toContain("KeyboardInterrupt");
    const store = TrainStore.open(storePath);
    expect(store.get(result.id)).toMatchObject({ status: "interrupted", step: 10, totalSteps: 20 });
    store.close();
  });

  it("a launch.sh whose accelerate is missing (exit 127) reports the shell's own line and points at doctor", async () => {
    const runDir = await runFolder("no-accelerate");
    // A PATH with bash and dirname only: launch.sh runs, `exec accelerate` does not.
    const bin = path.join(root, "bin-without-accelerate");
    mkdirSync(bin, { recursive: true });
    for (const tool of ["bash", "dirname"]) symlinkSync(execFileSync("sh", ["-c", `command -v ${tool}`], { encoding: "utf8" }).trim(), path.join(bin, tool));
    const result = await launchRun({ runDir, store: storePath, progress: false, env: { PATH: bin } });
    expect(result).toMatchObject({ status: "failed", exitCode: 127 });
    expect(result.tail.join("\n")).toMatch(/accelerate: (command )?not found/);
    expect(result.error).toMatch(/code 127: a command was not found .*critic train doctor/);
    const store = TrainStore.open(storePath);
    expect(store.get(result.id)?.error).toBe(result.error);
    store.close();
  });

  it("fails clearly when the launcher cannot start or the folder is not a run", async () => {
    const runDir = await runFolder("nolauncher");
    const result = await launchRun({ runDir, launcher: path.join(root, "missing-exe"), store: storePath, progress: false });
    expect(result.status).toBe("failed");
    await expect(launchRun({ runDir: root, store: storePath })).rejects.toThrow(/not a critic run folder/);
  });
});
