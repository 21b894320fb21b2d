import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Command } from "commander";
import { ensureTinyModel, TINY_MODEL_OPTIONS, TINY_MODEL_THREADS } from "../gguf/tiny-model.js";
import { createTinyPackage } from "../heads/tiny-package.js";
import { judge } from "../judge/judge.js";
import { formatSummary } from "./judge.js";
import { positiveInt } from "./options.js";

const examples = fileURLToPath(new URL("../../examples/", import.meta.url));

export function registerDemo(program: Command): void {
  program
    .command("demo")
    .description("judge the bundled examples end to end (absolute, swapped pairwise, and a classifier judge package), offline")
    .option("-m, --model <spec>", "judge model (default: $CRITIC_MODEL, else a generated tiny random model)")
    .option("--base-url <url>", "OpenAI-compatible server URL (with openai:<name>)")
    .option("-o, --out <dir>", "output folder", "critic-demo")
    .option("-p, --parallel <n>", "parallel sequences of the embedded model", positiveInt)
    .action(async (opts: { model?: string; baseUrl?: string; out: string; parallel?: number }) => {
      let model = opts.model ?? process.env.CRITIC_MODEL;
      let threads: number | undefined;
      let params: { maxTokens: number } | undefined;
      if (!model) {
        model = await ensureTinyModel();
        threads = TINY_MODEL_THREADS;
        params = { maxTokens: 256 }; // random text: no need to let it ramble
        process.stderr.write(
          [
            "No model given: judging with a generated tiny random model (real llama.cpp inference, random weights).",
            "Its scores and feedback are RANDOM and mean nothing; they only show the pipeline working.",
            "For real judgments, give a judge model, for example:",
            "  npx critic demo --model hf:<user>/<prometheus-or-other-judge-GGUF-repo>:Q4_K_M",
            "  npx critic demo --model ./prometheus-7b-v2.0.Q4_K_M.gguf",
            "  npx critic demo --model openai:<name> --base-url http://127.0.0.1:8000/v1",
            "",
          ].join("\n"),
        );
      }
      mkdirSync(opts.out, { recursive: true });
      const common = { model, threads, params, baseURL: opts.baseUrl, parallel: opts.parallel, store: join(opts.out, "store.sqlite"), rubric: "helpfulness" };

      process.stderr.write("\n1. Absolute grading (Prometheus template, helpfulness rubric, with reference answers)\n");
      const absolute = await judge({ ...common, input: join(examples, "absolute.jsonl"), output: join(opts.out, "absolute.jsonl"), template: "prometheus" });
      process.stderr.write(formatSummary(absolute));

      process.stderr.write("\n2. Pairwise comparison (Prometheus relative template), both orders (--swap)\n");
      const pairwise = await judge({ ...common, input: join(examples, "pairwise.jsonl"), output: join(opts.out, "pairwise.jsonl"), template: "prometheus-pairwise", swap: true });
      process.stderr.write(formatSummary(pairwise));

      process.stderr.write("\n3. A classifier judge package (PHUDGE-style: a score head on a backbone, one forward pass per record, no feedback text)\n");
      const packageDir = join(opts.out, "classifier-judge");
      await createTinyPackage(packageDir, { backbone: await ensureTinyModel(), model: TINY_MODEL_OPTIONS, kind: "classify", createdBy: "critic demo" });
      process.stderr.write(
        `Generated ${packageDir}: the tiny random model with a 5-way head (its rows are the model's own rows for the tokens 1..5).\n` +
          "Its scores are RANDOM and mean nothing; a real package comes from `critic train classify` on labelled judgments.\n",
      );
      const classifier = await judge({ ...common, model: packageDir, threads: TINY_MODEL_THREADS, params: undefined, parallel: undefined, baseURL: undefined, input: join(examples, "absolute.jsonl"), output: join(opts.out, "classifier.jsonl"), template: "prometheus" });
      process.stderr.write(formatSummary(classifier));

      const first = JSON.parse(readFileSync(absolute.output, "utf8").split("\n")[0]!) as Record<string, unknown>;
      process.stdout.write(`\nFirst judgment (${absolute.output}):\n`);
      process.stdout.write(`  instruction: ${String(first.instruction)}\n  response:    ${String(first.response)}\n`);
      process.stdout.write(`  score:       ${String(first.score)}\n  feedback:    ${String(first.feedback).slice(0, 300)}\n`);
      const scored = JSON.parse(readFileSync(classifier.output, "utf8").split("\n")[0]!) as Record<string, unknown>;
      process.stdout.write(`\nThe classifier package on the same record (${classifier.output}):\n`);
      process.stdout.write(`  score:       ${String(scored.score)} (expected ${String(scored.score_expected)})\n  distribution: ${JSON.stringify(scored.score_distribution)}\n  feedback:    none (a head gives a score, no text)\n`);
    });
}
