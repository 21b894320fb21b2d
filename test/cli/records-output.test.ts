import { existsSync, mkdtempSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFaultServer, type FaultServer } from "../support/fault-server.js";
import { assertBuilt, runCli } from "../support/cli.js";
import { readRecords } from "../../src/records/read.js";

const RECORDS = 30;
let server: FaultServer;
let dir: string;
let input: string;

beforeAll(async () => {
  assertBuilt();
  server = await startFaultServer();
  dir = mkdtempSync(join(tmpdir(), "critic-records-out-"));
  input = join(dir, "input.jsonl");
  const lines = Array.from({ length: RECORDS }, (_, i) => JSON.stringify({ id: i, instruction: `question ${i}`, response: `answer, "quoted" ${i}\nline 2`, gold: (i % 5) + 1 }));
  writeFileSync(input, `${lines.join("\n")}\n`);
});
afterAll(async () => server?.close());

const judgeArgs = (inFile: string, out: string, store: string, ...more: string[]) => [
  "judge", inFile, "-o", out, "--model", "openai:judge", "--base-url", server.baseURL, "--rubric", "helpfulness", "-c", "4", "--store", store, "--no-progress", ...more,
];

describe("critic judge -o writes the format its name asks for", () => {
  it("CSV, JSON array and gzip JSONL outputs hold every judgment; meta-eval reads each; a re-run from the store writes the same file", async () => {
    const store = join(dir, "formats.sqlite");
    const outputs = { csv: join(dir, "out.csv"), json: join(dir, "out.json"), gz: join(dir, "out.jsonl.gz") };
    for (const out of Object.values(outputs)) {
      const result = await runCli(judgeArgs(input, out, store));
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr).toContain(`wrote ${RECORDS} judgments to ${out}`);
    }
    const header = readFileSync(outputs.csv, "utf8").split("\n")[0]!.split(",");
    expect(header.sort()).toEqual(["feedback", "gold", "id", "instruction", "judge", "response", "score"]);
    const array = JSON.parse(readFileSync(outputs.json, "utf8")) as Array<Record<string, unknown>>;
    expect(array.map((r) => r.id)).toEqual([...Array(RECORDS).keys()]);
    const unzipped = gunzipSync(readFileSync(outputs.gz)).toString("utf8").trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(unzipped.map((r) => r.score)).toEqual(array.map((r) => r.score));
    for (const out of Object.values(outputs)) {
      const meta = await runCli(["meta-eval", out, "--gold", "gold", "--bootstrap", "0", "-o", join(dir, `report-${out.split("/").pop()}`)]);
      expect(meta.code, meta.stderr).toBe(0);
      expect(meta.stderr).toContain(`${RECORDS} of ${RECORDS} rows evaluated`);
    }
    // Resuming is a re-run: every call comes from the store and the file is written again, whole.
    const withoutJudge = async (file: string) => {
      const rows: Array<Record<string, unknown>> = [];
      for await (const { record } of readRecords(file)) rows.push({ ...record, judge: undefined });
      return rows;
    };
    const before = await withoutJudge(outputs.csv);
    expect(before).toHaveLength(RECORDS);
    const again = await runCli(judgeArgs(input, outputs.csv, store));
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain(`calls ${RECORDS} (${RECORDS} cached)`);
    expect(await withoutJudge(outputs.csv)).toEqual(before);
    expect(before[3]).toMatchObject({ id: "3", response: 'answer, "quoted" 3\nline 2', gold: "4" });
  });

  it("refuses an output name that says no format it writes (or .parquet.gz) before any call", async () => {
    const calls = server.count;
    for (const name of ["out.txt", "out", "out.parquet.gz"]) {
      const result = await runCli(judgeArgs(input, join(dir, name), join(dir, "refused.sqlite")));
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(new RegExp(`output ${join(dir, name).replaceAll(".", "\\.")}: (cannot tell which format|Parquet is compressed)`));
      expect(existsSync(join(dir, name))).toBe(false);
    }
    expect(server.count).toBe(calls);
  });

  it("refuses a --rejects name that says another format than the JSONL it is written in", async () => {
    const result = await runCli(judgeArgs(input, join(dir, "rj.jsonl"), join(dir, "rj.sqlite"), "--rejects", join(dir, "bad.csv")));
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${join(dir, "bad.csv")}: rejects and failures are written as JSONL; give the file a .jsonl name`);
  });

  it("creates the output's folder", async () => {
    const out = join(dir, "new", "deeper", "out.jsonl");
    const result = await runCli(judgeArgs(input, out, join(dir, "folder.sqlite")));
    expect(result.code, result.stderr).toBe(0);
    expect(readFileSync(out, "utf8").trim().split("\n")).toHaveLength(RECORDS);
  });
});

describe("critic generate -o: the same decision", () => {
  it("writes the format its name asks for, and refuses an unknown one or the run store before any call", async () => {
    const prompts = join(dir, "prompts.jsonl");
    writeFileSync(prompts, ["a", "b", "c"].map((p) => JSON.stringify({ prompt: `prompt ${p}` })).join("\n"));
    const store = join(dir, "generate.sqlite");
    const args = (out: string) => ["generate", "revise", prompts, "-o", out, "--principle", "privacy", "--accept", "always", "--model", "openai:gen", "--base-url", server.baseURL, "--store", store, "--no-progress"];
    const json = join(dir, "revised.json");
    const ok = await runCli(args(json));
    expect(ok.code, ok.stderr).toBe(0);
    expect((JSON.parse(readFileSync(json, "utf8")) as Array<{ prompt: string }>).map((r) => r.prompt)).toEqual(["prompt a", "prompt b", "prompt c"]);
    const calls = server.count;
    const unknown = await runCli(args(join(dir, "revised.txt")));
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("cannot tell which format to write from the name");
    const overStore = await runCli(args(store));
    expect(overStore.code).toBe(1);
    expect(overStore.stderr).toMatch(/is also the run store of this run/);
    expect(server.count).toBe(calls);
  });
});

describe("critic judge never writes over its own files", () => {
  it("refuses -o naming the run store, its -wal or -shm, or the rejects file, by real path; the store is untouched", async () => {
    const store = join(dir, "precious.sqlite");
    const first = await runCli(judgeArgs(input, join(dir, "precious-out.jsonl"), store));
    expect(first.code, first.stderr).toBe(0);
    const size = statSync(store).size;
    const link = join(dir, "link-to-dir");
    symlinkSync(dir, link);
    const calls = server.count;
    for (const out of [store, join(link, "precious.sqlite"), `${store}-wal`, `${store}-shm`]) {
      const result = await runCli(judgeArgs(input, out, store));
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/is also the run store('s log|'s shared memory)? of this run/);
    }
    const rejects = await runCli(judgeArgs(input, join(dir, "r.jsonl"), store, "--rejects", join(dir, "r.jsonl")));
    expect(rejects.code).toBe(1);
    expect(rejects.stderr).toMatch(/is also the output of this run/);
    expect(server.count).toBe(calls);
    expect(statSync(store).size).toBe(size);
    const db = new Database(store, { readonly: true });
    expect((db.prepare("SELECT COUNT(*) AS n FROM calls").get() as { n: number }).n).toBe(RECORDS);
    db.close();
  });
});

describe("critic judge: errors that name their file", () => {
  it("a run store that cannot be opened is named, with what is wrong", async () => {
    const notAFolder = join(dir, "plain-file");
    writeFileSync(notAFolder, "x");
    const result = await runCli(judgeArgs(input, join(dir, "st-out.jsonl"), join(notAFolder, "store.sqlite")));
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`cannot open the run store ${join(notAFolder, "store.sqlite")}: a file already exists where a folder is needed`);
    const notADb = join(dir, "not-a-db.sqlite");
    writeFileSync(notADb, "this is not a database, just text that is long enough to look like a header");
    const bad = await runCli(judgeArgs(input, join(dir, "st-out2.jsonl"), notADb));
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(`run store ${notADb}: it is not a SQLite database`);
  });

  it("a damaged Parquet input is named", async () => {
    const file = join(dir, "damaged.parquet");
    writeFileSync(file, Buffer.concat([Buffer.from("PAR1"), Buffer.alloc(64, 7), Buffer.from([200, 0, 0, 0]), Buffer.from("PAR1")]));
    const result = await runCli(judgeArgs(file, join(dir, "pq-out.jsonl"), join(dir, "pq.sqlite")));
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${file}: not a readable Parquet file`);
  });
});

