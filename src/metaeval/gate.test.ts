import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../../test/support/cli.js";
import { parseRequirement } from "./gate.js";

// Ten swapped pairwise judgments: 8 right, 2 wrong; 9 of 10 survive the swap.
const rows = Array.from({ length: 10 }, (_, i) => ({
  id: i,
  winner: i < 8 ? "A" : "B",
  label: "A",
  judge: { samples: [{ winner: i < 8 ? "A" : "B", swap: { original: "A", swapped: i === 9 ? "B" : "A", consistent: i !== 9 } }] },
}));

async function judgments(): Promise<{ dir: string; file: string }> {
  const dir = await mkdtemp(path.join(tmpdir(), "critic-gate-"));
  const file = path.join(dir, "judged.jsonl");
  await writeFile(file, rows.map((r) => JSON.stringify(r)).join("\n") + "\n");
  return { dir, file };
}

describe("meta-eval --require", () => {
  it("parses <metric><op><number> and refuses anything else", () => {
    expect(parseRequirement("kappa>=0.6")).toEqual({ text: "kappa >= 0.6", metric: "kappa", op: ">=", threshold: 0.6 });
    expect(parseRequirement(" position_consistency > 0.85 ")).toMatchObject({ metric: "position_consistency", op: ">" });
    expect(parseRequirement("mae=0")).toMatchObject({ op: "==" });
    expect(() => parseRequirement("kappa high")).toThrow(/expected <metric><op><number>/);
  });

  it("exits 0 with a table when every requirement holds, 1 naming what failed (n/a fails too)", async () => {
    const { dir, file } = await judgments();
    const ok = await runCli(["meta-eval", file, "--gold", "label", "--bootstrap", "0", "-o", path.join(dir, "ok"),
      "--require", "accuracy_with_ties>=0.8", "--require", "position_consistency>=0.85"]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/accuracy_with_ties >= 0\.8 +judged +0\.8000 +pass/);
    expect(ok.stdout).toMatch(/position_consistency >= 0\.85 +judged +0\.9000 +pass/);
    expect(ok.stdout).toContain("gate: all 2 passed");

    const bad = await runCli(["meta-eval", file, "--gold", "label", "--bootstrap", "0", "-o", path.join(dir, "bad"),
      "--require", "accuracyWithTies>=0.9", "--require", "position_consistency>=0.85", "--require", "kappa>=0.5"]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/accuracyWithTies >= 0\.9 +judged +0\.8000 +FAIL/);
    // Gold is all A: chance-corrected agreement is 0.
    expect(bad.stdout).toMatch(/kappa >= 0\.5 +judged +0\.0000 +FAIL/);
    expect(bad.stdout).toContain("gate: 2 of 3 failed");
    const saved = JSON.parse(await readFile(path.join(dir, "bad", "gate.json"), "utf8")) as { passed: boolean; rows: unknown[] };
    expect(saved).toMatchObject({ passed: false });
    expect(saved.rows).toHaveLength(3);
  });

  it("a gate that cannot be measured fails: position consistency without --swap judgments", async () => {
    const { dir } = await judgments();
    const file = path.join(dir, "noswap.jsonl");
    await writeFile(file, rows.map(({ judge: _judge, ...r }) => JSON.stringify(r)).join("\n") + "\n");
    const result = await runCli(["meta-eval", file, "--gold", "label", "--bootstrap", "0", "-o", path.join(dir, "noswap"), "--require", "position_consistency>=0.85"]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/position_consistency >= 0\.85 +noswap +n\/a \(no judgment was graded in both orders \(judge with --swap\)\) +FAIL/);
  });

  it("a metric the report does not have fails at once with a did-you-mean", async () => {
    const { dir, file } = await judgments();
    const typo = await runCli(["meta-eval", file, "--gold", "label", "-o", path.join(dir, "typo"), "--require", "kapa>=0.6"]);
    expect(typo.code).toBe(1);
    expect(typo.stderr).toMatch(/--require "kapa >= 0\.6": pairwise meta-eval has no metric "kapa"; did you mean "kappa"/);
  });
});
