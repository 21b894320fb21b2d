/**
 * Every `critic …` command line in README.md, docs/**\/*.md and the READMEs critic writes (run folders,
 * dataset cards) is parsed by the real CLI: commander's parse of buildProgram() with every action
 * replaced by a stub. An unknown command or option, a bad option value, an excess argument, and (in
 * code blocks) a missing required option or argument fail the test.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { CommanderError, type Command } from "commander";
import { describe, expect, it } from "vitest";
import { buildProgram } from "../../src/cli/main.js";
import { exportDataset } from "../../src/export/export.js";
import { TRL_TRAINERS, type TrlTrainer } from "../../src/train/fields.js";
import { writeRunFolder } from "../../src/train/recipe.js";

const root = fileURLToPath(new URL("../../", import.meta.url));

interface CommandLine {
  where: string;
  text: string;
  /** Code-block lines are complete commands; inline `critic …` spans in prose may leave parts out. */
  strict: boolean;
}

/** The `critic …` command lines of a Markdown text. */
export function commandLines(markdown: string, file: string): CommandLine[] {
  const found: CommandLine[] = [];
  const lines = markdown.split("\n");
  let fence: string | null = null;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const opening = /^\s*(```+|~~~+)\s*([\w-]*)/.exec(line);
    if (opening && fence === null) {
      fence = ["", "bash", "sh", "shell", "console", "zsh"].includes(opening[2]!) ? opening[1]! : "skip";
      continue;
    }
    if (fence !== null && /^\s*(```+|~~~+)\s*$/.test(line)) {
      fence = null;
      continue;
    }
    if (fence === "skip") continue;
    if (fence !== null) {
      let text = line.trim().replace(/^\$\s+/, "");
      const start = i + 1;
      while (text.endsWith("\\") && i + 1 < lines.length) text = `${text.slice(0, -1)} ${lines[++i]!.trim()}`;
      const command = asCritic(text);
      if (command) found.push({ where: `${file}:${start}`, text: command, strict: true });
      continue;
    }
    for (const span of line.matchAll(/`([^`]+)`/g)) {
      const command = asCritic(span[1]!.trim());
      if (command) found.push({ where: `${file}:${i + 1}`, text: command, strict: false });
    }
  }
  return found;
}

/** `critic …`, `node bin/critic.js …` or `npm run demo -- …` as a `critic …` line, else undefined. */
function asCritic(text: string): string | undefined {
  const stripped = text.replace(/^(?:[A-Z_][A-Z0-9_]*=\S*\s+)+/, "");
  if (/^critic(\s|$)/.test(stripped)) return stripped;
  if (/^node bin\/critic\.js(\s|$)/.test(stripped)) return stripped.replace(/^node bin\/critic\.js/, "critic");
  const demo = /^npm run demo(?:\s+--\s+(.*))?$/.exec(stripped.replace(/\s+#.*$/, ""));
  if (demo) return `critic demo ${demo[1] ?? ""}`.trim();
  return undefined;
}

/** Shell words up to a comment or a pipe, `&&`, `;`, `&` or a redirect; `[optional]` brackets dropped. */
export function shellWords(text: string): string[] {
  const words: string[] = [];
  let word = "";
  let quote: string | null = null;
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === quote) quote = null;
      else word += c;
      continue;
    }
    if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
      continue;
    }
    if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
      continue;
    }
    if (!inWord && (c === "#" || c === "|" || c === ";" || c === "&" || c === ">")) break;
    word += c;
    inWord = true;
  }
  if (inWord) words.push(word);
  return words.map((w) => w.replace(/^\[/, "").replace(/\]$/, "")).filter((w) => w !== "");
}

const PLACEHOLDER = /^(\.\.\.|…)$/;

function allCommands(command: Command): Command[] {
  return [command, ...command.commands.flatMap(allCommands)];
}

/** Null when the real CLI accepts the line, else commander's error (or why the line cannot be checked: "skip: …"). */
export async function parseWithCli(line: CommandLine): Promise<string | null> {
  const words = shellWords(line.text).slice(1);
  // `…` stands for values left out: as an option's value it is a value; elsewhere it is dropped, unless it
  // stands where a subcommand would be (then the line names no command to check).
  const args: string[] = [];
  for (const word of words) {
    if (!PLACEHOLDER.test(word)) {
      args.push(word);
      continue;
    }
    if (args.length > 0 && args.at(-1)!.startsWith("-") && !args.at(-1)!.includes("=")) args.push("value");
    else if (args.every((a) => !a.startsWith("-"))) return "skip: a placeholder stands for the command";
  }
  const program = buildProgram();
  for (const command of allCommands(program)) {
    command.exitOverride();
    command.configureOutput({ writeOut: () => {}, writeErr: () => {}, outputError: () => {} });
    if ((command as unknown as { _actionHandler: unknown })._actionHandler) command.action(() => {});
    if (!line.strict) {
      for (const option of command.options) option.mandatory = false;
      for (const argument of command.registeredArguments) argument.required = false;
    }
  }
  try {
    await program.parseAsync(args, { from: "user" });
    return null;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === "commander.helpDisplayed" || error.code === "commander.version") return null;
      // Prose may name a command group (`critic train`) without a subcommand.
      if (error.code === "commander.help" && !line.strict) return null;
      if (error.code === "commander.unknownCommand" && /unknown command '</.test(error.message)) return "skip: a placeholder stands for the command";
      return error.message;
    }
    throw error;
  }
}

function markdownFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const file = path.join(dir, name);
    if (statSync(file).isDirectory()) return markdownFiles(file);
    return name.endsWith(".md") ? [file] : [];
  });
}

async function expectAllParse(lines: CommandLine[]): Promise<void> {
  const failures: string[] = [];
  for (const line of lines) {
    const error = await parseWithCli(line);
    if (error !== null && !error.startsWith("skip:")) failures.push(`${line.where}: ${line.text}\n    ${error}`);
  }
  expect(failures, failures.join("\n")).toEqual([]);
}

describe("the command checker", () => {
  it("rejects what the CLI rejects: unknown flags, bad values, missing required options in code blocks", async () => {
    const check = (text: string, strict = true) => parseWithCli({ where: "test", text, strict });
    expect(await check("critic judge --model ./x.gguf --lora ./a.gguf --input data.jsonl --output judged.jsonl")).toMatch(/unknown option '--input'/);
    expect(await check("critic judge data.jsonl --model ./x.gguf")).toMatch(/required option '-o, --output <file>' not specified/);
    expect(await check("critic judge data.jsonl -o j.jsonl --temperature -1")).toMatch(/expected a temperature >= 0/);
    expect(await check("critic train sft --data d --base b -o r --reward-url http://x/v1/reward")).toMatch(/unknown option '--reward-url'/);
    expect(await check("critic jduge data.jsonl -o j.jsonl")).toMatch(/unknown command 'jduge'/);
    expect(await check("critic judge a.jsonl b.jsonl -o j.jsonl")).toMatch(/too many arguments/);
    // Inline spans may leave out what is required, but not invent options.
    expect(await check("critic judge --swap auto", false)).toBeNull();
    expect(await check("critic judge --swapp auto", false)).toMatch(/unknown option '--swapp'/);
    expect(await check("critic serve --model ./judge.gguf --port 8080 [--parallel 4] [--api-key ...]   # key also from $CRITIC_API_KEY")).toBeNull();
    expect(await check("critic train ... --set key=value --force", false)).toMatch(/^skip:/);
    expect(await check("critic --help")).toBeNull();
  });

  it("finds the commands of code blocks (with continuations) and of inline spans", () => {
    const md = ["Run `critic judge` on it.", "", "```bash", "critic judge d.jsonl -o j.jsonl \\", "  --model m   # a comment", "npm run demo -- --model ./x.gguf", "curl -s localhost", "```", "", "```yaml", "critic: no", "```"].join("\n");
    expect(commandLines(md, "x.md")).toEqual([
      { where: "x.md:1", text: "critic judge", strict: false },
      { where: "x.md:4", text: "critic judge d.jsonl -o j.jsonl  --model m   # a comment", strict: true },
      { where: "x.md:6", text: "critic demo --model ./x.gguf", strict: true },
    ]);
  });
});

