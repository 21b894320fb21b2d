/**
 * A real HTTP server on 127.0.0.1 speaking Langfuse's score-create API (POST /api/public/scores,
 * HTTP Basic auth with the project's public and secret keys, a CreateScoreRequest body answered with
 * `{ id }`), for code that sends scores to Langfuse. The hosted service cannot be called here.
 * Bodies that Langfuse would refuse get its 400; wrong keys get its 401. Every accepted score is kept.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { randomUUID } from "node:crypto";

export interface LangfuseScoreBody {
  id?: string;
  traceId?: string;
  observationId?: string;
  sessionId?: string;
  name: string;
  value: number | string;
  dataType?: "NUMERIC" | "CATEGORICAL" | "BOOLEAN";
  comment?: string;
  metadata?: Record<string, unknown>;
}

export interface LangfuseServer {
  url: string;
  /** Scores accepted, in order, by id (a score sent again with the same id replaces the first). */
  scores: Map<string, LangfuseScoreBody>;
  /** Every request's Authorization header and status answered. */
  requests: Array<{ authorization: string | undefined; status: number }>;
  close(): Promise<void>;
}

const DATA_TYPES = new Set(["NUMERIC", "CATEGORICAL", "BOOLEAN"]);

/** Why Langfuse would refuse this body, or undefined. */
function invalid(body: unknown): string | undefined {
  if (body === null || typeof body !== "object" || Array.isArray(body)) return "body must be an object";
  const b = body as Record<string, unknown>;
  if (typeof b.name !== "string" || b.name === "") return "name: required string";
  if (typeof b.value !== "number" && typeof b.value !== "string") return "value: number or string";
  if (b.traceId === undefined && b.sessionId === undefined && b.datasetRunId === undefined) return "one of traceId, sessionId, datasetRunId is required";
  for (const f of ["id", "traceId", "observationId", "comment"]) if (b[f] !== undefined && typeof b[f] !== "string") return `${f}: string`;
  if (b.dataType !== undefined && !DATA_TYPES.has(b.dataType as string)) return "dataType: NUMERIC, CATEGORICAL or BOOLEAN";
  if (b.dataType === "NUMERIC" && typeof b.value !== "number") return "value: a NUMERIC score's value is a number";
  if (b.dataType === "CATEGORICAL" && typeof b.value !== "string") return "value: a CATEGORICAL score's value is a string";
  return undefined;
}

export async function startLangfuseServer(keys: { publicKey: string; secretKey: string }): Promise<LangfuseServer> {
  const scores = new Map<string, LangfuseScoreBody>();
  const requests: LangfuseServer["requests"] = [];
  const expected = `Basic ${Buffer.from(`${keys.publicKey}:${keys.secretKey}`).toString("base64")}`;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const reply = (status: number, value: unknown) => {
        requests.push({ authorization: req.headers.authorization, status });
        res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(value));
      };
      if (req.method !== "POST" || req.url !== "/api/public/scores") return reply(404, { message: `no route ${req.method} ${req.url}` });
      if (req.headers.authorization !== expected) return reply(401, { message: "Invalid credentials. Confirm that you've configured the correct host." });
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      } catch {
        return reply(400, { message: "Invalid request data", error: "body is not JSON" });
      }
      const why = invalid(body);
      if (why) return reply(400, { message: "Invalid request data", error: why });
      const score = body as LangfuseScoreBody;
      const id = score.id ?? randomUUID();
      scores.set(id, score);
      reply(200, { id });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    scores,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
