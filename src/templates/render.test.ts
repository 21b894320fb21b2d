import { describe, expect, it } from "vitest";
import { getTemplate } from "./registry.js";
import { renderPrompt } from "./render.js";
import { loadRubric } from "./rubrics.js";
import type { Rubric } from "./types.js";

const rubric: Rubric = {
  criteria: "Is the answer correct?",
  score1_description: "Wrong.",
  score2_description: "Mostly wrong.",
  score3_description: "Half right.",
  score4_description: "Mostly right.",
  score5_description: "Right.",
};

const record = { instruction: "What is 2+2?", response: "4" };

describe("renderPrompt: Prometheus absolute", () => {
  const template = getTemplate("prometheus-absolute");

  it("renders the form without a reference answer, exactly", () => {
    const messages = renderPrompt(template, record, rubric);
    expect(messages).toEqual([
      {
        role: "system",
        content:
          "You are a fair judge assistant tasked with providing clear, objective feedback based on specific criteria, ensuring each assessment reflects the absolute standards set for performance.",
      },
      {
        role: "user",
        content: `###Task Description:
An instruction (might include an Input inside it), a response to evaluate, and a score rubric representing a evaluation criteria are given.
1. Write a detailed feedback that assess the quality of the response strictly based on the given score rubric, not evaluating in general.
2. After writing a feedback, write a score that is an integer between 1 and 5. You should refer to the score rubric.
3. The output format should look as follows: "Feedback: (write a feedback for criteria) [RESULT] (an integer number between 1 and 5)"
4. Please do not generate any other opening, closing, and explanations.

###The instruction to evaluate:
What is 2+2?

###Response to evaluate:
4

###Score Rubrics:
[Is the answer correct?]
Score 1: Wrong.
Score 2: Mostly wrong.
Score 3: Half right.
Score 4: Mostly right.
Score 5: Right.

###Feedback: `,
      },
    ]);
  });

  it("switches to the reference form when the record has reference_answer", () => {
    const [, user] = renderPrompt(template, { ...record, reference_answer: "2+2 is 4." }, rubric);
    expect(user!.content).toContain(
      "An instruction (might include an Input inside it), a response to evaluate, a reference answer that gets a score of 5, and a score rubric",
    );
    expect(user!.content).toContain("###Response to evaluate:\n4\n\n###Reference Answer (Score 5):\n2+2 is 4.\n\n###Score Rubrics:\n[Is the answer correct?]\n");
  });

  it("treats an empty or blank reference answer as absent", () => {
    const [, user] = renderPrompt(template, { ...record, reference_answer: "  " }, rubric);
    expect(user!.content).not.toContain("###Reference Answer");
  });

  it("can put the system prompt inside the user message, as Prometheus 2 was trained", () => {
    const messages = renderPrompt(template, record, rubric, { systemInUser: true });
    expect(messages).toHaveLength(1);
    expect(messages[0]!.role).toBe("user");
    expect(messages[0]!.content.startsWith("You are a fair judge assistant tasked with providing clear, objective feedback based on specific criteria, ensuring each assessment reflects the absolute standards set for performance.\n\n###Task Description:\n")).toBe(true);
  });

  it("keeps braces inside substituted values literal", () => {
    const tricky = { instruction: "Say {response} and {{x}}", response: "I contain {instruction} and {rubric}" };
    const [, user] = renderPrompt(template, tricky, rubric);
    expect(user!.content).toContain("###The instruction to evaluate:\nSay {response} and {{x}}\n\n");
    expect(user!.content).toContain("###Response to evaluate:\nI contain {instruction} and {rubric}\n\n");
  });

  it("names the missing field", () => {
    expect(() => renderPrompt(template, { instruction: "x" }, rubric)).toThrow(/missing field "response"/);
    expect(() => renderPrompt(template, { response: "x" }, rubric)).toThrow(/missing field "instruction"/);
    expect(() => renderPrompt(template, record)).toThrow(/missing field "rubric"/);
  });

  it("rejects a non-text field value", () => {
    expect(() => renderPrompt(template, { instruction: "x", response: ["a"] }, rubric)).toThrow(/field "response" must be text, got an array/);
  });

  it("takes the rubric from the record's own fields, or a ready-made rubric text", () => {
    const withFields = { ...record, criteria: "Own criteria?", score1_description: "a", score2_description: "b", score3_description: "c", score4_description: "d", score5_description: "e" };
    const [, fromFields] = renderPrompt(template, withFields);
    expect(fromFields!.content).toContain("###Score Rubrics:\n[Own criteria?]\nScore 1: a\nScore 2: b\nScore 3: c\nScore 4: d\nScore 5: e\n\n###Feedback: ");
    const [, fromText] = renderPrompt(template, { ...record, rubric: "[Text rubric]\nScore 1: x" });
    expect(fromText!.content).toContain("###Score Rubrics:\n[Text rubric]\nScore 1: x\n\n###Feedback: ");
    // An explicit rubric wins over the record's.
    const [, explicit] = renderPrompt(template, withFields, loadRubric("honesty"));
    expect(explicit!.content).toContain("[Does the model provide responses that are truthful and not misleading?]");
    expect(() => renderPrompt(template, { ...record, criteria: "Only criteria" })).toThrow(/field "score1_description" is missing/);
  });
});

