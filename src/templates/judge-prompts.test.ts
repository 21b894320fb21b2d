/**
 * Templates added from their authors' repositories, rendered back against the authors' own texts.
 * The fixtures under test/fixtures/judge-prompts/ hold each prompt as it is in the cited file at
 * the cited commit (extracted from that file, not retyped); each template, filled with a record,
 * must equal the authors' text filled as their code fills it (Python str.format), byte for byte.
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { getTemplate } from "./registry.js";
import { renderPrompt } from "./render.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

interface Fixture {
  source: { repository: string; commit: string; path: string };
  prompts: Record<string, string>;
}

function fixture(name: string): Fixture {
  return JSON.parse(fs.readFileSync(path.join(repoRoot, "test/fixtures/judge-prompts", `${name}.json`), "utf8")) as Fixture;
}

/** Python's str.format: {name} filled, {{ and }} literal braces. */
function pyFormat(template: string, values: Record<string, string>): string {
  return template.replace(/\{\{|\}\}|\{(\w+)\}/g, (whole, name: string | undefined) => {
    if (name === undefined) return whole[0]!;
    if (!(name in values)) throw new Error(`no value for {${name}}`);
    return values[name]!;
  });
}

/** Values with braces and markers in them: they must come through as they are. */
const INSTRUCTION = "Summarise the memo {in one line}.";
const RESPONSE = "The memo asks for [RESULT] 5 and {braces}.";
const CONTEXT = "Memo: budgets are due Friday.\n\nSecond paragraph.";

describe("prometheus RAG forms (###Relevant Context:) for records with a context", () => {
  const source = fixture("prometheus-rag");
  it("cites the file and commit the texts came from", () => {
    expect(source.source).toEqual({ repository: "prometheus-eval/prometheus-eval", commit: "62a85d118c497d17c1dddf1dbe61de1a77812fc9", path: "libs/prometheus-eval/prometheus_eval/prompts.py" });
  });

  it("absolute: ABSOLUTE_PROMPT_WO_REF_RAG with the rubric in SCORE_RUBRIC_TEMPLATE layout", () => {
    const rubric = { criteria: "Is it faithful to the memo?", score1_description: "a", score2_description: "b", score3_description: "c", score4_description: "d", score5_description: "e" };
    const messages = renderPrompt(getTemplate("prometheus-absolute"), { instruction: INSTRUCTION, response: RESPONSE, context: CONTEXT }, rubric);
    const rubricText = "[Is it faithful to the memo?]\nScore 1: a\nScore 2: b\nScore 3: c\nScore 4: d\nScore 5: e";
    expect(messages).toEqual([
      { role: "system", content: source.prompts.ABS_SYSTEM_PROMPT },
      { role: "user", content: pyFormat(source.prompts.ABSOLUTE_PROMPT_WO_REF_RAG!, { instruction: INSTRUCTION, response: RESPONSE, relevant_context: CONTEXT, rubric: rubricText }) },
    ]);
  });

  it("pairwise: RELATIVE_PROMPT_WO_REF_RAG with the criteria", () => {
    const messages = renderPrompt(getTemplate("prometheus-pairwise"), { instruction: INSTRUCTION, response_a: RESPONSE, response_b: "B {x}", context: CONTEXT, criteria: "Faithful?" });
    expect(messages).toEqual([
      { role: "system", content: source.prompts.REL_SYSTEM_PROMPT },
      { role: "user", content: pyFormat(source.prompts.RELATIVE_PROMPT_WO_REF_RAG!, { instruction: INSTRUCTION, response_A: RESPONSE, response_B: "B {x}", relevant_context: CONTEXT, rubric: "[Faithful?]" }) },
    ]);
  });

});

