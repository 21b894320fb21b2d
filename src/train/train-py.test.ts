import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { writeRunFolder } from "./recipe.js";
import type { TrlTrainer } from "./fields.js";

// Executes each generated train.py up to trainer.train() against stand-in torch/datasets/trl
// modules (test/support/trl_standin.py) for TRL before 1.7 and for 1.8 and later.
const standin = fileURLToPath(new URL("../../test/support/trl_standin.py", import.meta.url));
const root = mkdtempSync(path.join(tmpdir(), "critic-trainpy-"));

const rows: Record<TrlTrainer, { format: string; row: object }> = {
  sft: { format: "sft-messages", row: { messages: [{ role: "user", content: "Rate: 2+2=5" }, { role: "assistant", content: "Wrong. [SCORE] 1" }] } },
  dpo: { format: "dpo", row: { prompt: "q", chosen: "good", rejected: "bad" } },
  kto: { format: "kto", row: { prompt: "q", completion: "a", label: true } },
  reward: { format: "reward", row: { chosen: "good", rejected: "bad" } },
  grpo: { format: "dpo", row: { prompt: "q", chosen: "good", rejected: "bad" } },
};

function exportDir(trainer: TrlTrainer): string {
  const dir = path.join(root, `data-${trainer}`);
  mkdirSync(dir, { recursive: true });
  const { format, row } = rows[trainer];
  writeFileSync(path.join(dir, "train.jsonl"), `${JSON.stringify(row)}\n`);
  writeFileSync(path.join(dir, "test.jsonl"), `${JSON.stringify(row)}\n`);
  writeFileSync(path.join(dir, "export.json"), JSON.stringify({ format, trainer: trainer === "grpo" ? "dpo" : trainer, conversational: format === "sft-messages", files: { train: "train.jsonl", test: "test.jsonl" }, counts: { train: 1, test: 1 } }));
  return dir;
}

interface Seen {
  trainer: string;
  given: { model: string; quantization_config?: unknown; peft_config: unknown; eval_dataset: unknown; reward_funcs: number | null };
  model_init_kwargs: Record<string, unknown>;
  args: Record<string, unknown>;
}

function runStandin(flavour: "old" | "new", runDir: string): Seen {
  const out = path.join(runDir, `seen-${flavour}.json`);
  execFileSync("python3", [standin, flavour, runDir, out], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  return JSON.parse(readFileSync(out, "utf8")) as Seen;
}

const cases: Array<{ trainer: TrlTrainer; preset?: string }> = [
  ...(["sft", "dpo", "kto", "reward", "grpo"] as const).map((trainer) => ({ trainer })),
  ...(["sft", "dpo", "kto", "reward", "grpo"] as const).map((trainer) => ({ trainer, preset: "lora" })),
  { trainer: "sft", preset: "criticon-full" },
  { trainer: "sft", preset: "dsc-sft" },
];

describe("train.py reaches trainer.train() on TRL before 1.7 and on 1.8+", () => {
  for (const { trainer, preset } of cases) {
    it(`${trainer}${preset ? ` --preset ${preset}` : ""}`, async () => {
      const run = await writeRunFolder({
        trainer, data: exportDir(trainer), base: "org/base-model", output: path.join(root, `${trainer}-${preset ?? "default"}`),
        ...(preset ? { preset } : {}),
        set: ["model_init_kwargs={device_map: auto, low_cpu_mem_usage: true}"],
      });
      for (const flavour of ["old", "new"] as const) {
        const seen = runStandin(flavour, run.runDir);
        expect(seen.trainer).toBe(trainer);
        expect(seen.given.model).toBe("org/base-model");
        expect(seen.given.eval_dataset).not.toBeNull();
        // The user's model_init_kwargs are kept, and win over what train.py derives.
        expect(seen.model_init_kwargs).toMatchObject({ device_map: "auto", low_cpu_mem_usage: true });
        expect(seen.model_init_kwargs.trust_remote_code ?? false).toBe(false);
        const quantised = run.model.load_in_4bit === true;
        if (flavour === "new") expect(seen.given.quantization_config ?? null).toEqual(quantised ? { load_in_4bit: true } : null);
        else expect(seen.model_init_kwargs.quantization_config ?? null).toEqual(quantised ? { load_in_4bit: true } : null);
        expect(seen.given.reward_funcs).toBe(trainer === "grpo" ? 1 : null);
        if (run.training.warmup_steps === 0.1) {
          // transformers 5 reads warmup_steps < 1 as a ratio; on 4.x train.py passes warmup_ratio.
          if (flavour === "new") expect(seen.args).toMatchObject({ warmup_steps: 0.1 });
          else expect(seen.args).toMatchObject({ warmup_ratio: 0.1 });
        }
      }
    });
  }

  it("trust_remote_code set on the trainer config reaches from_pretrained on TRL 1.7+ and before", async () => {
    for (const trainer of ["sft", "dpo", "reward", "grpo", "kto"] as const) {
      const run = await writeRunFolder({
        trainer, data: exportDir(trainer), base: "org/remote-code-model", output: path.join(root, `remote-${trainer}`),
        set: ["training.trust_remote_code=true"],
      });
      expect(run.training.trust_remote_code).toBe(true);
      for (const flavour of ["old", "new"] as const) {
        expect(runStandin(flavour, run.runDir).model_init_kwargs.trust_remote_code).toBe(true);
      }
    }
  });

  it("a key the installed TRL lacks stops train.py before the model loads, with a did-you-mean", async () => {
    const run = await writeRunFolder({ trainer: "sft", data: exportDir("sft"), base: "org/m", output: path.join(root, "stale-key") });
    const config = path.join(run.runDir, "config.yaml");
    writeFileSync(config, readFileSync(config, "utf8").replace("training:\n", "training:\n  learnig_rate: 0.001\n"));
    let stderr = "";
    try {
      runStandin("new", run.runDir);
    } catch (error) {
      stderr = String((error as { stderr?: string }).stderr);
    }
    expect(stderr).toContain("training.learnig_rate (did you mean learning_rate?)");
  });
});

describe("a run folder copied to another machine", () => {
  it("config.yaml's data and output paths are relative to the folder, so the copy trains on the copied data", async () => {
    const project = path.join(root, "project");
    const data = path.join(project, "data", "sft");
    mkdirSync(data, { recursive: true });
    cpSync(exportDir("sft"), data, { recursive: true });
    const run = await writeRunFolder({ trainer: "sft", data, base: "org/base-model", output: path.join(project, "runs", "sft") });
    const config = readFileSync(path.join(run.runDir, "config.yaml"), "utf8");
    expect(config).not.toContain(project);
    // The GPU machine: the same layout somewhere else, the original gone.
    const elsewhere = path.join(root, "gpu-box", "home", "project");
    cpSync(project, elsewhere, { recursive: true });
    rmSync(project, { recursive: true });
    const seen = runStandin("new", path.join(elsewhere, "runs", "sft")) as Seen & { given: { train_dataset: { file: string } } };
    expect(seen.given.train_dataset.file).toBe(path.join(elsewhere, "data", "sft", "train.jsonl"));
    expect(seen.args.output_dir).toBe(path.join(elsewhere, "runs", "sft", "output"));
  });
});