describe("the documentation's commands parse with the current CLI", () => {
  it("README.md starts with the two commands a newcomer runs, and package.json has them", () => {
    const readme = readFileSync(path.join(root, "README.md"), "utf8");
    expect(readme).toMatch(/^# critic\n\n```bash\nnpm ci && npm run demo {5}# [^\n]+\nnpm test {19}# [^\n]+\n```\n/);
    const scripts = (JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts;
    expect(scripts.demo).toBe("node bin/critic.js demo");
    expect(scripts.test).toMatch(/vitest run$/);
  });

  const files = [path.join(root, "README.md"), ...markdownFiles(path.join(root, "docs"))];
  for (const file of files) {
    const relative = path.relative(root, file);
    it(relative, async () => {
      const lines = commandLines(readFileSync(file, "utf8"), relative);
      if (relative === "README.md") expect(lines.filter((l) => l.strict).length).toBeGreaterThanOrEqual(10);
      await expectAllParse(lines);
    });
  }

  it("docs/ has a page for every command", () => {
    const pages = readdirSync(path.join(root, "docs"));
    const commands = buildProgram().commands.map((c) => c.name()).filter((name) => name !== "demo");
    for (const command of commands) expect(pages, command).toContain(`${command}.md`);
  });
});

describe("the READMEs critic writes", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "critic-docs-"));
  const rows: Record<TrlTrainer, { format: string; trainer: string; row: object }> = {
    sft: { format: "sft-messages", trainer: "sft", row: { messages: [{ role: "user", content: "Rate: 2+2=5" }, { role: "assistant", content: "Wrong. [SCORE] 1" }] } },
    dpo: { format: "dpo", trainer: "dpo", row: { prompt: "q", chosen: " good", rejected: " bad" } },
    kto: { format: "kto", trainer: "kto", row: { prompt: "q", completion: " a", label: true } },
    reward: { format: "reward", trainer: "reward", row: { chosen: [{ role: "user", content: "q" }, { role: "assistant", content: "good" }], rejected: [{ role: "user", content: "q" }, { role: "assistant", content: "bad" }] } },
    grpo: { format: "dpo", trainer: "dpo", row: { prompt: "q", chosen: " good", rejected: " bad" } },
  };

  for (const trainer of TRL_TRAINERS) {
    for (const preset of [undefined, "lora"]) {
      it(`critic train ${trainer}${preset ? ` --preset ${preset}` : ""}: the run folder's README`, async () => {
        const data = path.join(dir, `data-${trainer}-${preset ?? "default"}`);
        mkdirSync(data, { recursive: true });
        const { format, trainer: exportTrainer, row } = rows[trainer];
        writeFileSync(path.join(data, "train.jsonl"), `${JSON.stringify(row)}\n`);
        writeFileSync(path.join(data, "export.json"), JSON.stringify({ format, trainer: exportTrainer, conversational: format === "sft-messages" || format === "reward", files: { train: "train.jsonl" }, counts: { train: 1 } }));
        const run = await writeRunFolder({ trainer, data, base: "org/base-model", output: path.join(dir, `run-${trainer}-${preset ?? "default"}`), ...(preset ? { preset } : {}) });
        const lines = commandLines(readFileSync(path.join(run.runDir, "README.md"), "utf8"), `${trainer} run README.md`);
        expect(lines.some((l) => l.strict && l.text.startsWith("critic judge "))).toBe(true);
        await expectAllParse(lines);
      });
    }
  }

  it("critic export: the dataset card", async () => {
    const pairs = path.join(dir, "pairs.jsonl");
    writeFileSync(pairs, `${JSON.stringify({ prompt: "q", chosen: "good", rejected: "bad" })}\n`);
    const out = path.join(dir, "export");
    await exportDataset({ input: [pairs], outDir: out, formats: ["dpo"], testSize: 0 });
    await expectAllParse(commandLines(readFileSync(path.join(out, "README.md"), "utf8"), "dataset card README.md"));
  });
});
