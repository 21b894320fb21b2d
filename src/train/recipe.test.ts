import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parse as parseYaml } from "yaml";
import { afterAll, describe, expect, it } from "vitest";
import { accelerateYaml } from "./accelerate.js";
import { didYouMean, loadTrlFields, parseSetting } from "./fields.js";
import { PRESETS } from "./presets.js";
import { writeRunFolder, yamlValue } from "./recipe.js";

const root = mkdtempSync(path.join(tmpdir(), "critic-recipe-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function makeExport(name: string, format: string, trainer: string, rows: object[], test = true): string {
  const dir = path.join(root, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, "train.jsonl"), rows.map((r) => JSON.stringify(r)).join("\n") + "\n");
  if (test) writeFileSync(path.join(dir, "test.jsonl"), JSON.stringify(rows[0]) + "\n");
  const files = test ? { train: "train.jsonl", test: "test.jsonl" } : { train: "train.jsonl" };
  writeFileSync(path.join(dir, "export.json"), JSON.stringify({ format, trainer, conversational: format.includes("messages"), files, counts: { train: rows.length, test: test ? 1 : 0 } }));
  return dir;
}

const sftRows = [
  { messages: [{ role: "system", content: "You are a critical teacher." }, { role: "user", content: "Rate: 2+2=5" }, { role: "assistant", content: "Wrong sum. [SCORE] 1" }] },
  { messages: [{ role: "user", content: "Rate: Paris is in France" }, { role: "assistant", content: "Correct. [SCORE] 10" }] },
];
const dpoRows = [{ prompt: "Rate: 2+2=5", chosen: "Wrong. [SCORE] 1", rejected: "Great. [SCORE] 10" }];

