import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Command } from "commander";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { registerTrain } from "../cli/train.js";
import { runDoctor } from "./doctor.js";
import { TrainStore } from "./train-store.js";

const fakeTrl = fileURLToPath(new URL("../../test/support/fake-trl.mjs", import.meta.url));
const root = mkdtempSync(path.join(tmpdir(), "critic-train-cli-"));
const store = path.join(root, "store.sqlite");
let data: string;

beforeAll(() => {
  data = path.join(root, "export");
  mkdirSync(data);
  const row = { messages: [{ role: "user", content: "Rate: 2+2=5" }, { role: "assistant", content: "Wrong. [SCORE] 1" }] };
  writeFileSync(path.join(data, "train.jsonl"), `${JSON.stringify(row)}\n`);
  writeFileSync(path.join(data, "test.jsonl"), `${JSON.stringify(row)}\n`);
  writeFileSync(path.join(data, "export.json"), JSON.stringify({ format: "sft-messages", trainer: "sft", conversational: true, files: { train: "train.jsonl", test: "test.jsonl" }, counts: { train: 1, test: 1 } }));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

function capture() {
  const stdout: string[] = [];
  const stderr: string[] = [];
  vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => (stdout.push(String(chunk)), true));
  vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => (stderr.push(String(chunk)), true));
  return { stdout: () => stdout.join(""), stderr: () => stderr.join("") };
}

function cli(args: string[]): Promise<Command> {
  const program = new Command().exitOverride();
  registerTrain(program);
  return program.parseAsync(["train", ...args], { from: "user" });
}

