/**
 * MT-Bench and Arena-Hard templates against their sources: the FastChat prompt texts are compared
 * with ../shared/data/fastchat_mtbench/judge_prompts.jsonl, and every rendering of the 80 MT-Bench
 * questions (single and pairwise, one turn and two, with GPT-4's reference answers where FastChat
 * uses them) must equal FastChat's own `prompt_template.format(...)` byte for byte.
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { ARENA_HARD_SHA256 } from "./arena-hard.js";
import { getTemplate } from "./registry.js";
import { renderPrompt } from "./render.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const dataDir = path.resolve(repoRoot, "../shared/data/fastchat_mtbench");
const jsonl = <T>(file: string): T[] => fs.readFileSync(path.join(dataDir, file), "utf8").trim().split("\n").map((l) => JSON.parse(l) as T);

interface JudgePrompt { name: string; system_prompt: string; prompt_template: string }
interface Question { question_id: number; category: string; turns: string[] }
interface Reference { question_id: number; choices: Array<{ turns: string[] }> }

const prompts = new Map(jsonl<JudgePrompt>("judge_prompts.jsonl").map((p) => [p.name, p]));
const questions = jsonl<Question>("mt_bench_question.jsonl");
const references = new Map(jsonl<Reference>("mt_bench_reference_answer_gpt-4.jsonl").map((r) => [r.question_id, r.choices[0]!.turns]));
/** FastChat judges these categories against the reference answer (NEED_REF_CATS in common.py). */
const NEED_REF = new Set(["math", "reasoning", "coding"]);

/** Python's str.format for templates without literal braces. */
const format = (template: string, values: Record<string, string>): string =>
  template.replace(/\{(\w+)\}/g, (_, name: string) => {
    if (!(name in values)) throw new Error(`no value for {${name}}`);
    return values[name]!;
  });

const answer = (q: Question, side: string, turn: number) => `Answer ${side}${turn} to question ${q.question_id}: {braces} stay literal.`;

function expected(name: string, values: Record<string, string>) {
  const p = prompts.get(name)!;
  return [{ role: "system", content: p.system_prompt }, { role: "user", content: format(p.prompt_template, values) }];
}