describe("renderPrompt: Prometheus pairwise", () => {
  const template = getTemplate("prometheus-pairwise");
  const pair = { instruction: "Name a prime.", response_a: "7", response_b: "8" };

  it("renders the form with a reference answer exactly, showing only the criteria", () => {
    const messages = renderPrompt(template, { ...pair, reference_answer: "2" }, rubric);
    expect(messages[0]).toEqual({
      role: "system",
      content:
        "You are a fair judge assistant assigned to deliver insightful feedback that compares individual performances, highlighting how each stands relative to others within the same cohort.",
    });
    expect(messages[1]!.content).toBe(`###Task Description:
An instruction (might include an Input inside it), a response to evaluate, a reference answer, and a score rubric representing a evaluation criteria are given.
1. Write a detailed feedback that assess the quality of two responses strictly based on the given score rubric, not evaluating in general.
2. After writing a feedback, choose a better response between Response A and Response B. You should refer to the score rubric.
3. The output format should look as follows: "Feedback: (write a feedback for criteria) [RESULT] (A or B)"
4. Please do not generate any other opening, closing, and explanations.

###Instruction:
Name a prime.

###Response A:
7

###Response B:
8

###Reference Answer:
2

###Score Rubric:
[Is the answer correct?]

###Feedback: `);
  });

  it("renders the form without reference, and reads response_A/response_B spellings too", () => {
    const [, user] = renderPrompt(template, { instruction: "Q", response_A: "x", response_B: "y" }, rubric);
    expect(user!.content).toContain("An instruction (might include an Input inside it), a response to evaluate, and a score rubric");
    expect(user!.content).toContain("###Response A:\nx\n\n###Response B:\ny\n\n###Score Rubric:\n[Is the answer correct?]\n\n###Feedback: ");
    expect(user!.content).not.toContain("###Reference Answer");
  });

  it("accepts a record with criteria only, and a rubric text cut to its first line", () => {
    const [, fromCriteria] = renderPrompt(template, { ...pair, criteria: "Which is prime?" });
    expect(fromCriteria!.content).toContain("###Score Rubric:\n[Which is prime?]\n\n###Feedback: ");
    const [, fromText] = renderPrompt(template, pair, "[Which is prime?]\nScore 1: no");
    expect(fromText!.content).toContain("###Score Rubric:\n[Which is prime?]\n\n###Feedback: ");
  });

  it("names a missing response", () => {
    expect(() => renderPrompt(template, { instruction: "Q", response_a: "x" }, rubric)).toThrow(/missing field "response_b"/);
  });
});

describe("renderPrompt: Criticon", () => {
  it("renders the system prompt and critique template exactly", () => {
    const messages = renderPrompt(getTemplate("criticon"), { instruction: "Greet me.", response: "Hello!" });
    expect(messages).toEqual([
      {
        role: "system",
        content:
          "You are a critical teacher that provides specific, concise and constructive feedback in plain language, together with your score.",
      },
      {
        role: "user",
        content: `### Task description:
You are given an instruction, a response to evaluate and the criteria for the feedback and score to take into account.
- You must write the feedback according to the "Feedback criteria", not a general or abstract one.
- After the feedback, write a score as an integer between 1 and 10, using the "Scoring system".
- The output format MUST be: "(your feedback) [SCORE] (score between 1 and 10)".

### Feedback criteria:
1. **Correctness & Informativeness**: Does the output provide accurate and helpful information?
2. **Honesty & Uncertainty**: How confidently does the model convey its information, and does it express uncertainty appropriately?
3. **Truthfulness & Hallucination**: Does the model introduce misleading or fabricated details?
4. **Instruction Following**: Does the model's output align with given instructions and the user's intent?

### Scoring system:
1: **Low Quality**: Contains inaccuracies, may be entirely wrong or has severe hallucinations.
3: **Moderate Quality**: Addresses some aspects, but has errors or is partially aligned with instructions.
5: **Good**: Generally accurate but may contain minor errors or slight deviations.
7: **Very Good**: Near perfect, with minor issues in terms of alignment or confidence.
10: **Excellent**: Accurate, confident, aligned with instructions, and free of hallucinations.

### Instruction:
Greet me.

### Response:
Hello!

### Feedback:
`,
      },
    ]);
  });
});

describe("getTemplate", () => {
  it("lists the built-ins when the name is unknown", () => {
    expect(() => getTemplate("nope")).toThrow(/prometheus-absolute, prometheus-pairwise, criticon/);
  });
});