describe("critic train (CLI)", () => {
  afterEach(() => {
    vi.restoreAllMocks();
    vi.unstubAllEnvs();
    process.exitCode = undefined;
  });

  it("writes a run folder and launches it with --launch, recording the run", async () => {
    const io = capture();
    const out = path.join(root, "run-lora");
    await cli(["sft", "--data", data, "--base", "Qwen/Qwen2.5-0.5B-Instruct", "-o", out, "--preset", "lora", "--set", "num_train_epochs=2", "--launch", "--launcher", fakeTrl, "--store", store]);
    expect(io.stdout()).toMatch(/wrote .*run-lora\/: config\.yaml, accelerate\.yaml, train\.py, launch\.sh, README\.md, critic-run\.json/);
    expect(io.stdout()).toContain("sft on Qwen/Qwen2.5-0.5B-Instruct, single (1 process), preset lora");
    expect(io.stderr()).toMatch(/train run \d+ succeeded at step 20\/20, loss 0\.8123/);
    expect(process.exitCode).toBeUndefined();
    const s = TrainStore.open(store);
    expect(s.list(1)[0]).toMatchObject({ status: "succeeded", runDir: out, trainer: "sft" });
    s.close();
  });

  it("rejects a misspelt --set before writing anything", async () => {
    capture();
    const out = path.join(root, "typo");
    await expect(cli(["sft", "--data", data, "--base", "m", "-o", out, "--set", "learnig_rate=1e-5"])).rejects.toThrow(/did you mean "learning_rate"/);
    expect(existsSync(out)).toBe(false);
    await expect(cli(["kto", "--data", data, "--base", "m", "-o", out])).rejects.toThrow(/cannot use/);
    await expect(cli(["grpo", "--data", data, "--base", "m", "-o", out, "--provider", "openai"])).rejects.toThrow(/sft or dpo/);
  });

  it("Ctrl-C during `critic train launch` stops the trainer and records the run as interrupted", async () => {
    const io = capture();
    const out = path.join(root, "run-hang");
    await cli(["sft", "--data", data, "--base", "m", "-o", out]);
    vi.stubEnv("FAKE_TRL_MODE", "hang");
    const running = cli(["launch", out, "--launcher", fakeTrl, "--store", store]);
    const s = TrainStore.open(store);
    try {
      let row;
      for (let i = 0; i < 300; i++) {
        row = s.list(1)[0];
        if (row?.runDir === out && (row.step ?? 0) >= 10) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(row?.runDir).toBe(out);
      expect(row?.status).toBe("running");
      process.emit("SIGINT");
      await running;
      expect(io.stderr()).toContain("Ctrl-C: stopping the trainer");
      expect(io.stderr()).toMatch(/train run \d+ interrupted at step 10\/20/);
      expect(process.exitCode).toBe(130);
      expect(s.list(1)[0]).toMatchObject({ runDir: out, status: "interrupted", exitCode: 130 });
    } finally {
      s.close();
    }
  });
});

describe("critic train doctor", () => {
  afterEach(() => {
    vi.restoreAllMocks();
    vi.unstubAllEnvs();
    process.exitCode = undefined;
  });

  it("on this machine (no TRL), names what is missing and the pip command to install it", async () => {
    const io = capture();
    await cli(["doctor"]);
    const text = io.stdout();
    expect(process.exitCode).toBe(1);
    expect(text).toMatch(/^python {8}3\.\d+/m);
    expect(text).toMatch(/^trl {11}MISSING {2}needed for every run/m);
    expect(text).toMatch(/- missing: torch, transformers, trl, accelerate, datasets.*\. Install: python3 -m pip install torch transformers "trl==1\.9\.0" accelerate datasets/);
    expect(text).toMatch(/deepspeed is missing \(needed for --accelerate zero2, zero3, multi-node\): python3 -m pip install deepspeed/);
    expect(text).toMatch(/no NVIDIA GPU found/);
  });

  it("with a python and nvidia-smi that have everything, reports versions and GPUs and is ready", async () => {
    const bin = path.join(root, "fake-bin");
    mkdirSync(bin, { recursive: true });
    const probe = {
      python: "3.11.9",
      modules: Object.fromEntries(["torch", "transformers", "trl", "accelerate", "datasets", "yaml", "peft", "deepspeed", "bitsandbytes"].map((m) => [m, { version: m === "trl" ? "1.9.0" : "9.9.9" }])),
      cuda: true,
      devices: [{ name: "NVIDIA H100 80GB HBM3", memoryMiB: 81559 }],
    };
    writeFileSync(path.join(bin, "python3"), `#!/bin/sh\ncat <<'JSON'\n${JSON.stringify(probe)}\nJSON\n`);
    writeFileSync(path.join(bin, "nvidia-smi"), "#!/bin/sh\necho 'NVIDIA H100 80GB HBM3, 81559'\necho 'NVIDIA H100 80GB HBM3, 81559'\n");
    chmodSync(path.join(bin, "python3"), 0o755);
    chmodSync(path.join(bin, "nvidia-smi"), 0o755);
    vi.stubEnv("PATH", `${bin}${path.delimiter}${process.env.PATH}`);
    vi.stubEnv("CRITIC_PYTHON", "");

    const report = await runDoctor({ python: "python3" });
    expect(report.ok).toBe(true);
    expect(report.gpus).toEqual([{ name: "NVIDIA H100 80GB HBM3", memoryMiB: 81559 }, { name: "NVIDIA H100 80GB HBM3", memoryMiB: 81559 }]);
    expect(report.gpuSource).toBe("nvidia-smi");
    expect(report.packages.find((p) => p.name === "trl")?.version).toBe("1.9.0");

    const io = capture();
    await cli(["doctor", "--python", "python3"]);
    expect(io.stdout()).toContain("ready to train");
    expect(io.stdout()).toContain("gpu 0         NVIDIA H100 80GB HBM3, 80 GiB (nvidia-smi)");
    expect(process.exitCode).toBeUndefined();

    // Another TRL version: say how to match the pinned names.
    writeFileSync(path.join(bin, "python3"), `#!/bin/sh\ncat <<'JSON'\n${JSON.stringify({ ...probe, modules: { ...probe.modules, trl: { version: "0.19.1" } } })}\nJSON\n`);
    const other = await runDoctor({ python: "python3" });
    expect(other.problems.join("\n")).toMatch(/trl 0\.19\.1 is installed.*dump_fields\.py > trl-fields\.json, then pass --fields trl-fields\.json/);

    const none = await runDoctor({ python: path.join(root, "no-such-python") });
    expect(none.ok).toBe(false);
    expect(none.problems[0]).toMatch(/command not found.*install Python 3\.10\+/);
  });
});