const pyyaml = (() => {
  try {
    execFileSync("python3", ["-c", "import yaml"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

describe("critic train run folders", () => {
  it("writes a complete, commented criticon-full SFT folder whose YAML reads back the same in JS and in PyYAML", async () => {
    const data = makeExport("sft", "sft-messages", "sft", sftRows);
    const out = path.join(root, "run-criticon");
    const run = await writeRunFolder({ trainer: "sft", data, base: "teknium/OpenHermes-2.5-Mistral-7B", output: out, preset: "criticon-full", set: ["learning_rate=1e-5", "lora_target_modules=[q_proj, v_proj]"] });
    expect(run.files.sort()).toEqual(["README.md", "accelerate.yaml", "config.yaml", "critic-run.json", "launch.sh", "train.py"]);

    const text = readFileSync(path.join(out, "config.yaml"), "utf8");
    expect(text).toContain("# Preset criticon-full");
    expect(text).toMatch(/num_train_epochs: 2 {2}# Criticon config_full_v2\.yaml \(seed 000\)/);
    expect(text).toContain("learning_rate: 1.0e-05  # --set");
    const cfg = parseYaml(text) as { trainer: string; data: Record<string, string>; model: Record<string, unknown>; training: Record<string, unknown> };
    expect(cfg.trainer).toBe("sft");
    expect(cfg.data).toEqual({ train: path.relative(out, path.join(data, "train.jsonl")), test: path.relative(out, path.join(data, "test.jsonl")) });
    expect(cfg.model).toMatchObject({ model_name_or_path: "teknium/OpenHermes-2.5-Mistral-7B", dtype: "bfloat16", lora_target_modules: ["q_proj", "v_proj"] });
    expect(cfg.training).toMatchObject({
      learning_rate: 1e-5, num_train_epochs: 2, per_device_train_batch_size: 8, gradient_accumulation_steps: 2, lr_scheduler_type: "cosine",
      warmup_steps: 0.1, eval_strategy: "steps", eval_steps: 500, max_length: 2048, optim: "paged_adamw_32bit", seed: 42,
      output_dir: "output", report_to: "none",
    });
    if (pyyaml) {
      // train.py reads the file with PyYAML (YAML 1.1): 1e-5 without a dot would come back a string there.
      const py = execFileSync("python3", ["-c", "import json,sys,yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))", path.join(out, "config.yaml")], { encoding: "utf8" });
      expect(JSON.parse(py)).toEqual(cfg);
    }

    const accel = parseYaml(readFileSync(path.join(out, "accelerate.yaml"), "utf8")) as Record<string, unknown>;
    expect(accel).toMatchObject({ distributed_type: "DEEPSPEED", num_processes: 4, num_machines: 1, mixed_precision: "bf16", deepspeed_config: { zero_stage: 3, zero3_init_flag: true } });
    const launch = readFileSync(path.join(out, "launch.sh"), "utf8");
    expect(launch).toContain("accelerate launch --config_file accelerate.yaml train.py --config config.yaml");
    expect(statSync(path.join(out, "launch.sh")).mode & 0o111).not.toBe(0);
    const readme = readFileSync(path.join(out, "README.md"), "utf8");
    expect(readme).toContain("convert_hf_to_gguf.py");
    expect(readme).toContain("critic bench run");
    expect(readme).toContain("critic train doctor");
    expect(JSON.parse(readFileSync(path.join(out, "critic-run.json"), "utf8"))).toMatchObject({ trainer: "sft", preset: "criticon-full", accelerate: "zero3", numProcesses: 4, lora: false });
    if (pyyaml) execFileSync("python3", ["-c", "import ast,sys; ast.parse(open(sys.argv[1]).read())", path.join(out, "train.py")]);
  });

  it("fails on a misspelt TRL argument with a did-you-mean, before writing anything", async () => {
    const data = makeExport("sft2", "sft-messages", "sft", sftRows);
    const out = path.join(root, "never-written");
    await expect(writeRunFolder({ trainer: "sft", data, base: "m", output: out, set: ["learnig_rate=1e-5"] })).rejects.toThrow(
      /unknown TRL argument "learnig_rate".*did you mean "learning_rate"/,
    );
    await expect(writeRunFolder({ trainer: "sft", data, base: "m", output: out, set: ["evaluation_strategy=steps"] })).rejects.toThrow(/renamed "eval_strategy"/);
    await expect(writeRunFolder({ trainer: "sft", data, base: "m", output: out, set: ["beta=0.1"] })).rejects.toThrow(/beta belongs to DPOConfig/);
    await expect(writeRunFolder({ trainer: "sft", data, base: "m", output: out, set: ["model.lora_rr=8"] })).rejects.toThrow(/trl\.ModelConfig.*did you mean "lora_r"/);
    expect(existsSync(out)).toBe(false);
  });

  it("refuses an export made for another trainer, and one without the columns TRL needs", async () => {
    const dpo = makeExport("dpo", "dpo", "dpo", dpoRows);
    await expect(writeRunFolder({ trainer: "sft", data: dpo, base: "m", output: path.join(root, "x1") })).rejects.toThrow(
      /holds a "dpo" export \(trainer dpo\), which `critic train sft` cannot use/,
    );
    const bad = makeExport("bad-kto", "kto", "kto", [{ prompt: "p", completion: "c" }]);
    await expect(writeRunFolder({ trainer: "kto", data: bad, base: "m", output: path.join(root, "x2") })).rejects.toThrow(/needs prompt \+ completion \+ label/);
    await expect(writeRunFolder({ trainer: "sft", data: path.join(root, "nope"), base: "m", output: path.join(root, "x3") })).rejects.toThrow(/no export\.json/);
    await expect(writeRunFolder({ trainer: "sft", data: makeExport("sft3", "sft-messages", "sft", sftRows), base: "m", output: path.join(root, "x4"), preset: "criticon" })).rejects.toThrow(
      /unknown preset "criticon"; presets: criticon-full, lora, dsc-sft/,
    );
    await expect(writeRunFolder({ trainer: "dpo", data: dpo, base: "m", output: path.join(root, "x5"), preset: "dsc-sft" })).rejects.toThrow(/does not apply to `critic train dpo`/);
  });

  it("writes LoRA, DSC and GRPO folders: adapter conversion, 4-bit settings, reward_fn.py, no eval without a test split", async () => {
    const data = makeExport("sft-notest", "sft-prompt-completion", "sft", [{ prompt: "Rate it", completion: "[SCORE] 3" }], false);
    const lora = await writeRunFolder({ trainer: "sft", data, base: "Qwen/Qwen2.5-0.5B-Instruct", output: path.join(root, "lora"), preset: "lora" });
    expect(lora.model).toMatchObject({ use_peft: true, load_in_4bit: true, lora_r: 16, lora_alpha: 16 });
    expect(lora.training.eval_strategy).toBeUndefined();
    expect(lora.training.load_best_model_at_end).toBeUndefined();
    expect(readFileSync(path.join(lora.runDir, "config.yaml"), "utf8")).toContain("no test split, so evaluation during training is off");
    expect(readFileSync(path.join(lora.runDir, "README.md"), "utf8")).toMatch(/convert_lora_to_gguf\.py[\s\S]*--lora \.\/lora-adapter\.gguf/);

    const dsc = await writeRunFolder({ trainer: "sft", data, base: "stabilityai/StableBeluga-7B", output: path.join(root, "dsc"), preset: "dsc-sft" });
    expect(dsc.model).toMatchObject({ lora_r: 8, lora_alpha: 16, use_bnb_nested_quant: true, bnb_4bit_quant_type: "nf4" });
    expect(dsc.training).toMatchObject({ num_train_epochs: 4, per_device_train_batch_size: 2, gradient_accumulation_steps: 2, logging_steps: 1 });

    const dpo = makeExport("dpo-grpo", "dpo", "dpo", dpoRows);
    const grpo = await writeRunFolder({ trainer: "grpo", data: dpo, base: "m", output: path.join(root, "grpo"), rewardUrl: "http://10.1.2.3:9000/v1/reward", nullReward: -1 });
    expect(grpo.files).toContain("reward_fn.py");
    const reward = readFileSync(path.join(grpo.runDir, "reward_fn.py"), "utf8");
    expect(reward).toContain('"CRITIC_REWARD_URL", "http://10.1.2.3:9000/v1/reward"');
    expect(reward).toContain('"CRITIC_NULL_REWARD", "-1"');
    expect(grpo.training).toMatchObject({ num_generations: 8, per_device_train_batch_size: 8 });
    // By default an unscored completion's reward is None, which TRL leaves out (not 0, the worst score).
    const grpoDefault = await writeRunFolder({ trainer: "grpo", data: dpo, base: "m", output: path.join(root, "grpo-default") });
    const nullReward = execFileSync("python3", ["-c", "import sys; sys.path.insert(0, sys.argv[1]); import reward_fn; print(repr(reward_fn.NULL_REWARD))", grpoDefault.runDir], { encoding: "utf8" });
    expect(nullReward.trim()).toBe("None");

    const reward2 = await writeRunFolder({ trainer: "reward", data: makeExport("rw", "reward", "reward", [{ chosen: "a", rejected: "b" }]), base: "m", output: path.join(root, "rw-run"), preset: "lora" });
    expect(reward2.model.lora_task_type).toBe("SEQ_CLS");
  });

  it("SFT puts the loss on the critique: assistant_only_loss for messages, completion_only_loss for prompt-completion, unless --set says otherwise", async () => {
    const messages = await writeRunFolder({ trainer: "sft", data: makeExport("loss-msg", "sft-messages", "sft", sftRows), base: "m", output: path.join(root, "loss-msg-run") });
    expect(messages.training).toMatchObject({ assistant_only_loss: true });
    expect(messages.training).not.toHaveProperty("completion_only_loss");
    expect(readFileSync(path.join(messages.runDir, "config.yaml"), "utf8")).toMatch(/assistant_only_loss: true {2}# critic default: loss on the critique only/);
    const pc = await writeRunFolder({ trainer: "sft", data: makeExport("loss-pc", "sft-prompt-completion", "sft", [{ prompt: "Rate: 1+1=3", completion: " Wrong. [SCORE] 1" }]), base: "m", output: path.join(root, "loss-pc-run") });
    expect(pc.training).toMatchObject({ completion_only_loss: true });
    const off = await writeRunFolder({ trainer: "sft", data: makeExport("loss-off", "sft-messages", "sft", sftRows), base: "m", output: path.join(root, "loss-off-run"), set: ["assistant_only_loss=false"] });
    expect(off.training.assistant_only_loss).toBe(false);
    const dpo = await writeRunFolder({ trainer: "dpo", data: makeExport("loss-dpo", "dpo", "dpo", dpoRows), base: "m", output: path.join(root, "loss-dpo-run") });
    expect(dpo.training).not.toHaveProperty("assistant_only_loss");
  });

  it("GRPO batches fit num_generations: a preset's eval batch is raised, a user's misfit fails before anything is written", async () => {
    const data = makeExport("grpo-fit", "dpo", "dpo", dpoRows);
    const run = await writeRunFolder({ trainer: "grpo", data, base: "m", output: path.join(root, "grpo-fit-run"), preset: "lora" });
    expect(run.training.per_device_eval_batch_size).toBe(8);
    expect(readFileSync(path.join(run.runDir, "config.yaml"), "utf8")).toMatch(/per_device_eval_batch_size: 8 {2}# .*raised from 4: GRPO's global eval batch must divide by num_generations \(8\)/);
    const two = await writeRunFolder({ trainer: "grpo", data, base: "m", output: path.join(root, "grpo-fit-2"), preset: "lora", numProcesses: 2, accelerate: "multi-gpu" });
    expect(two.training.per_device_eval_batch_size).toBe(4);
    await expect(writeRunFolder({ trainer: "grpo", data, base: "m", output: path.join(root, "grpo-fit-bad"), preset: "lora", set: ["per_device_eval_batch_size=6"] }))
      .rejects.toThrow(/global eval batch \(per_device_eval_batch_size 6 x 1 process\(es\)\) must divide by the generations per prompt in evaluation \(8\)/);
    await expect(writeRunFolder({ trainer: "grpo", data, base: "m", output: path.join(root, "grpo-fit-bad2"), set: ["per_device_train_batch_size=3"] }))
      .rejects.toThrow(/generation batch \(3 = .*must divide by num_generations \(8\)/);
    expect(existsSync(path.join(root, "grpo-fit-bad"))).toBe(false);
  });

  it("the pip line adds bitsandbytes for the paged optimizer of criticon-full, not for a plain full run", async () => {
    const data = makeExport("bnb", "sft-messages", "sft", sftRows);
    const full = await writeRunFolder({ trainer: "sft", data, base: "m", output: path.join(root, "bnb-full"), preset: "criticon-full" });
    expect(readFileSync(path.join(full.runDir, "README.md"), "utf8")).toMatch(/pip install .* deepspeed bitsandbytes/);
    const plain = await writeRunFolder({ trainer: "sft", data, base: "m", output: path.join(root, "bnb-plain") });
    expect(readFileSync(path.join(plain.runDir, "README.md"), "utf8")).not.toContain("bitsandbytes");
  });

  it("refuses to overwrite a run folder without --force", async () => {
    const data = makeExport("sft4", "sft-messages", "sft", sftRows);
    const out = path.join(root, "twice");
    await writeRunFolder({ trainer: "sft", data, base: "m", output: out });
    await expect(writeRunFolder({ trainer: "sft", data, base: "m", output: out })).rejects.toThrow(/already holds a run; pass --force/);
    await writeRunFolder({ trainer: "sft", data, base: "m2", output: out, force: true });
    expect(readFileSync(path.join(out, "config.yaml"), "utf8")).toContain("model_name_or_path: m2");
  });
});

describe("TRL field names, presets and accelerate configs", () => {
  it("every preset key is a field of the pinned TRL", () => {
    const fields = loadTrlFields();
    for (const preset of Object.values(PRESETS)) {
      for (const trainer of preset.trainers ?? (["sft", "dpo", "kto", "reward", "grpo"] as const)) {
        for (const key of Object.keys(preset.training)) expect(fields.training[trainer].has(key), `${preset.name}: ${key}`).toBe(true);
        for (const key of Object.keys(preset.model)) expect(fields.model.has(key), `${preset.name}: ${key}`).toBe(true);
      }
    }
  });

  it("parses --set values as YAML and routes them to the right dataclass", () => {
    const fields = loadTrlFields();
    expect(parseSetting("num_train_epochs=3", "sft", fields)).toEqual({ section: "training", key: "num_train_epochs", value: 3 });
    expect(parseSetting("gradient_checkpointing_kwargs={use_reentrant: false}", "sft", fields).value).toEqual({ use_reentrant: false });
    expect(parseSetting("lora_r=32", "dpo", fields)).toEqual({ section: "model", key: "lora_r", value: 32 });
    expect(parseSetting("beta=0.05", "dpo", fields)).toEqual({ section: "training", key: "beta", value: 0.05 });
    expect(parseSetting("report_to=[wandb]", "grpo", fields).value).toEqual(["wandb"]);
    expect(() => parseSetting("novalue", "sft", fields)).toThrow(/key=value/);
    expect(didYouMean("num_train_epoch", fields.training.sft)).toEqual(["num_train_epochs"]);
  });

  it("writes YAML 1.1-safe values", () => {
    expect(yamlValue(5e-6)).toBe("5.0e-06");
    expect(yamlValue(1.5e-7)).toBe("1.5e-07");
    expect(yamlValue(0.1)).toBe("0.1");
    expect(yamlValue("no")).toBe('"no"');
    expect(yamlValue("cosine")).toBe("cosine");
    expect(yamlValue("1e3")).toBe('"1e3"');
    expect(yamlValue(["a", 1])).toBe("[a, 1]");
  });

  it("writes multi-GPU and multi-node accelerate configs and refuses incomplete ones", () => {
    expect(parseYaml(accelerateYaml({ mode: "multi-gpu", numProcesses: 8, mixedPrecision: "bf16" }))).toMatchObject({ distributed_type: "MULTI_GPU", num_processes: 8 });
    expect(parseYaml(accelerateYaml({ mode: "zero2", numProcesses: 2, mixedPrecision: "fp16" }))).toMatchObject({ distributed_type: "DEEPSPEED", deepspeed_config: { zero_stage: 2 }, mixed_precision: "fp16" });
    const node = parseYaml(accelerateYaml({ mode: "multi-node", numProcesses: 16, numMachines: 2, mainProcessIp: "10.0.0.1", mixedPrecision: "bf16" }));
    expect(node).toMatchObject({ num_machines: 2, num_processes: 16, main_process_ip: "10.0.0.1", main_process_port: 29500, rdzv_backend: "c10d" });
    expect(() => accelerateYaml({ mode: "multi-node", numProcesses: 16, mixedPrecision: "bf16" })).toThrow(/--main-process-ip/);
    expect(() => accelerateYaml({ mode: "single", numProcesses: 2, mixedPrecision: "bf16" })).toThrow(/multi-gpu/);
  });
});
