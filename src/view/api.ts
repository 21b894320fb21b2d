/**
 * The JSON API of `critic view` under /api, and the app's static files. Everything is computed
 * from the workspace's index; records are read from disk a page at a time.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { Hono, type Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import { resolveGrader } from "../judge/grader.js";
import type { ChatMessage } from "../backends/types.js";
import type { Rubric } from "../templates/types.js";
import { metaEval } from "../metaeval/meta-eval.js";
import { renderReportHtml } from "../metaeval/report.js";
import { hasVerdict, labelFileWarnings, type HumanLabel } from "../records/labels.js";
import type { RawRecord } from "../records/types.js";
import { readRows, WINNERS, type JudgmentIndex } from "./judgment-index.js";
import { ORDERS, type Order, type RowQuery } from "./query.js";
import type { RowSummary } from "./types.js";
import type { OpenWorkspace } from "./workspace.js";

export interface ViewAppOptions {
  workspace: OpenWorkspace;
  /** When set, every /api request needs `Authorization: Bearer <key>`. */
  apiKey?: string;
  /** Host names the app answers to without an API key (DNS rebinding guard), besides the loopback names. */
  allowedHosts?: string[];
  /** Bootstrap resamples of the live meta-eval (default 200: a few seconds on large files). */
  bootstrap?: number;
}

const PAGE_LIMIT = 500;
const EXCERPT = 240;

/** The app's built files (esbuild at `npm run build`): index.html, app.js, app.css. */
const ASSETS = new URL("../../dist/view-app/", import.meta.url);
const CONTENT_TYPES: Record<string, string> = { "index.html": "text/html; charset=utf-8", "app.js": "text/javascript; charset=utf-8", "app.css": "text/css; charset=utf-8" };

/** Set by the middleware that notices a replaced judgments file: the files indexed again. */
type ViewEnv = { Variables: { reindexed?: string[] } };