describe("critic judge and meta-eval: nothing lost, nothing silent", () => {
  it("a CSV row with an unclosed quote is one reject; the rows after it are judged", async () => {
    const file = join(dir, "quotes.csv");
    writeFileSync(file, 'id,instruction,response\n1,q1,a1\n2,"unclosed,a2\n3,q3,a3\n4,q4,a4\n5,"q ""quoted"" 5",a5\n6,q6,a6\n7,q7,a7\n');
    const out = join(dir, "quotes-out.jsonl");
    const result = await runCli(judgeArgs(file, out, join(dir, "quotes.sqlite")));
    expect(result.stderr).toContain("records 7, judged 6, failed 0, rejected 1");
    expect(readFileSync(out, "utf8").trim().split("\n").map((l) => (JSON.parse(l) as { id: string }).id)).toEqual(["1", "3", "4", "5", "6", "7"]);
    const rejects = readFileSync(`${out}.rejects.jsonl`, "utf8").trim().split("\n").map((l) => JSON.parse(l) as { line: number; reason: string });
    expect(rejects).toHaveLength(1);
    expect(rejects[0]!.line).toBe(3);
    expect(rejects[0]!.reason).toMatch(/reading goes on from line 4$/);
  });

  it("a record nested 5,000 levels deep is rejected with its line before any call; the others are judged and written", async () => {
    const file = join(dir, "deep.jsonl");
    writeFileSync(file, `{"instruction":"q","response":"r0"}\n{"instruction":"q","response":"r1","x":${"[".repeat(5000)}${"]".repeat(5000)}}\n{"instruction":"q","response":"r2"}\n`);
    const out = join(dir, "deep-out.jsonl");
    const calls = server.count;
    const result = await runCli(judgeArgs(file, out, join(dir, "deep.sqlite")));
    expect(result.stderr).toContain("records 3, judged 2, failed 0, rejected 1");
    expect(server.count - calls).toBe(2);
    expect(readFileSync(`${out}.rejects.jsonl`, "utf8")).toMatch(/"line":2,"reason":"the record nests more than 1000 levels deep/);
    expect(readFileSync(out, "utf8").trim().split("\n")).toHaveLength(2);
  });

  it("keeps a __proto__ field in the judgments", async () => {
    const file = join(dir, "proto.jsonl");
    writeFileSync(file, '{"__proto__":{"x":1},"instruction":"q","response":"r"}\n');
    const out = join(dir, "proto-out.jsonl");
    const result = await runCli(judgeArgs(file, out, join(dir, "proto.sqlite")));
    expect(result.code, result.stderr).toBe(0);
    const line = readFileSync(out, "utf8");
    expect(line).toContain('"__proto__":{"x":1}');
    expect(Object.getOwnPropertyDescriptor(JSON.parse(line), "__proto__")?.value).toEqual({ x: 1 });
  });

  it("a truncated .gz input exits 1 saying where it ends, after judging what it holds", async () => {
    const whole = gzipSync(readFileSync(input));
    const file = join(dir, "cut.jsonl.gz");
    writeFileSync(file, whole.subarray(0, Math.floor(whole.length * 0.6)));
    const result = await runCli(judgeArgs(file, join(dir, "cut-out.jsonl"), join(dir, "cut.sqlite")));
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/the input is incomplete: .*cut\.jsonl\.gz: input truncated after line \d+/);
  });

  it("meta-eval on an empty file, or one with no readable record, exits 1 and says so", async () => {
    const empty = join(dir, "empty.jsonl");
    writeFileSync(empty, "");
    const result = await runCli(["meta-eval", empty, "--gold", "gold", "-o", join(dir, "empty-report")]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`meta-eval: ${empty} holds no records (the file is empty); nothing was evaluated`);
    const junk = join(dir, "junk.jsonl");
    writeFileSync(junk, "not json\n");
    const bad = await runCli(["meta-eval", junk, "--gold", "gold", "-o", join(dir, "junk-report")]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(`meta-eval: ${junk} holds no records (1 could not be read: see the report)`);
  });
});
