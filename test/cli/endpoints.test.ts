import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFaultServer, type FaultServer } from "../support/fault-server.js";
import { assertBuilt, runCli } from "../support/cli.js";

let dir: string;
let input: string;
const servers: FaultServer[] = [];

beforeAll(async () => {
  assertBuilt();
  dir = mkdtempSync(join(tmpdir(), "critic-endpoints-"));
  input = join(dir, "in.jsonl");
  writeFileSync(input, Array.from({ length: 12 }, (_, i) => JSON.stringify({ id: i, instruction: `q${i}`, response: `a${i}` })).join("\n") + "\n");
});
afterAll(async () => Promise.all(servers.map((s) => s.close())));

async function server(options: Parameters<typeof startFaultServer>[0] = {}): Promise<FaultServer> {
  const s = await startFaultServer(options);
  servers.push(s);
  return s;
}

describe("one model on several --base-url endpoints", () => {
  it("spreads calls over the endpoints, takes out one that keeps failing, and finishes on the others", async () => {
    const down = await server({ faults: () => ({ status: 503, message: "overloaded", retryAfterMs: 1 }) });
    const up = await server({ faults: () => ({ delayMs: 5 }) });
    const out = join(dir, "pool.jsonl");
    const run = await runCli(["judge", input, "-o", out, "--model", "openai:judge", "--base-url", down.baseURL, "--base-url", up.baseURL, "-c", "4", "--rubric", "helpfulness", "--store", join(dir, "pool.sqlite")]);
    expect(run.code, run.stderr).toBe(0);
    expect(readFileSync(out, "utf8").trim().split("\n")).toHaveLength(12);
    expect(run.stderr).toMatch(new RegExp(`endpoints: ${down.baseURL} served 0, \\d+ failed, taken out 1x; ${up.baseURL} served 12`));
  });

  it("two healthy endpoints both serve; the cache key is the model, so a pool's answers are reused by the pool", async () => {
    const a = await server({ faults: () => ({ delayMs: 20 }) });
    const b = await server({ faults: () => ({ delayMs: 20 }) });
    const args = (out: string) => ["judge", input, "-o", join(dir, out), "--model", "openai:judge", "--base-url", a.baseURL, "--base-url", b.baseURL, "-c", "4", "--rubric", "helpfulness", "--store", join(dir, "two.sqlite")];
    const run = await runCli(args("two.jsonl"));
    expect(run.code, run.stderr).toBe(0);
    expect(a.count).toBeGreaterThan(0);
    expect(b.count).toBeGreaterThan(0);
    expect(a.count + b.count).toBe(12);
    const again = await runCli(args("two-again.jsonl"));
    expect(again.stderr).toContain("calls 12 (12 cached)");
  });

  it("--endpoints reads the servers from a file, one a line; a bad line names the file and line", async () => {
    const a = await server({ faults: () => ({ delayMs: 10 }) });
    const b = await server({ faults: () => ({ delayMs: 10 }) });
    const list = join(dir, "endpoints.txt");
    writeFileSync(list, `# two replicas\n${a.baseURL}\n\n${b.baseURL}   # the second\n`);
    const run = await runCli(["judge", input, "-o", join(dir, "listed.jsonl"), "--model", "openai:judge", "--endpoints", list, "-c", "4", "--rubric", "helpfulness", "--store", join(dir, "listed.sqlite")]);
    expect(run.code, run.stderr).toBe(0);
    expect(a.count + b.count).toBe(12);
    expect(a.count).toBeGreaterThan(0);
    expect(b.count).toBeGreaterThan(0);
    writeFileSync(list, `${a.baseURL}\nnot a url\n`);
    const bad = await runCli(["judge", input, "-o", join(dir, "bad.jsonl"), "--model", "openai:judge", "--endpoints", list, "--rubric", "helpfulness"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(`${list}:2: expected a base URL`);
  });

  it("a single --base-url is part of the key: another server with the same model name is asked, not its answers reused", async () => {
    const first = await server();
    const second = await server();
    const store = join(dir, "single.sqlite");
    const run = (s: FaultServer, out: string) => runCli(["judge", input, "-o", join(dir, out), "--model", "openai:judge", "--base-url", s.baseURL, "--rubric", "helpfulness", "--store", store]);
    expect((await run(first, "s1.jsonl")).code).toBe(0);
    const other = await run(second, "s2.jsonl");
    expect(other.code).toBe(0);
    expect(second.count).toBe(12);
    expect(other.stderr).toContain("calls 12 (0 cached)");
  });
});