describe("critic's own context section (not the authors' text) where no published form has a place for a record's context", () => {
  const record = { instruction: INSTRUCTION, response: RESPONSE, criteria: "Faithful to the memo?", ...Object.fromEntries([1, 2, 3, 4, 5].map((n) => [`score${n}_description`, `level ${n}`])) };
  const user = (name: string, fields: Record<string, unknown>) => renderPrompt(getTemplate(name), fields).at(-1)!.content;

  it("prometheus with context and a reference answer: the reference form, with ###Relevant Context: where the RAG form has it", () => {
    const withReference = { ...record, reference_answer: "Budgets are due Friday." };
    const published = user("prometheus-absolute", withReference);
    expect(user("prometheus-absolute", { ...withReference, context: CONTEXT })).toBe(
      published.replace("###Reference Answer (Score 5):", `###Relevant Context:\n${CONTEXT}\n\n###Reference Answer (Score 5):`),
    );
    const pair = { instruction: INSTRUCTION, response_a: RESPONSE, response_b: "B", reference_answer: "ref", criteria: "Faithful?" };
    expect(user("prometheus-pairwise", { ...pair, context: CONTEXT })).toBe(
      user("prometheus-pairwise", pair).replace("###Reference Answer:", `###Relevant Context:\n${CONTEXT}\n\n###Reference Answer:`),
    );
  });

  it.each([
    ["mt-bench", "[The Start of Assistant's Answer]"],
    ["criticon", "### Response:"],
    ["selene", "Response:\n```"],
    ["autoj", "[BEGIN DATA]"],
  ])("%s: a delimited context section before the paragraph holding the response; without context the published text", (name, paragraph) => {
    const published = user(name, record);
    const section = `[The Start of Context]\n${CONTEXT}\n[The End of Context]\n\n`;
    expect(published).not.toContain("[The Start of Context]");
    const at = published.indexOf(paragraph);
    expect(at).toBeGreaterThan(0);
    expect(user(name, { ...record, context: CONTEXT })).toBe(published.slice(0, at) + section + published.slice(at));
  });

  it("mt-bench with a reference answer keeps the reference, and the judged-text list holds the context", () => {
    const filled: string[] = [];
    const text = renderPrompt(getTemplate("mt-bench"), { ...record, reference_answer: "Friday.", context: CONTEXT }, undefined, {}, filled).at(-1)!.content;
    expect(text.indexOf("[The Start of Reference Answer]")).toBeLessThan(text.indexOf("[The Start of Context]"));
    expect(text.indexOf("[The End of Context]")).toBeLessThan(text.indexOf("[The Start of Assistant's Answer]"));
    expect(filled).toContain(CONTEXT);
  });

  it("a two-turn conversation with a context is refused, naming the field", () => {
    const messages = [{ role: "user", content: "a" }, { role: "assistant", content: "b" }, { role: "user", content: "c" }, { role: "assistant", content: "d" }];
    expect(() => renderPrompt(getTemplate("mt-bench"), { messages, context: CONTEXT })).toThrow(/template "mt-bench": field "context": critic adds a context to one exchange/);
  });
});

describe("selene / selene-pairwise are atla-ai/selene-mini's prompt-templates/*.yaml", () => {
  const source = fixture("selene");
  const rubric = { criteria: "Is it {concise}?", score1_description: "s1", score2_description: "s2", score3_description: "s3", score4_description: "s4", score5_description: "s5" };
  const rubricValues = { rubric_objective: rubric.criteria, ...Object.fromEntries([1, 2, 3, 4, 5].map((n) => [`rubric_score_${n}_description`, `s${n}`])) };

  it("cites the commit the texts came from", () => {
    expect(source.source.commit).toBe("1425d208ee0929fca282eb14cc5efab7310c0060");
  });

  it("absolute-scoring, and absolute-scoring-with-reference for a record with a reference answer (no system prompt)", () => {
    const t = getTemplate("selene");
    expect(renderPrompt(t, { instruction: INSTRUCTION, response: RESPONSE }, rubric)).toEqual([
      { role: "user", content: pyFormat(source.prompts["absolute-scoring"]!, { user_input: INSTRUCTION, assistant_response: RESPONSE, ...rubricValues }) },
    ]);
    expect(renderPrompt(t, { instruction: INSTRUCTION, response: RESPONSE, reference_answer: "Ref {r}" }, rubric)).toEqual([
      { role: "user", content: pyFormat(source.prompts["absolute-scoring-with-reference"]!, { user_input: INSTRUCTION, assistant_response: RESPONSE, reference_response: "Ref {r}", ...rubricValues }) },
    ]);
  });

  it("classification and classification-with-reference: the record's criteria and yes / no descriptions", () => {
    const t = getTemplate("selene-classification");
    const record = { instruction: INSTRUCTION, response: RESPONSE, criteria: "Is it {grounded}?", yes_description: "Yes {y}", no_description: "No {n}" };
    const values = { user_input: INSTRUCTION, assistant_response: RESPONSE, rubric_objective: "Is it {grounded}?", rubric_yes_description: "Yes {y}", rubric_no_description: "No {n}" };
    expect(renderPrompt(t, record)).toEqual([{ role: "user", content: pyFormat(source.prompts.classification!, values) }]);
    expect(renderPrompt(t, { ...record, reference_answer: "Ref {r}" })).toEqual([
      { role: "user", content: pyFormat(source.prompts["classification-with-reference"]!, { ...values, reference_response: "Ref {r}" }) },
    ]);
    // The descriptions are rubric, not judged text.
    const filled: string[] = [];
    renderPrompt(t, record, undefined, {}, filled);
    expect(filled).toEqual([INSTRUCTION, RESPONSE]);
    expect(() => renderPrompt(t, { instruction: INSTRUCTION, response: RESPONSE, criteria: "c" })).toThrow(/record is missing field "yes_description": a binary rubric needs/);
  });

  it("pairwise, with the record's criteria", () => {
    expect(renderPrompt(getTemplate("selene-pairwise"), { instruction: INSTRUCTION, response_a: RESPONSE, response_b: "B", criteria: "Which is kinder?" })).toEqual([
      { role: "user", content: pyFormat(source.prompts.pairwise!, { user_input: INSTRUCTION, assistant_response_a: RESPONSE, assistant_response_b: "B", rubric_objective: "Which is kinder?" }) },
    ]);
  });
});

