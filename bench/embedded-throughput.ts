/**
 * The embedded backend against llama.cpp's own speed, on a model with the shape of a real small
 * judge: a random-weight llama with Qwen2.5-0.5B's dimensions (896 wide, 24 blocks, 14 heads, 2 KV
 * heads, FFN 4864), Q8_0 weights and the public 32k SentencePiece vocabulary of
 * ../shared/models/llama-2-tiny-random.gguf. Its scores mean nothing; its speed is a real model's.
 *
 * For each parallelism, the same Criticon-template records are judged by critic (prefix reuse on and
 * off) and by a bare node-llama-cpp loop (sequence.evaluate on the same prompt tokens, then as many
 * greedy tokens as critic generated, no critic code), and the figures are printed with their ratios
 * measured in the same run.
 *
 *   npm run bench:build && node build/bench/embedded-throughput.js [records] [parallel...] [--max-tokens n] [--threads n] [--shape 0.5b|tiny]
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getLlama, LlamaChat, type Token } from "node-llama-cpp";
import { createEmbeddedBackend, defaultThreads } from "../src/backends/embedded.js";
import { judge } from "../src/judge/judge.js";
import { resolveGrader } from "../src/judge/grader.js";
import { benchModel } from "./bench-model.js";

const args = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const at = args.indexOf(name);
  return at >= 0 ? args.splice(at, 2)[1] : undefined;
};
const maxTokens = Number(flag("--max-tokens") ?? 24);
const threadsFlag = flag("--threads");
const threads = threadsFlag === undefined ? undefined : Number(threadsFlag);
const shape = flag("--shape") ?? "0.5b";
const records = Number(args[0] ?? 4);
const parallels = args.length > 1 ? args.slice(1).map(Number) : [1, 4];

const { path: modelPath } = await benchModel(shape);
// One thread count for critic and the bare loop, chosen once: critic's own default (the idle cores)
// unless --threads says. node-llama-cpp's default (every math core) collapses on a busy machine while
// critic's choice does not, and then the ratio measured the thread counts, not critic.
const sameThreads = threads ?? defaultThreads().value;

const dir = mkdtempSync(join(tmpdir(), "critic-throughput-"));
const input = join(dir, "input.jsonl");
const rows = Array.from({ length: records }, (_, i) => ({ instruction: `Question ${i}: explain why the sky looks blue during the day and red at sunset.`, response: `Because of Rayleigh scattering of sunlight by the air; answer number ${i}.` }));
writeFileSync(input, rows.map((r) => JSON.stringify(r)).join("\n"));
const grader = resolveGrader({ template: "criticon" });

console.log(`model ${modelPath} (${shape}), ${records} records (criticon), ${maxTokens} tokens each, threads ${sameThreads} for critic and the bare loop (${threads !== undefined ? "--threads" : "critic's default: the idle cores"})`);
const results: Array<{ parallel: number; reuse: boolean; promptTps: number; completionTps: number; jps: number; completion: number }> = [];
for (const parallel of parallels) {
  for (const reuse of [false, true]) {
    const backend = await createEmbeddedBackend({ modelPath, parallel, gpu: false, threads: sameThreads, contextSize: 1024, prefixReuse: reuse });
    if (parallel === parallels[0] && !reuse) console.log(backend.settings);
    const started = performance.now();
    let cached = 0;
    const inner = backend.generate.bind(backend);
    // Count the prompt tokens served from kept state, to report the evaluated ones.
    (backend as { generate: typeof inner }).generate = async (request) => {
      const result = await inner(request);
      cached += result.usage.cachedPromptTokens ?? 0;
      return result;
    };
    const summary = await judge({ input, output: join(dir, `out-${parallel}-${reuse}.jsonl`), model: backend, template: "criticon", params: { maxTokens }, store: join(dir, `s-${parallel}-${reuse}.sqlite`), progress: false, distributions: false, maxRetries: 0 });
    const seconds = (performance.now() - started) / 1000;
    await backend.dispose();
    results.push({ parallel, reuse, promptTps: (summary.promptTokens - cached) / seconds, completionTps: summary.completionTokens / seconds, jps: (summary.judged + summary.failed) / seconds, completion: summary.completionTokens });
    console.log(`critic   parallel ${parallel} reuse ${reuse ? "on " : "off"}: ${((summary.judged + summary.failed) / seconds).toFixed(3)} judgments/s, ${(summary.promptTokens - cached)} prompt tokens evaluated (${cached} reused), ${((summary.promptTokens - cached) / seconds).toFixed(0)} prompt tokens/s, ${(summary.completionTokens / seconds).toFixed(1)} completion tokens/s, ${seconds.toFixed(1)} s`);
  }

  // The limit: node-llama-cpp alone. The same prompt tokens, then as many greedy tokens per record as critic made.
  const llama = await getLlama({ gpu: false });
  const model = await llama.loadModel({ modelPath });
  const context = await model.createContext({ sequences: parallel, contextSize: 1024, threads: sameThreads });
  const perRecord = Math.round((results.find((r) => r.parallel === parallel && !r.reuse)!.completion) / records);
  const started = performance.now();
  let promptCount = 0;
  let generated = 0;
  const queue = rows.map((r) => r);
  await Promise.all(Array.from({ length: parallel }, async () => {
    const sequence = context.getSequence();
    const chat = new LlamaChat({ contextSequence: sequence, autoDisposeSequence: false });
    for (let row = queue.shift(); row; row = queue.shift()) {
      const messages = grader.buildMessages(row);
      const history = [
        ...messages.filter((m) => m.role === "system").map((m) => ({ type: "system" as const, text: m.content })),
        { type: "user" as const, text: messages.at(-1)!.content },
        { type: "model" as const, response: [] as string[] },
      ];
      const tokens: Token[] = chat.chatWrapper.generateContextState({ chatHistory: history }).contextText.tokenize(model.tokenizer);
      promptCount += tokens.length;
      let n = 0;
      for await (const _token of sequence.evaluate(tokens, { temperature: 0 })) {
        if (++n >= perRecord) break;
      }
      generated += n;
      await sequence.clearHistory();
    }
    chat.dispose();
    sequence.dispose();
  }));
  const seconds = (performance.now() - started) / 1000;
  await context.dispose();
  await model.dispose();
  const bare = { promptTps: promptCount / seconds, completionTps: generated / seconds, jps: records / seconds };
  console.log(`bare     parallel ${parallel}:           ${bare.jps.toFixed(3)} records/s, ${promptCount} prompt tokens, ${bare.promptTps.toFixed(0)} prompt tokens/s, ${bare.completionTps.toFixed(1)} completion tokens/s, ${seconds.toFixed(1)} s`);
  for (const r of results.filter((x) => x.parallel === parallel)) {
    console.log(`  ratio critic/bare, reuse ${r.reuse ? "on " : "off"}: judgments/s ${(r.jps / bare.jps).toFixed(2)}x`);
  }
  const off = results.find((x) => x.parallel === parallel && !x.reuse)!;
  const on = results.find((x) => x.parallel === parallel && x.reuse)!;
  console.log(`  prefix reuse on/off at parallel ${parallel}: ${(on.jps / off.jps).toFixed(2)}x judgments/s`);
}
const base = results.find((r) => r.parallel === parallels[0] && !r.reuse)!;
for (const r of results.filter((x) => !x.reuse)) console.log(`parallel ${r.parallel} vs ${base.parallel} (reuse off): ${(r.jps / base.jps).toFixed(2)}x judgments/s`);