describe("mt-bench templates are FastChat's judge prompts, byte for byte", () => {
  it("the eight prompt texts equal judge_prompts.jsonl", () => {
    const single = getTemplate("mt-bench");
    const pair = getTemplate("mt-bench-pairwise");
    const texts: Array<[string, { system?: string; user: string } | undefined]> = [
      ["single-v1", single], ["single-math-v1", single.variants?.reference], ["single-v1-multi-turn", single.variants?.multiTurn], ["single-math-v1-multi-turn", single.variants?.multiTurnReference],
      ["pair-v2", pair], ["pair-math-v1", pair.variants?.reference], ["pair-v2-multi-turn", pair.variants?.multiTurn], ["pair-math-v1-multi-turn", pair.variants?.multiTurnReference],
    ];
    for (const [name, text] of texts) {
      expect(text?.system, name).toBe(prompts.get(name)!.system_prompt);
      expect(text?.user, name).toBe(prompts.get(name)!.prompt_template);
    }
  });

  it("renders all 80 questions as FastChat does: single and pairwise, turn 1 and the two-turn conversation", () => {
    let checked = 0;
    for (const q of questions) {
      const ref = NEED_REF.has(q.category) ? references.get(q.question_id) : undefined;
      const math = ref !== undefined;
      const [q1, q2] = q.turns as [string, string];
      // Turn 1: instruction/response records.
      const single = renderPrompt(getTemplate("mt-bench"), { instruction: q1, response: answer(q, "", 1), ...(math ? { reference_answer: ref[0] } : {}) });
      expect(single).toEqual(expected(math ? "single-math-v1" : "single-v1", { question: q1, answer: answer(q, "", 1), ...(math ? { ref_answer_1: ref[0]! } : {}) }));
      const pair = renderPrompt(getTemplate("mt-bench-pairwise"), { instruction: q1, response_a: answer(q, "a", 1), response_b: answer(q, "b", 1), ...(math ? { reference_answer: ref[0] } : {}) });
      expect(pair).toEqual(expected(math ? "pair-math-v1" : "pair-v2", { question: q1, answer_a: answer(q, "a", 1), answer_b: answer(q, "b", 1), ...(math ? { ref_answer_1: ref[0]! } : {}) }));
      // Turn 2: conversation records.
      const chat = (side: string) => [
        { role: "user", content: q1 }, { role: "assistant", content: answer(q, side, 1) },
        { role: "user", content: q2 }, { role: "assistant", content: answer(q, side, 2) },
      ];
      const refs: Record<string, string> = math ? { ref_answer_1: ref[0]!, ref_answer_2: ref[1]! } : {};
      const multi = renderPrompt(getTemplate("mt-bench"), { messages: chat(""), ...(math ? { reference_answer: ref } : {}) });
      expect(multi).toEqual(expected(math ? "single-math-v1-multi-turn" : "single-v1-multi-turn", { question_1: q1, question_2: q2, answer_1: answer(q, "", 1), answer_2: answer(q, "", 2), ...refs }));
      const multiPair = renderPrompt(getTemplate("mt-bench-pairwise"), { messages_a: chat("a"), messages_b: chat("b"), ...(math ? { reference_answer: ref } : {}) });
      expect(multiPair).toEqual(expected(math ? "pair-math-v1-multi-turn" : "pair-v2-multi-turn", {
        question_1: q1, question_2: q2, answer_a_1: answer(q, "a", 1), answer_a_2: answer(q, "a", 2), answer_b_1: answer(q, "b", 1), answer_b_2: answer(q, "b", 2), ...refs,
      }));
      checked += 4;
    }
    expect(checked).toBe(320);
  });

  it("a conversation of another length, or a multi-turn reference given as one text, is refused with the field named", () => {
    const three = [1, 2, 3].flatMap((i) => [{ role: "user", content: `q${i}` }, { role: "assistant", content: `a${i}` }]);
    expect(() => renderPrompt(getTemplate("mt-bench"), { messages: three })).toThrow(/field "messages": its multi-turn prompt holds two user turns, this conversation has 3/);
    const two = three.slice(0, 4);
    expect(() => renderPrompt(getTemplate("mt-bench"), { messages: two, reference_answer: "only one" })).toThrow(/missing field "reference_answer" \(turn 2/);
    expect(() => renderPrompt(getTemplate("mt-bench"), { messages: [{ role: "user", content: "q" }] })).toThrow(/must end with the assistant turn/);
  });
});

describe("arena-hard template", () => {
  it("is Arena-Hard-Auto's OG prompt and v2.0 prompt_template (sha256 of the texts at the cited commit)", () => {
    const t = getTemplate("arena-hard");
    const sha = (s: string) => createHash("sha256").update(s).digest("hex");
    expect(sha(t.system!)).toBe(ARENA_HARD_SHA256.system);
    expect(sha(t.user)).toBe(ARENA_HARD_SHA256.user);
    expect(ARENA_HARD_SHA256).toEqual({
      system: "03f68010febd7a6405102ef882b4dd5a9700c56b2e1ff286d3b38f5d3a929bbf",
      user: "80fb20ab2eaae6d38a19f707f3f051f0456bcb977b0086bebe15f9bd23ce45f8",
    });
    const [system, user] = renderPrompt(t, { instruction: "Q?", response_a: "first", response_b: "second" });
    expect(system).toEqual({ role: "system", content: t.system });
    expect(user!.content).toBe("<|User Prompt|>\nQ?\n\n<|The Start of Assistant A's Answer|>\nfirst\n<|The End of Assistant A's Answer|>\n\n<|The Start of Assistant B's Answer|>\nsecond\n<|The End of Assistant B's Answer|>");
  });
});

describe("conversations under the other templates", () => {
  it("prometheus and criticon judge the last assistant turn with the conversation before it as the instruction", () => {
    const messages = [
      { role: "system", content: "be brief" },
      { role: "user", content: "What is 2+2?" }, { role: "assistant", content: "4" },
      { role: "user", content: "And times 3?" }, { role: "assistant", content: "12" },
    ];
    const user = renderPrompt(getTemplate("criticon"), { messages })[1]!.content;
    expect(user).toContain("### Instruction:\n### User:\nWhat is 2+2?\n\n### Assistant:\n4\n\n### User:\nAnd times 3?\n\n### Response:\n12\n\n### Feedback:\n");
    const pair = renderPrompt(getTemplate("prometheus-pairwise"), {
      messages_a: messages, messages_b: [...messages.slice(0, 4), { role: "assistant", content: "13" }], criteria: "Is it correct?",
    })[1]!.content;
    expect(pair).toContain("###Response A:\n12\n\n###Response B:\n13");
    expect(pair).toContain("###Instruction:\n### User:\nWhat is 2+2?");
    expect(() => renderPrompt(getTemplate("prometheus-pairwise"), { messages_a: messages, messages_b: messages.slice(0, 3).concat([{ role: "user", content: "other" }, { role: "assistant", content: "x" }]), criteria: "c" }))
      .toThrow(/field "messages_b": the two conversations must have the same user turns/);
  });
});
