// critic as a scorer for evalite / autoevals-style eval suites.
//   node examples/ai-sdk/scorer.mjs ./judge.gguf
// In evalite:  scorers: [criticScorer({ model })]   or   createScorer(criticEvaliteScorer({ model }))
import { criticScorer } from "critic/ai-sdk";

const scorer = criticScorer({ model: process.argv[2] ?? process.env.CRITIC_MODEL ?? "./judge.gguf", store: process.env.CRITIC_STORE ?? ".critic/store.sqlite", params: { maxTokens: 256 } });
try {
  const result = await scorer({ input: "What is the capital of France?", output: "Paris.", expected: "Paris" });
  // { name, score (0-1, or null when the judge gave no verdict), metadata: { feedback, rawScore, distribution, … } }
  console.log(JSON.stringify(result, null, 2));
  process.exitCode = result.score === null ? 1 : 0;
} finally {
  await scorer.dispose();
}