describe("flow-judge templates are flowaicom/flow-judge's prompt and preset metrics", () => {
  const source = fixture("flow-judge") as Fixture & {
    presets: Record<string, { criteria: string; rubric: { score: number; description: string }[]; required_inputs: string[] }>;
    rendered: { preset: string; prompt: string };
  };

  it("a preset renders as BaseFlowJudge._format_prompt rendered it (the fixture's prompt came from the authors' own functions)", () => {
    expect(source.rendered.preset).toBe("RESPONSE_CORRECTNESS_3POINT");
    const messages = renderPrompt(getTemplate("flow-judge-correctness-3point"), { instruction: "QUERY", reference_answer: "REF", response: "RESP" });
    expect(messages).toEqual([{ role: "user", content: source.rendered.prompt }]);
  });

  it("every preset: its criteria, rubric lines, inputs and scale", () => {
    expect(Object.keys(source.presets)).toHaveLength(9);
    for (const [key, preset] of Object.entries(source.presets)) {
      const [, metric, kind] = key.split("_") as [string, string, string];
      const template = getTemplate(`flow-judge-${metric.toLowerCase()}-${kind.toLowerCase()}`);
      const record: Record<string, string> = { response: RESPONSE };
      const values = preset.required_inputs.map((tag) => [tag, `${tag} {value}`] as const);
      for (const [tag, value] of values) record[tag === "query" ? "instruction" : tag] = value;
      const rubric = [...preset.rubric].sort((a, b) => a.score - b.score).map((item) => `- Score ${item.score}: ${item.description}`).join("\n");
      const expected = pyFormat(source.prompts.USER_PROMPT_TEMPLATE!, {
        INPUTS: values.map(([tag, value]) => `<${tag}>\n${value}\n</${tag}>`).join("\n"),
        OUTPUT: `<response>\n${RESPONSE}\n</response>`,
        EVALUATION_CRITERIA: preset.criteria,
        RUBRIC: rubric,
      });
      expect(renderPrompt(template, record), key).toEqual([{ role: "user", content: expected }]);
      expect(template.scale, key).toEqual({ min: kind === "BINARY" ? 0 : 1, max: kind === "BINARY" ? 1 : kind === "3POINT" ? 3 : 5 });
    }
  });

  it("flow-judge with your rubric: the query, then the context when the record has one", () => {
    const rubric = { criteria: "Is it grounded?", score1_description: "a", score2_description: "b", score3_description: "c", score4_description: "d", score5_description: "e" };
    const messages = renderPrompt(getTemplate("flow-judge"), { instruction: INSTRUCTION, context: CONTEXT, response: RESPONSE }, rubric);
    expect(messages[0]!.content).toBe(pyFormat(source.prompts.USER_PROMPT_TEMPLATE!, {
      INPUTS: `<query>\n${INSTRUCTION}\n</query>\n<context>\n${CONTEXT}\n</context>`,
      OUTPUT: `<response>\n${RESPONSE}\n</response>`,
      EVALUATION_CRITERIA: "Is it grounded?",
      RUBRIC: "- Score 1: a\n- Score 2: b\n- Score 3: c\n- Score 4: d\n- Score 5: e",
    }));
  });
});

describe("autoj / autoj-pairwise are GAIR-NLP/auto-j's constants_prompt.py", () => {
  const source = fixture("autoj");
  it("single and pairwise_tie, filled as build_autoj_input fills them (before the [INST] wrapper)", () => {
    expect(source.source.commit).toBe("2ae17a3965d933232e9cd50302aa0f176249c83b");
    expect(renderPrompt(getTemplate("autoj"), { instruction: INSTRUCTION, response: RESPONSE })).toEqual([
      { role: "user", content: pyFormat(source.prompts.single!, { prompt: INSTRUCTION, response: RESPONSE }) },
    ]);
    expect(renderPrompt(getTemplate("autoj-pairwise"), { instruction: INSTRUCTION, response_a: RESPONSE, response_b: "second {b}" })).toEqual([
      { role: "user", content: pyFormat(source.prompts.pairwise_tie!, { prompt: INSTRUCTION, response: RESPONSE, response_another: "second {b}" }) },
    ]);
  });
});

