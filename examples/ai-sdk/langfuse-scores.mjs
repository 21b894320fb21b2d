// Judge generations already traced in Langfuse and send the verdicts there as scores, through
// Langfuse's public API (POST /api/public/scores), with plain fetch.
//   LANGFUSE_PUBLIC_KEY=pk-lf-… LANGFUSE_SECRET_KEY=sk-lf-… LANGFUSE_BASEURL=https://cloud.langfuse.com \
//   ANTHROPIC_API_KEY=… node examples/ai-sdk/langfuse-scores.mjs anthropic:claude-haiku-4-5
// The judge is what --model takes (anthropic:<id>, openai:<name>, ./judge.gguf …). Each record names
// its Langfuse trace (trace_id) and, optionally, the observation judged (observation_id). Exits 1 when
// a record got no score or Langfuse refused one; the keys are never printed.
import { judgeRecords, langfuseScoreOf } from "critic";

const baseURL = (process.env.LANGFUSE_BASEURL ?? process.env.LANGFUSE_HOST ?? "https://cloud.langfuse.com").replace(/\/+$/, "");
const publicKey = process.env.LANGFUSE_PUBLIC_KEY;
const secretKey = process.env.LANGFUSE_SECRET_KEY;
if (!publicKey || !secretKey) {
  console.error("set LANGFUSE_PUBLIC_KEY and LANGFUSE_SECRET_KEY (the project's API keys)");
  process.exit(2);
}
const authorization = `Basic ${Buffer.from(`${publicKey}:${secretKey}`).toString("base64")}`;
// A server's error text, without either key should it echo a header back.
const redact = (text) => text.split(secretKey).join("***").split(publicKey).join("***");

// In practice: read from your traces (GET /api/public/traces) or your app's logs.
const records = [
  { trace_id: "trace-capital-fr", observation_id: "gen-capital-fr", instruction: "What is the capital of France?", response: "Paris is the capital of France." },
  { trace_id: "trace-prime", observation_id: "gen-prime", instruction: "Name a prime number.", response: "9" },
  { trace_id: "trace-haiku", instruction: "Write a haiku about autumn.", response: "Leaves fall, the wind sighs; / a cold moon over bare trees; / geese call, going south." },
];

/** Sends one score; resolves to Langfuse's id for it, or throws with the reason. */
async function sendScore(score) {
  let response;
  try {
    response = await fetch(`${baseURL}/api/public/scores`, {
      method: "POST",
      headers: { authorization, "content-type": "application/json" },
      body: JSON.stringify(score),
    });
  } catch (error) {
    throw new Error(`cannot reach ${baseURL}: ${error.cause?.message ?? error.message}`);
  }
  const text = await response.text();
  if (!response.ok) throw new Error(`HTTP ${response.status}: ${redact(text).slice(0, 300)}`);
  try {
    return JSON.parse(text).id;
  } catch {
    throw new Error(`HTTP ${response.status} without a JSON body: ${redact(text).slice(0, 300)}`);
  }
}

let failed = 0;
for await (const judgment of judgeRecords(records, { model: process.argv[2] ?? process.env.CRITIC_MODEL ?? "anthropic:claude-haiku-4-5", rubric: "helpfulness" })) {
  const result = langfuseScoreOf(judgment, { traceField: "trace_id", observationField: "observation_id" });
  if (!result.ok) {
    failed++;
    console.error(`${judgment.trace_id}: no score sent: ${result.reason}`);
    continue;
  }
  try {
    const id = await sendScore(result.score);
    console.log(JSON.stringify({ id, traceId: result.score.traceId, name: result.score.name, value: result.score.value }));
  } catch (error) {
    failed++;
    console.error(`${result.score.traceId}: Langfuse did not take the score: ${error.message}`);
  }
}
process.exitCode = failed > 0 ? 1 : 0;
