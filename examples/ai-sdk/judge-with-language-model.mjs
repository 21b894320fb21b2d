// Any AI SDK language model as a critic judge: here Anthropic's, through @ai-sdk/anthropic.
//   ANTHROPIC_API_KEY=… node examples/ai-sdk/judge-with-language-model.mjs
// The same works with google("gemini-…"), mistral(…), bedrock(…), or a jury: model: [a, b].
import { anthropic } from "@ai-sdk/anthropic";
import { judgeRecords } from "critic";

const records = [
  { instruction: "What is 2+2?", response: "4" },
  { instruction: "Name a prime number.", response: "9" },
];
let failed = 0;
for await (const j of judgeRecords(records, { model: anthropic(process.env.CRITIC_ANTHROPIC_MODEL ?? "claude-haiku-4-5"), rubric: "helpfulness" })) {
  if (j.error) failed++;
  console.log(JSON.stringify({ response: j.response, score: j.score, feedback: j.feedback, error: j.error }));
}
process.exitCode = failed > 0 ? 1 : 0;