export function createViewApp(options: ViewAppOptions): Hono<ViewEnv> {
  const ws = options.workspace;
  const app = new Hono<ViewEnv>();
  const allowed = new Set(["127.0.0.1", "localhost", "[::1]", ...(options.allowedHosts ?? [])]);

  app.use("*", async (c, next) => {
    // Without a key, only loopback names: a page elsewhere that rebinds its DNS name to 127.0.0.1
    // must not read the judgments. With a key, the key guards the API.
    const host = new URL(c.req.url).hostname;
    if (options.apiKey === undefined && !allowed.has(host)) return c.text(`critic view answers to ${[...allowed].join(", ")}, not "${host}"`, 421);
    await next();
    c.header("X-Content-Type-Options", "nosniff");
    c.header("Referrer-Policy", "no-referrer");
  });

  if (options.apiKey !== undefined) {
    const expected = digest(options.apiKey);
    app.use("/api/*", async (c, next) => {
      const given = /^Bearer\s+(.+)$/i.exec(c.req.header("authorization") ?? "")?.[1] ?? "";
      if (!timingSafeEqual(digest(given), expected)) return c.json({ error: "this view needs its API key (--api-key or $CRITIC_API_KEY)" }, 401);
      await next();
    });
  }

  for (const name of Object.keys(CONTENT_TYPES)) {
    app.get(name === "index.html" ? "/" : `/${name}`, (c) => {
      let body: string;
      try {
        body = readFileSync(new URL(name, ASSETS), "utf8");
      } catch {
        return c.text("the view's front end is not built: run npm run build", 500);
      }
      c.header("Content-Type", CONTENT_TYPES[name] as string);
      // The page runs only its own bundled script and styles; records are never HTML.
      if (name === "index.html") c.header("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; frame-src 'self' about:; object-src 'none'; base-uri 'none'");
      return c.body(body);
    });
  }

  app.get("/favicon.ico", (c) => c.body(null, 204));

  // A judgments file replaced since it was indexed (a judge run again to the same -o): index it
  // again before answering, so that rows show the records on disk now. A label is refused below.
  app.use("/api/*", async (c, next) => {
    const changed = ws.changedFiles();
    if (changed.length > 0) {
      try {
        await ws.reindex();
      } catch (error) {
        return c.json({ error: `${changed.join(", ")} changed on disk and could not be indexed again: ${(error as Error).message}` }, 503);
      }
      c.set("reindexed", changed);
    }
    await next();
  });

  app.get("/api/info", (c) => c.json(info(ws)));

  app.get("/api/rows", async (c) => {
    const query = rowQuery(c);
    if ("error" in query) return c.json(query, 400);
    const offset = Math.max(0, Number(c.req.query("offset") ?? 0) | 0);
    const limit = Math.min(PAGE_LIMIT, Math.max(1, Number(c.req.query("limit") ?? 100) | 0));
    let rows: Int32Array;
    ws.labels.refresh(); // the "labelled by me" filter and the label queues read the labels
    try {
      rows = await ws.rowsFor(query.key, query.query);
    } catch (error) {
      return c.json({ error: (error as Error).message }, 400);
    }
    const page = rows.subarray(offset, offset + limit);
    return c.json({ total: rows.length, offset, generation: ws.generation, ...(offset === 0 ? { next: firstUnlabelled(ws, rows) } : {}), rows: summaries(ws, page, offset) });
  });

  app.get("/api/record/:row", (c) => {
    const row = Number(c.req.param("row"));
    const first = ws.indexes[0] as JudgmentIndex;
    if (!Number.isInteger(row) || row < 0 || row >= first.rows) return c.json({ error: `no row ${c.req.param("row")} (the file has ${first.rows})` }, 404);
    ws.labels.refresh();
    const id = first.ids[row] as string;
    return c.json({
      row,
      id,
      files: ws.indexes.map((index, j) => {
        const r = (ws.alignment[j] as Int32Array)[row] as number;
        if (r < 0) return { name: ws.names[j], row: null, line: null, record: null };
        const record = readRows(index, [r])[0] as RawRecord | { unreadable: string };
        return { name: ws.names[j], row: r, line: index.lines[r], record, prompt: "unreadable" in record ? null : renderedPrompt(record) };
      }),
      labels: ws.labels.labelsOf(id),
    });
  });

  app.post("/api/labels", bodyLimit({ maxSize: 64 * 1024 }), async (c) => {
    if (!(c.req.header("content-type") ?? "").startsWith("application/json")) return c.json({ error: "send JSON (Content-Type: application/json)" }, 415);
    let body: { row?: unknown; id?: unknown; generation?: unknown; score?: unknown; winner?: unknown; note?: unknown };
    try {
      body = await c.req.json();
    } catch {
      return c.json({ error: "the body is not JSON" }, 400);
    }
    const reindexed = c.get("reindexed");
    if (reindexed || (body.generation !== undefined && body.generation !== ws.generation)) {
      return c.json({ error: `${reindexed ? reindexed.join(", ") : "a judgments file"} changed on disk since the page was loaded (a judge run again to the same -o?): the view indexed it again. The label was NOT saved: reload the page and label the record as it is now.`, generation: ws.generation }, 409);
    }
    const first = ws.indexes[0] as JudgmentIndex;
    const row = body.row;
    if (typeof row !== "number" || !Number.isInteger(row) || row < 0 || row >= first.rows) return c.json({ error: `"row" must be a row number below ${first.rows}` }, 400);
    if (typeof body.id !== "string") return c.json({ error: '"id" must be the id of the record labelled (as /api/rows gives it)' }, 400);
    if (body.id !== first.ids[row]) return c.json({ error: `row ${row} is record "${first.ids[row]}", not "${body.id}": the file changed since the page was loaded; the label was NOT saved, reload the page`, generation: ws.generation }, 409);
    const label: Omit<HumanLabel, "at"> = { id: first.ids[row] as string, annotator: ws.annotator };
    if (body.score !== undefined && body.score !== null) {
      if (typeof body.score !== "number" || !Number.isFinite(body.score)) return c.json({ error: '"score" must be a number' }, 400);
      label.score = body.score;
    }
    if (body.winner !== undefined && body.winner !== null) {
      if (body.winner !== "A" && body.winner !== "B" && body.winner !== "tie") return c.json({ error: '"winner" must be "A", "B" or "tie"' }, 400);
      label.winner = body.winner;
    }
    if (label.score !== undefined && label.winner !== undefined) return c.json({ error: 'a label has a "score" or a "winner", not both' }, 400);
    if (typeof body.note === "string" && body.note.trim() !== "") label.note = body.note.trim();
    try {
      const saved = ws.labels.append(label);
      return c.json({ label: saved, labelled: labelCount(ws) });
    } catch (error) {
      return c.json({ error: `could not write ${ws.labels.file}: ${(error as Error).message}` }, 500);
    }
  });

  app.get("/api/agreement", (c) => c.json({ agreement: ws.annotatorAgreement() ?? null }));

  app.get("/api/measure", async (c) => {
    ws.labels.refresh();
    if (labelCount(ws).total === 0) return c.json({ error: "no labels yet: label a few records, then measure" }, 409);
    try {
      const result = await metaEval({ files: ws.indexes.map((index) => index.file), names: ws.names, goldFile: ws.labels.file, bootstrap: options.bootstrap ?? 200 });
      return c.json({ html: await renderReportHtml(result), notes: result.notes, warnings: result.warnings ?? [] });
    } catch (error) {
      return c.json({ error: (error as Error).message }, 400);
    }
  });

  app.notFound((c) => c.json({ error: `no such path: ${c.req.path}` }, 404));
  app.onError((error, c) => c.json({ error: error.message }, 500));
  return app;
}

