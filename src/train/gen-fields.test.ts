import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { TRL_ASSETS_DIR } from "./fields.js";

// gen_fields.py reads field names from a tagged TRL's config dataclasses with ast; here it runs on
// a small git repository laid out like TRL's, so the extraction rules themselves are checked.
describe("assets/trl/gen_fields.py", () => {
  it("reads own and inherited dataclass fields, skipping private, ClassVar and init=False ones", () => {
    const root = mkdtempSync(path.join(tmpdir(), "critic-genfields-"));
    const repo = path.join(root, "trl");
    mkdirSync(path.join(repo, "trl", "trainer"), { recursive: true });
    const cls = (name: string, base: string, body: string) => `from dataclasses import dataclass, field\n\n@dataclass\nclass ${name}(${base}):\n${body}\n`;
    const files: Record<string, string> = {
      base_config: cls("_BaseConfig", "TrainingArguments", "    logging_steps: float = 10\n    _private: int = 0"),
      sft_config: cls("SFTConfig", "_BaseConfig", "    max_length: int | None = 1024\n    assistant_only_loss: bool = False\n    derived: int = field(default=0, init=False)"),
      dpo_config: cls("DPOConfig", "_BaseConfig", "    beta: float = 0.1\n    trust_remote_code: bool = False"),
      kto_config: cls("KTOConfig", "_BaseConfig", "    desirable_weight: float = 1.0"),
      reward_config: cls("RewardConfig", "_BaseConfig", "    center_rewards_coefficient: float | None = None"),
      grpo_config: cls("GRPOConfig", "_BaseConfig", "    num_generations: int | None = 8\n    KIND: ClassVar[str] = 'grpo'"),
      model_config: cls("ModelConfig", "object", "    model_name_or_path: str | None = None\n    use_peft: bool = False"),
    };
    for (const [name, text] of Object.entries(files)) writeFileSync(path.join(repo, "trl", "trainer", `${name}.py`), text);
    const git = (...args: string[]) => execFileSync("git", ["-C", repo, ...args], { stdio: "pipe" });
    git("init", "-q");
    git("add", ".");
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "x");
    git("tag", "v9.9.9");
    const trainingArgs = path.join(root, "training_args.py");
    writeFileSync(trainingArgs, "from dataclasses import dataclass\n\n@dataclass\nclass TrainingArguments:\n    output_dir: str | None = None\n    logging_steps: float = 500\n    warmup_steps: float = 0\n");
    const out = JSON.parse(execFileSync("python3", [path.join(TRL_ASSETS_DIR, "gen_fields.py"), "--trl-git", path.join(repo, ".git"), "--tag", "v9.9.9", "--training-args", trainingArgs, "--transformers", "5.0", "--transformers-source", "test"], { encoding: "utf8" })) as {
      trl: string; training_arguments: string[]; trainers: Record<string, { config: string; fields: string[] }>; model_config: string[]; renamed: Record<string, string>; sources: Record<string, string>;
    };
    expect(out.trl).toBe("9.9.9");
    expect(out.training_arguments).toEqual(["logging_steps", "output_dir", "warmup_steps"]);
    expect(out.trainers.sft).toEqual({ config: "SFTConfig", fields: ["assistant_only_loss", "max_length"] });
    expect(out.trainers.dpo!.fields).toEqual(["beta", "trust_remote_code"]);
    expect(out.trainers.grpo!.fields).toEqual(["num_generations"]);
    expect(out.model_config).toEqual(["model_name_or_path", "use_peft"]);
    expect(out.renamed.warmup_ratio).toMatch(/warmup_steps/);
    expect(out.sources.trl).toMatch(/^huggingface\/trl @ v9\.9\.9 \([0-9a-f]{40}\)/);
  });

  it("the shipped fields.json was generated from TRL v1.9.0", async () => {
    const { loadTrlFields } = await import("./fields.js");
    const fields = loadTrlFields();
    expect(fields.trl).toBe("1.9.0");
    for (const trainer of ["sft", "dpo", "kto", "reward", "grpo"] as const) expect(fields.training[trainer].has("trust_remote_code")).toBe(true);
    expect(fields.model.has("trust_remote_code")).toBe(false);
    // transformers 5 dropped these TrainingArguments; use_cache is new there.
    for (const gone of ["overwrite_output_dir", "group_by_length", "save_safetensors", "no_cuda", "per_gpu_train_batch_size"]) expect(fields.training.sft.has(gone)).toBe(false);
    expect(fields.training.sft.has("use_cache")).toBe(true);
    expect(fields.training.grpo.has("vespo_k_pos")).toBe(true);
    expect(fields.training.kto.has("precompute_ref_batch_size")).toBe(true);
  });
});
