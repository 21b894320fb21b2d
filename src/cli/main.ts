import { readFileSync } from "node:fs";
import { Command } from "commander";
import { registerBatch } from "./batch.js";
import { registerBench } from "./bench.js";
import { registerDemo } from "./demo.js";
import { registerExport } from "./export.js";
import { registerGenerate } from "./generate.js";
import { registerJudge } from "./judge.js";
import { registerMetaEval } from "./meta-eval.js";
import { registerServe } from "./serve.js";
import { registerTrain } from "./train.js";
import { registerView } from "./view.js";

export { errorText } from "../util/redact.js";

const { version } = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };

export function buildProgram(): Command {
  const program = new Command()
    .name("critic")
    .description("LLM critique and judge models: judge datasets, measure judges, make training data, serve")
    .version(version)
    .showHelpAfterError();
  registerDemo(program);
  registerJudge(program);
  registerMetaEval(program);
  registerGenerate(program);
  registerExport(program);
  registerBench(program);
  registerBatch(program);
  registerServe(program);
  registerTrain(program);
  registerView(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  await buildProgram().parseAsync(argv);
}
