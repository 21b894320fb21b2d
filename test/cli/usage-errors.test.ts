/** Usage errors and --help through the built binary: the error and the line that fits, never the whole help. */
import { beforeAll, describe, expect, it } from "vitest";
import { assertBuilt, runCli } from "../support/cli.js";

beforeAll(() => assertBuilt());

describe("usage errors", () => {
  it("an unknown option prints the error and the help lines of the options it may have meant, not the whole help", async () => {
    const result = await runCli(["judge", "data.jsonl", "-o", "out.jsonl", "--modle", "m"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("error: unknown option '--modle'");
    expect(result.stderr).toMatch(/^ {2}-m, --model <spec> {2}\.\/judge\.gguf/m);
    expect(result.stderr).toContain("(critic judge --help lists every option)");
    expect(result.stderr).not.toContain("--batch-discount");
    expect(result.stderr.split("\n").length).toBeLessThan(8);
  });

  it("a missing required option names it with its help line; an unknown command gets the usage line", async () => {
    const [missing, command] = await Promise.all([runCli(["export", "x.jsonl", "-f", "dpo"]), runCli(["jduge"])]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/error: required option '-o, --out <dir>' not specified\n {2}-o, --out <dir> {2}output folder/);
    expect(command.code).toBe(1);
    expect(command.stderr).toMatch(/error: unknown command 'jduge'\n\(Did you mean judge\?\)\nUsage: critic \[options\] \[command\]\n/);
  });

  it("sampling values out of range are refused before anything runs", async () => {
    const runs = await Promise.all([
      runCli(["judge", "data.jsonl", "-o", "out.jsonl", "--temperature", "-1"]),
      runCli(["judge", "data.jsonl", "-o", "out.jsonl", "--top-p", "1.5"]),
      runCli(["generate", "revise", "p.jsonl", "-o", "out.jsonl", "--judge-temperature", "-0.5"]),
    ]);
    expect(runs.map((r) => r.code)).toEqual([1, 1, 1]);
    expect(runs[0]!.stderr).toContain(`argument '-1' is invalid. expected a temperature >= 0 (0 is greedy), got "-1"`);
    expect(runs[1]!.stderr).toContain(`argument '1.5' is invalid. expected a probability in (0, 1], got "1.5"`);
    expect(runs[2]!.stderr).toContain("expected a temperature >= 0");
  });
});

describe("--help says what the options do", () => {
  it("several -m form a jury in judge and a comparison in bench run; only train grpo lists the reward options", async () => {
    const [judge, bench, sft, grpo] = await Promise.all([
      runCli(["judge", "--help"]), runCli(["bench", "run", "--help"]), runCli(["train", "sft", "--help"]), runCli(["train", "grpo", "--help"]),
    ]);
    const flat = (text: string) => text.replace(/\s+/g, " ");
    expect(flat(judge.stdout)).toMatch(/repeat to form a jury/);
    expect(flat(judge.stdout)).not.toMatch(/compare judges/);
    expect(flat(bench.stdout)).toMatch(/repeat to compare judges in one table/);
    for (const option of ["--reward-url", "--null-reward", "--no-normalize-reward"]) {
      expect(sft.stdout).not.toContain(option);
      expect(grpo.stdout).toContain(option);
    }
  });
});