/**
 * The prompt the judge saw, rendered again from the template and rubric the judgment records
 * (judgments do not store it). Built-in templates only: a template file may have changed since.
 */
function renderedPrompt(record: RawRecord): { messages: ChatMessage[] } | { error: string } {
  const judge = record.judge as { template?: unknown; rubric?: unknown } | undefined;
  const template = judge?.template;
  if (typeof template !== "string") return { error: "the judgment records no template" };
  if (/[\\/]|\.ya?ml$/i.test(template)) return { error: `template file ${template}: not rendered here (the file may have changed since)` };
  try {
    const grader = resolveGrader({ template, ...(judge?.rubric && typeof judge.rubric === "object" ? { rubric: judge.rubric as Rubric } : {}) });
    return { messages: grader.buildMessages(record) };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

function digest(key: string): Buffer {
  return createHash("sha256").update(key).digest();
}

/** The meta-eval command that measures what the Measure tab shows, as arguments (the page quotes them). */
export function measureCommand(ws: OpenWorkspace): string[] {
  const files = ws.indexes.map((index) => index.file);
  const output = path.join(path.dirname(ws.labels.file), "meta-eval-report");
  return ["critic", "meta-eval", ...files, "--gold-file", ws.labels.file, "-o", output];
}

/** Where the queue of a query starts: the first of its rows I have not labelled (0 when all are). */
function firstUnlabelled(ws: OpenWorkspace, rows: Int32Array): number {
  const first = ws.indexes[0] as JudgmentIndex;
  const mine = ws.labels.byAnnotator.get(ws.annotator);
  if (!mine) return 0;
  for (let i = 0; i < rows.length; i++) if (!hasVerdict(mine.get(first.ids[rows[i] as number] as string))) return i;
  return 0;
}

function info(ws: OpenWorkspace) {
  ws.labels.refresh();
  return {
    files: ws.indexes.map((index, j) => ({
      name: ws.names[j],
      short: ws.shortNames[j],
      file: index.file,
      rows: index.rows,
      mode: index.mode,
      hasDistribution: index.hasDistribution,
      duplicates: index.duplicates.length,
      unreadable: index.unreadable,
      categories: index.categories.map((c) => ({ name: c.name, values: c.values })),
      matched: j === 0 ? index.rows : (ws.alignment[j] as Int32Array).reduce((n, r) => n + (r >= 0 ? 1 : 0), 0),
    })),
    alignedBy: (ws.indexes[0] as JudgmentIndex).hasIds ? "id" : "row",
    generation: ws.generation,
    scale: ws.scale,
    warnings: [...ws.warnings, ...labelFileWarnings(ws.labels)],
    measureCommand: measureCommand(ws),
    annotator: ws.annotator,
    labelsFile: ws.labels.file,
    labelProblems: ws.labels.problems.filter((p) => !p.damaged).slice(0, 20),
    labelled: labelCount(ws),
    orders: ORDERS,
  };
}

function labelCount(ws: OpenWorkspace): { mine: number; total: number; byAnnotator: Record<string, number> } {
  const byAnnotator: Record<string, number> = {};
  let total = 0;
  for (const name of ws.labels.annotators()) {
    const n = [...(ws.labels.byAnnotator.get(name)?.values() ?? [])].filter(hasVerdict).length;
    byAnnotator[name] = n;
    total += n;
  }
  return { mine: byAnnotator[ws.annotator] ?? 0, total, byAnnotator };
}

/** The query of /api/rows and the key its result is cached under (the app bumps `gen` to recompute). */
function rowQuery(c: Context<ViewEnv>): { key: string; query: RowQuery } | { error: string } {
  const q = c.req.query();
  const query: RowQuery = {};
  if (q.score) query.score = q.score;
  if (q.winner) {
    if (q.winner !== "A" && q.winner !== "B" && q.winner !== "tie") return { error: `winner filter: A, B or tie, got "${q.winner}"` };
    query.winner = q.winner;
  }
  if (q.failed === "1" || q.failed === "0") query.failed = q.failed === "1";
  if (q.labelled === "1" || q.labelled === "0") query.labelled = q.labelled === "1";
  if (q.field) {
    query.field = q.field;
    query.value = q.value ?? "";
  }
  if (q.q) query.q = q.q;
  if (q.order) {
    if (!(ORDERS as readonly string[]).includes(q.order)) return { error: `order: one of ${ORDERS.join(", ")}, got "${q.order}"` };
    query.order = q.order as Order;
  }
  if (q.seed) query.seed = Number(q.seed) | 0;
  const { offset: _o, limit: _l, ...rest } = q;
  const key = JSON.stringify(Object.entries(rest).sort(([a], [b]) => (a < b ? -1 : 1)));
  return { key, query };
}


function summaries(ws: OpenWorkspace, page: Int32Array, offset: number): RowSummary[] {
  const first = ws.indexes[0] as JudgmentIndex;
  const records = readRows(first, page);
  return Array.from(page, (row, k) => {
    const record = records[k] as RawRecord | { unreadable: string };
    const id = first.ids[row] as string;
    const texts = "unreadable" in record ? { prompt: `unreadable line: ${excerpt(record.unreadable as string)}`, response: "" } : textsOf(record);
    return {
      i: offset + k,
      row,
      id,
      line: first.lines[row] as number,
      ...texts,
      verdicts: ws.indexes.map((index, j) => {
        const r = (ws.alignment[j] as Int32Array)[row] as number;
        if (r < 0) return null;
        const score = index.scores[r] as number;
        const uncertainty = index.uncertainty[r] as number;
        return {
          score: Number.isNaN(score) ? null : score,
          winner: WINNERS[index.winners[r] as number] || null,
          failed: index.failed[r] === 1,
          uncertainty: Number.isNaN(uncertainty) ? null : Math.round(uncertainty * 1000) / 1000,
        };
      }),
      mine: ws.labels.get(ws.annotator, id) ?? null,
      labels: ws.labels.labelsOf(id).filter(hasVerdict).length,
    };
  });
}

const PROMPT_FIELDS = ["instruction", "prompt", "question", "input", "query"];
const RESPONSE_FIELDS = ["response", "output", "answer", "completion"];

/** The prompt and response(s) of a record, cut short for the table. */
function textsOf(record: RawRecord): { prompt: string; response: string; responseB?: string } {
  const text = (fields: string[]) => {
    for (const f of fields) if (typeof record[f] === "string" && record[f] !== "") return record[f] as string;
    return undefined;
  };
  let prompt = text(PROMPT_FIELDS);
  const messages = record.messages ?? record.messages_a;
  if (prompt === undefined && Array.isArray(messages)) {
    const users = messages.filter((m) => (m as { role?: unknown })?.role === "user");
    const last = users[users.length - 1] as { content?: unknown } | undefined;
    if (typeof last?.content === "string") prompt = last.content;
  }
  if (typeof record.response_a === "string" || typeof record.response_b === "string") {
    return { prompt: excerpt(prompt ?? ""), response: excerpt(String(record.response_a ?? "")), responseB: excerpt(String(record.response_b ?? "")) };
  }
  return { prompt: excerpt(prompt ?? ""), response: excerpt(text(RESPONSE_FIELDS) ?? "") };
}

function excerpt(text: string): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > EXCERPT ? `${flat.slice(0, EXCERPT)}…` : flat;
}
