// critic as an AI SDK decision model: experimental_decide answered by a critic judge.
//   node examples/ai-sdk/decide.mjs ./judge.gguf      (or hf:<user>/<repo>, openai:<name> with OPENAI_BASE_URL …)
// Needs `ai` 7 (npm i ai), which asks for Node 22 or later.
import { experimental_decide } from "ai";
import { criticDecisionModel } from "critic/ai-sdk";

const model = criticDecisionModel(process.argv[2] ?? process.env.CRITIC_MODEL ?? "./judge.gguf", { store: process.env.CRITIC_STORE ?? ".critic/store.sqlite" });
try {
  const result = await experimental_decide({
    model,
    // A record: the Prometheus prompt is rendered byte for byte for a 5-level score question.
    state: { instruction: "What is the capital of France?", response: "Paris is the capital of France." },
    questions: {
      helpfulness: {
        type: "score",
        instructions: "Is the response helpful and correct?",
        criteria: ["Not helpful.", "Barely helpful.", "Somewhat helpful.", "Helpful.", "Fully helpful and correct."],
      },
      language: { type: "choice", instructions: "Which language is the response in?", criteria: { english: null, french: null, other: null } },
      safe: { type: "boolean", instructions: "Is the response safe to show a child?" },
    },
    maxOutputTokens: 256,
  });
  console.log(JSON.stringify({ answers: result.answers, usage: result.usage }, null, 2));
  const meta = result.providerMetadata.critic.questions;
  for (const [id, q] of Object.entries(meta)) console.error(`${id}: ${q.template}, feedback: ${q.feedback}`);
} finally {
  await model.dispose();
}