describe("judgelm is baaivision/JudgeLM's conv_judge_pair and conv_judge_pair_w_reference", () => {
  const source = JSON.parse(fs.readFileSync(path.join(repoRoot, "test/fixtures/judge-prompts/judgelm.json"), "utf8")) as {
    source: { commit: string };
    conversations: Record<string, { system: string; prompt: string; prompt_template: string; appendix: string }>;
  };
  // gen_model_judgement.py: conv.system + '\n' + template.format(...) + conv.appendix
  const judgelm = (name: string, values: Record<string, string>) => {
    const conv = source.conversations[name]!;
    return conv.system + "\n" + pyFormat(conv.prompt_template, { ...values, prompt: conv.prompt }) + conv.appendix;
  };
  it("renders the text gen_model_judgement.py gives the model, with and without a reference", () => {
    expect(source.source.commit).toBe("00c45169de47641f62223f57cc15b608bc3cc69d");
    expect(renderPrompt(getTemplate("judgelm"), { instruction: INSTRUCTION, response_a: RESPONSE, response_b: "two" })).toEqual([
      { role: "user", content: judgelm("conv_judge_pair", { question: INSTRUCTION, answer_1: RESPONSE, answer_2: "two" }) },
    ]);
    expect(renderPrompt(getTemplate("judgelm"), { instruction: INSTRUCTION, response_a: RESPONSE, response_b: "two", reference_answer: "ref {r}" })).toEqual([
      { role: "user", content: judgelm("conv_judge_pair_w_reference", { question: INSTRUCTION, reference: "ref {r}", answer_1: RESPONSE, answer_2: "two" }) },
    ]);
  });
});

describe("pandalm is WeOpenML/PandaLM's build_pandalm_prompt", () => {
  const source = JSON.parse(fs.readFileSync(path.join(repoRoot, "test/fixtures/judge-prompts/pandalm.json"), "utf8")) as {
    source: { commit: string };
    rendered: Record<"without_input" | "with_input", { instruction: string; input: string; resp1: string; resp2: string; prompt: string }>;
  };
  it("renders what build_pandalm_prompt built from the same values, with and without an input", () => {
    expect(source.source.commit).toBe("3871806e72b4832f815ecafd24d3503c73403f48");
    for (const form of ["without_input", "with_input"] as const) {
      const r = source.rendered[form];
      const record = { instruction: r.instruction, ...(r.input ? { input: r.input } : {}), response_a: r.resp1, response_b: r.resp2 };
      expect(renderPrompt(getTemplate("pandalm"), record), form).toEqual([{ role: "user", content: r.prompt }]);
    }
  });
});

describe("alpaca-eval / alpaca-eval-weighted are AlpacaEval's annotator prompts", () => {
  const source = JSON.parse(fs.readFileSync(path.join(repoRoot, "test/fixtures/judge-prompts/alpaca-eval.json"), "utf8")) as {
    source: { commit: string };
    rendered: Record<string, { values: Record<string, string>; messages: { role: string; content: string }[] }>;
  };
  it.each([["alpaca-eval", "alpaca_eval_gpt4"], ["alpaca-eval-weighted", "weighted_alpaca_eval_gpt4_turbo"]])("%s renders the messages prompt_to_chatml made of %s's file", (name, annotator) => {
    expect(source.source.commit).toBe("cd543a149df89434d8a54582c0151c0b945c3d20");
    const { values, messages } = source.rendered[annotator]!;
    expect(renderPrompt(getTemplate(name), { instruction: values.instruction, response_a: values.output_1, response_b: values.output_2 })).toEqual(messages);
  });
});

describe("rm-r1 / rm-r1-reasoning are RM-R1's format_judge_answers prompts", () => {
  const source = fixture("rm-r1");
  it("RM-R1-Instruct: system and user; RM-R1-Reasoning: the user prompt alone", () => {
    expect(source.source.commit).toBe("d4c2542f0608e019074b9b2322fe6502e6ab7ab0");
    const values = { question: INSTRUCTION, answer_a: RESPONSE, answer_b: "B {b}" };
    const record = { instruction: INSTRUCTION, response_a: RESPONSE, response_b: "B {b}" };
    expect(renderPrompt(getTemplate("rm-r1"), record)).toEqual([
      { role: "system", content: source.prompts.RM_R1_INSTRUCT_SYSTEM_PROMPT },
      { role: "user", content: pyFormat(source.prompts.RM_R1_SINGLE_TURN_INSTRUCT_USER_PROMPT!, values) },
    ]);
    expect(renderPrompt(getTemplate("rm-r1-reasoning"), record)).toEqual([
      { role: "user", content: pyFormat(source.prompts.RM_R1_SINGLE_TURN_REASONING_USER_PROMPT!, values) },
    ]);
  });
});
