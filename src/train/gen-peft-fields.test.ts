import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { HEAD_ASSETS_DIR, loadHeadFields } from "./head-fields.js";

// gen_peft_fields.py reads LoraConfig's field names from a tagged peft with ast; here it runs on a
// small git repository laid out like peft's, so the extraction (inherited fields included) is checked.
describe("assets/head/gen_peft_fields.py", () => {
  it("reads LoraConfig's own fields and those of PeftConfig and PeftConfigMixin, skipping private and init=False ones", () => {
    const repo = path.join(mkdtempSync(path.join(tmpdir(), "critic-genpeft-")), "peft");
    mkdirSync(path.join(repo, "src", "peft", "tuners", "lora"), { recursive: true });
    writeFileSync(path.join(repo, "src", "peft", "config.py"), [
      "from dataclasses import dataclass, field",
      "@dataclass",
      "class PeftConfigMixin(PushToHubMixin):",
      "    task_type: str = None",
      "    _hidden: int = 0",
      "@dataclass",
      "class PeftConfig(PeftConfigMixin):",
      "    inference_mode: bool = False",
      "",
    ].join("\n"));
    writeFileSync(path.join(repo, "src", "peft", "tuners", "lora", "config.py"), [
      "from dataclasses import dataclass, field",
      "@dataclass",
      "class LoftQConfig:",
      "    loftq_bits: int = 4",
      "@dataclass",
      "class LoraConfig(PeftConfig):",
      "    r: int = field(default=8)",
      "    lora_alpha: int = 8",
      "    computed: int = field(default=0, init=False)",
      "",
    ].join("\n"));
    const git = (...args: string[]) => execFileSync("git", ["-C", repo, ...args], { stdio: "pipe" });
    git("init", "-q");
    git("add", ".");
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "x");
    git("tag", "v9.9.9");
    const out = JSON.parse(execFileSync("python3", [path.join(HEAD_ASSETS_DIR, "gen_peft_fields.py"), "--peft-git", path.join(repo, ".git"), "--tag", "v9.9.9"], { encoding: "utf8" })) as {
      peft: string; lora_config: string[]; sources: { peft: string };
    };
    expect(out.peft).toBe("9.9.9");
    expect(out.lora_config).toEqual(["inference_mode", "lora_alpha", "r", "task_type"]);
    expect(out.sources.peft).toMatch(/^huggingface\/peft @ v9\.9\.9 \([0-9a-f]{40}\)/);
  });

  it("the shipped peft_fields.json was generated from peft v0.19.1; TrainingArguments names come from the TRL file's transformers", () => {
    const fields = loadHeadFields();
    expect(fields.peft).toBe("0.19.1");
    expect(fields.sources.peft).toContain("ba6a19060d6ab54a87538a6e77e3e4d5a907375b");
    for (const name of ["r", "lora_alpha", "lora_dropout", "target_modules", "modules_to_save", "task_type", "bias"]) expect(fields.names.lora.has(name), name).toBe(true);
    for (const name of ["neftune_noise_alpha", "torch_compile", "tf32", "eval_strategy"]) expect(fields.names.training.has(name), name).toBe(true);
    expect(fields.names.training.has("evaluation_strategy")).toBe(false);
  });
});
