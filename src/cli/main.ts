import { readFileSync } from "node:fs";
import { Command } from "commander";
import { registerBatch } from "./batch.js";
import { registerBench } from "./bench.js";
import { registerDemo } from "./demo.js";
import { registerExport } from "./export.js";
import { registerGenerate } from "./generate.js";
import { registerJudge } from "./judge.js";
import { registerJudges } from "./judges.js";
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
    .version(version);
  registerDemo(program);
  registerJudge(program);
  registerJudges(program);
  registerMetaEval(program);
  registerGenerate(program);
  registerExport(program);
  registerBench(program);
  registerBatch(program);
  registerServe(program);
  registerTrain(program);
  registerView(program);
  for (const command of allCommands(program)) command.configureOutput({ outputError: (text, write) => write(`${text}${errorHint(command, text)}`) });
  return program;
}

function allCommands(command: Command): Command[] {
  return [command, ...command.commands.flatMap(allCommands)];
}

/**
 * After a usage error, the line that helps instead of the whole help: the help line of the option
 * the error is about (or of commander's did-you-mean suggestions), else the command's usage line.
 */
function errorHint(command: Command, error: string): string {
  const help = command.createHelp();
  const path = commandPath(command);
  // The options the error names: the one it is about, or commander's did-you-mean suggestions.
  const named = new Set(error.match(/--[\w-]+/g) ?? []);
  const options = command.options.filter((o) => o.long !== undefined && named.has(o.long));
  const lines = options.length > 0 ? options.map((o) => `  ${help.optionTerm(o)}  ${help.optionDescription(o)}`) : [`Usage: ${path} ${command.usage()}`];
  return `${lines.join("\n")}\n(${path} --help lists every option)\n`;
}

function commandPath(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c; c = c.parent) names.unshift(c.name());
  return names.join(" ");
}

export async function main(argv: string[]): Promise<void> {
  await buildProgram().parseAsync(argv);
}
