import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const PROCESSES = 16;
const TRIALS = 40;
let dir: string;
let lockModule: string;
let bundle: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "critic-lock-race-"));
  // The processes run the lock code of this checkout, bundled from src (no build needed) into
  // build/, where its packages resolve from node_modules.
  const bundleDir = fileURLToPath(new URL("../../build/test-lock/", import.meta.url));
  mkdirSync(bundleDir, { recursive: true });
  lockModule = join(mkdtempSync(bundleDir), "output-lock.mjs");
  bundle = dirname(lockModule);
  await build({
    entryPoints: [fileURLToPath(new URL("../../src/records/output-lock.ts", import.meta.url))],
    bundle: true, platform: "node", format: "esm", packages: "external", outfile: lockModule, logLevel: "warning",
  });
});

afterAll(() => {
  rmSync(bundle, { recursive: true, force: true });
  rmSync(dir, { recursive: true, force: true });
});

/**
 * The pid of a lock left by kill -9: one above the kernel's largest, so that no process started
 * during the test can take it (a pid that just died may be given to a new process on a busy machine).
 */
function deadPid(trial: number): number {
  const max = Number(readFileSync("/proc/sys/kernel/pid_max", "utf8"));
  return max + 1 + trial;
}

/**
 * Each process waits for the go file, then tries every trial's output as fast as it can and
 * writes down which locks it won; winners keep their locks until the parent says stop.
 */
const racer = (module: string, goFile: string, stopFile: string, outputs: string[], report: string) => `
import { existsSync, writeFileSync } from "node:fs";
const { lockOutput } = await import(${JSON.stringify(module)});
while (!existsSync(${JSON.stringify(goFile)})) await new Promise((r) => setTimeout(r, 1));
const won = [];
for (const [trial, output] of ${JSON.stringify(outputs)}.entries()) {
  try {
    await lockOutput(output);
    won.push(trial);
  } catch (error) {
    if (!/another run \\(pid/.test(error.message)) throw error;
  }
}
writeFileSync(${JSON.stringify(report)}, JSON.stringify(won));
while (!existsSync(${JSON.stringify(stopFile)})) await new Promise((r) => setTimeout(r, 5));
`;

describe("lockOutput: taking over a stale lock", () => {
  it(`${PROCESSES} processes racing for each of ${TRIALS} stale locks: exactly one wins each`, async () => {
    const outputs = Array.from({ length: TRIALS }, (_, t) => join(dir, `out-${t}.jsonl`));
    for (const [t, output] of outputs.entries()) writeFileSync(`${output}.lock`, `${deadPid(t)} ${hostname()}\n`);
    const goFile = join(dir, "go");
    const stopFile = join(dir, "stop");
    const children = Array.from({ length: PROCESSES }, (_, k) => {
      const report = join(dir, `won-${k}.json`);
      const child = spawn(process.execPath, ["--input-type=module", "-e", racer(lockModule, goFile, stopFile, outputs, report)], { stdio: ["ignore", "ignore", "pipe"] });
      const state = { report, stderr: "", exit: undefined as number | null | undefined };
      child.stderr.on("data", (d: Buffer) => (state.stderr += d.toString()));
      const done = new Promise<void>((resolve) => child.on("close", (code) => resolve(void (state.exit = code))));
      return { ...state, state, done };
    });
    // Give every process time to start and wait on the go file, so that they race.
    await new Promise((r) => setTimeout(r, 1500));
    writeFileSync(goFile, "");
    const { readFile } = await import("node:fs/promises");
    const winners: number[][] = Array.from({ length: TRIALS }, () => []);
    for (const [k, { report, state }] of children.entries()) {
      for (;;) {
        const text = await readFile(report, "utf8").catch(() => undefined);
        if (text === undefined && state.exit !== undefined) throw new Error(`racer ${k} exited ${state.exit}: ${state.stderr}`);
        if (text !== undefined) {
          for (const trial of JSON.parse(text) as number[]) winners[trial]!.push(k);
          break;
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    writeFileSync(stopFile, "");
    await Promise.all(children.map((c) => c.done));
    expect(children.map((c) => c.state.exit)).toEqual(children.map(() => 0));
    const counts = winners.map((w) => w.length);
    expect(counts.filter((n) => n !== 1), `winners per trial: ${counts.join(",")}`).toEqual([]);
    // No takeover leaves files behind but the locks themselves.
    expect(readdirSync(dir).filter((f) => f.includes(".lock") && !f.endsWith(".jsonl.lock"))).toEqual([]);
  }, 120_000);
});
