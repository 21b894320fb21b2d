#!/usr/bin/env node
/**
 * A stand-in for `bash launch.sh` in tests: prints what a TRL run prints (accelerate's and
 * transformers' banners, the tqdm bar on stderr with carriage returns, the Trainer's log dicts on
 * stdout, the final train_runtime dict) and exits the way a real run does.
 *
 *   FAKE_TRL_MODE    success (default) | fail (a CUDA OOM traceback, exit 1) | hang (waits for
 *                    Ctrl-C: on SIGINT prints a KeyboardInterrupt traceback and exits 130)
 *   FAKE_TRL_STEPS   total optimizer steps (default 20)
 *   FAKE_TRL_DELAY_MS  pause between steps (default 0)
 *   FAKE_TRL_VALUES  numbers (default: {'loss': 1.2345, ...}) | strings ({'loss': '1.2345', ...})
 *
 * Its only argument is the run folder's launch.sh; it reads the trainer from config.yaml beside it.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";

const script = process.argv[2];
if (!script || !existsSync(script)) {
  process.stderr.write(`fake-trl: expected the path of launch.sh, got ${script}\n`);
  process.exit(2);
}
const runDir = path.dirname(script);
const config = readFileSync(path.join(runDir, "config.yaml"), "utf8");
const trainer = /^trainer:\s*(\w+)/m.exec(config)?.[1] ?? "sft";
const mode = process.env.FAKE_TRL_MODE ?? "success";
const total = Number(process.env.FAKE_TRL_STEPS ?? 20);
const delay = Number(process.env.FAKE_TRL_DELAY_MS ?? 0);
const asStrings = process.env.FAKE_TRL_VALUES === "strings";
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const out = (line) => process.stdout.write(`${line}\n`);
const err = (text) => process.stderr.write(text);

function pyDict(entries) {
  const value = (v) => (typeof v === "number" ? (asStrings ? `'${pyNumber(v)}'` : pyNumber(v)) : `'${v}'`);
  return `{${entries.map(([k, v]) => `'${k}': ${value(v)}`).join(", ")}}`;
}

function pyNumber(n) {
  if (Number.isInteger(n)) return `${n}.0`;
  const s = String(n);
  // Python prints small floats as 2e-05, JS as 0.00002.
  if (Math.abs(n) < 1e-4) {
    const [m, e] = n.toExponential().split("e");
    const exp = Number(e);
    return `${m}e${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
  }
  return s;
}

function bar(step) {
  const pct = Math.floor((step / total) * 100);
  const width = 10;
  const filled = Math.round((step / total) * width);
  const elapsed = `00:${String(step).padStart(2, "0")}`;
  const left = `00:${String(total - step).padStart(2, "0")}`;
  return `${String(pct).padStart(3)}%|${"█".repeat(filled)}${" ".repeat(width - filled)}| ${step}/${total} [${elapsed}<${left},  1.00it/s]`;
}

function metrics(step) {
  const loss = Math.round((2.5 / (1 + step / 5)) * 10000) / 10000;
  const lr = Math.round(2e-5 * (1 - step / total) * 1e12) / 1e12;
  const epoch = Math.round((step / total) * 2 * 100) / 100;
  const common = [["loss", loss], ["grad_norm", 3.1415], ["learning_rate", lr]];
  if (trainer === "dpo") {
    return [...common, ["rewards/chosen", 0.12], ["rewards/rejected", -0.08], ["rewards/accuracies", 0.75], ["rewards/margins", 0.2], ["logps/chosen", -243.5], ["logps/rejected", -251.25], ["epoch", epoch]];
  }
  if (trainer === "grpo") {
    return [...common, ["num_tokens", step * 4096], ["completions/mean_length", 118.5], ["rewards/reward_fn/mean", 0.61], ["reward", 0.61], ["reward_std", 0.2], ["kl", 0.0], ["epoch", epoch]];
  }
  return [...common, ["entropy", 1.9094], ["num_tokens", step * 5734], ["mean_token_accuracy", 0.8984], ["epoch", epoch]];
}

let interrupted = false;
process.on("SIGINT", () => {
  interrupted = true;
});

err("[INFO|configuration_utils.py:750] loading configuration file config.json\n");
out("The following values were not passed to `accelerate launch` and had defaults used instead:");
out("\t`--dynamo_backend` was set to a value of `'no'`");
err(`${bar(0)}`);

for (let step = 1; step <= total; step++) {
  if (delay) await sleep(delay);
  if (interrupted) break;
  err(`\r${bar(step)}`);
  if (step % 5 === 0 || step === total) {
    err("\n");
    out(pyDict(metrics(step)));
  }
  if (mode === "fail" && step === Math.floor(total / 2)) {
    err("\nTraceback (most recent call last):\n");
    err('  File "/run/train.py", line 92, in main\n    run.train(resume_from_checkpoint=training_args.resume_from_checkpoint)\n');
    err("torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has a total capacity of 79.11 GiB\n");
    process.exit(1);
  }
  if (mode === "hang" && step === Math.floor(total / 2)) {
    err("\n");
    while (!interrupted) await sleep(20);
  }
}

if (interrupted) {
  err("\nTraceback (most recent call last):\n  File \"/run/train.py\", line 92, in main\nKeyboardInterrupt\n");
  process.exit(130);
}
err("\n");
out(pyDict([["train_runtime", 20.5], ["train_samples_per_second", 3.9], ["train_steps_per_second", 0.976], ["train_loss", 0.8123], ["epoch", 2]]));
out(`critic: model saved to ${path.join(runDir, "output")}`);
process.exit(0);
