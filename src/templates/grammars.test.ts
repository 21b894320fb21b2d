/**
 * The output grammars, run for real: a tiny random llama GGUF generates under each grammar with
 * node-llama-cpp on the CPU, and the matching parser must read every output. Random weights make
 * the feedback gibberish, which is the point: only the grammar makes the output parse.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { getLlama, LlamaChatSession, type Llama, type LlamaContext, type LlamaModel } from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getParser } from "../parse/index.js";
import { grammarFor, jsonSchemaFor } from "./grammars.js";
import { builtinTemplateNames, getTemplate } from "./registry.js";
import { renderPrompt } from "./render.js";
import type { OutputFormat, Scale } from "./types.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const modelPath = path.resolve(repoRoot, "../shared/models/llama-2-tiny-random.gguf");

describe("grammarFor", () => {
  it("writes the verdict shape of each format", () => {
    expect(grammarFor("pairwise", { maxFeedbackChars: 10 })).toBe(
      'root ::= feedback " [RESULT] " winner\nwinner ::= "A" | "B"\nfeedback ::= fchar{1,10}\nfchar ::= [^\\[\\]]\n',
    );
    expect(grammarFor("score", { scale: { min: 1, max: 10 } })).toContain('root ::= feedback " [SCORE] " score\nscore ::= "1" | "2" | "3" | "4" | "5" | "6" | "7" | "8" | "9" | "10"\n');
    expect(grammarFor("autoj", { scale: { min: 1, max: 10 } })).toContain('root ::= feedback "\\n\\nRating: [[" score "]]"');
  });

  it("refuses an absolute format without a scale and a bad bound", () => {
    expect(() => grammarFor("result")).toThrow(/needs a scale/);
    expect(() => grammarFor("pairwise", { maxFeedbackChars: 0 })).toThrow(/maxFeedbackChars/);
    expect(() => grammarFor("result", { scale: { min: 5, max: 1 } })).toThrow(/invalid scale/);
  });

  it("has a JSON schema twin for structured-output backends", () => {
    expect(jsonSchemaFor("result", { min: 1, max: 5 })).toMatchObject({ properties: { score: { minimum: 1, maximum: 5 } } });
    expect(jsonSchemaFor("pairwise")).toMatchObject({ properties: { winner: { enum: ["A", "B"] } } });
    expect(jsonSchemaFor("mt-bench-pairwise")).toMatchObject({ properties: { winner: { enum: ["A", "B", "tie"] } } });
    expect(jsonSchemaFor("arena-hard")).toMatchObject({ properties: { verdict: { enum: ["A>>B", "A>B", "A=B", "B>A", "B>>A"] } } });
  });
});

describe("grammars constrain a real llama.cpp model", () => {
  let llama: Llama;
  let model: LlamaModel;
  let context: LlamaContext;
  let session: LlamaChatSession;

  beforeAll(async () => {
    llama = await getLlama({ gpu: false });
    model = await llama.loadModel({ modelPath });
    context = await model.createContext({ contextSize: 2048, sequences: 1 });
    session = new LlamaChatSession({ contextSequence: context.getSequence() });
  });

  afterAll(async () => {
    session?.dispose();
    await context?.dispose();
    await model?.dispose();
    await llama?.dispose();
  });

  it("every built-in template's grammar compiles in llama.cpp", async () => {
    for (const name of builtinTemplateNames()) {
      await expect(llama.createGrammar({ grammar: getTemplate(name).gbnf })).resolves.toBeDefined();
    }
  });

  it("feedback bounds past llama.cpp's repetition limit compile as a chain", async () => {
    const grammar = grammarFor("pairwise", { maxFeedbackChars: 5000 });
    expect(grammar).toContain("feedback ::= fchar{1,1999} | fblock feedback1");
    expect(grammar).toContain("feedback1 ::= fchar{1,1999} | fblock feedback2");
    expect(grammar).toContain("feedback2 ::= fchar{1,1002}");
    await expect(llama.createGrammar({ grammar })).resolves.toBeDefined();
  });

  const cases: { format: OutputFormat; scale?: Scale; template: string; record: Record<string, string> }[] = [
    { format: "result", scale: { min: 1, max: 5 }, template: "prometheus-absolute", record: { instruction: "What is 2+2?", response: "5", criteria: "Is it correct?", score1_description: "a", score2_description: "b", score3_description: "c", score4_description: "d", score5_description: "e" } },
    { format: "score", scale: { min: 1, max: 10 }, template: "criticon", record: { instruction: "Greet me.", response: "Hello!" } },
    { format: "pairwise", template: "prometheus-pairwise", record: { instruction: "Name a prime.", response_a: "7", response_b: "8", criteria: "Is it prime?" } },
    { format: "autoj", scale: { min: 1, max: 10 }, template: "criticon", record: { instruction: "Greet me.", response: "Hello!" } },
    { format: "mt-bench", scale: { min: 1, max: 10 }, template: "mt-bench", record: { instruction: "Greet me.", response: "Hello!" } },
    { format: "mt-bench-pairwise", template: "mt-bench-pairwise", record: { instruction: "Name a prime.", response_a: "7", response_b: "8" } },
    { format: "arena-hard", template: "arena-hard", record: { instruction: "Name a prime.", response_a: "7", response_b: "8" } },
    { format: "selene", scale: { min: 1, max: 5 }, template: "selene", record: { instruction: "What is 2+2?", response: "5", criteria: "Is it correct?", score1_description: "a", score2_description: "b", score3_description: "c", score4_description: "d", score5_description: "e" } },
    { format: "flow-judge", scale: { min: 1, max: 3 }, template: "flow-judge-correctness-3point", record: { instruction: "What is 2+2?", response: "5", reference_answer: "4" } },
    { format: "autoj", scale: { min: 1, max: 10 }, template: "autoj", record: { instruction: "Greet me.", response: "Hello!" } },
    { format: "autoj-pairwise", template: "autoj-pairwise", record: { instruction: "Name a prime.", response_a: "7", response_b: "8" } },
    { format: "judgelm", scale: { min: 1, max: 10 }, template: "judgelm", record: { instruction: "Name a prime.", response_a: "7", response_b: "8" } },
    { format: "pandalm", template: "pandalm", record: { instruction: "Name a prime.", response_a: "7", response_b: "8" } },
    { format: "alpaca-eval", template: "alpaca-eval", record: { instruction: "Name a prime.", response_a: "7", response_b: "8" } },
    { format: "alpaca-eval-logprob", template: "alpaca-eval-weighted", record: { instruction: "Name a prime.", response_a: "7", response_b: "8" } },
    { format: "rm-r1", template: "rm-r1", record: { instruction: "Name a prime.", response_a: "7", response_b: "8" } },
    { format: "selene-pairwise", template: "selene-pairwise", record: { instruction: "Name a prime.", response_a: "7", response_b: "8", criteria: "Is it prime?" } },
  ];

  it("a reasoning judge's output: a bounded <think> block, then a verdict that parses", async () => {
    const grammar = await llama.createGrammar({ grammar: grammarFor("rm-r1", { maxFeedbackChars: 20, reasoningChars: 30 }) });
    const [user] = renderPrompt(getTemplate("rm-r1-reasoning"), { instruction: "Name a prime.", response_a: "7", response_b: "8" });
    session.setChatHistory([]);
    const text = await session.prompt(user!.content, { grammar, maxTokens: 80, temperature: 1, seed: 1 });
    expect(text).toContain("</think>");
    expect(text.indexOf("</think>")).toBeLessThanOrEqual("<think>".length + 30);
    expect(getParser("rm-r1")(text), text).toMatchObject({ ok: true });
  });

  it.each(cases)("$format output from a $template prompt always parses", async ({ format, scale, template, record }) => {
    const grammar = await llama.createGrammar({ grammar: grammarFor(format, { scale, maxFeedbackChars: 40 }) });
    const messages = renderPrompt(getTemplate(template), record);
    const user = messages.at(-1)!;
    const system = messages.length > 1 ? messages[0] : undefined;
    const parse = getParser(format, scale);
    session.setChatHistory(system ? [{ type: "system", text: system.content }] : []);
    const text = await session.prompt(user!.content, { grammar, maxTokens: 60, temperature: 1, seed: 1 });
    const result = parse(text);
    expect(result, text).toMatchObject({ ok: true });
    if (result.ok) expect(result.feedback).not.toContain("[");
    if (result.ok && "score" in result) {
      expect(result.score).toBeGreaterThanOrEqual(scale!.min);
      expect(result.score).toBeLessThanOrEqual(scale!.max);
    }
  });
});
