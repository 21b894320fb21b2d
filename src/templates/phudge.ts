/**
 * PHUDGE's prompt form and its rubric / reference-answer dropout (`critic export -f classify|regress
 * --augment-drop p`). PHUDGE (deshwalmahesh/PHUDGE @ e41a4996411b992f0aeb1ad6ece68a572a5f6c90,
 * scripts/data_utils.py: create_prometheus_prompt, TextDataset.__getitem__) cuts a rendered
 * Prometheus absolute prompt into its sections, drops the rubric and the reference answer each with
 * probability 0.5, and picks the one of four system prompts that names what is left. The four
 * system prompts below are data_utils.py's sys_only, sys_ref, sys_rubric and sys_ref_rubric, verbatim.
 */
import { createHash } from "node:crypto";

const TAIL = `3. The output format should look as follows: "Feedback: (write a feedback for criteria) [RESULT] (an integer number between 1 and 5)"
4. Please do not generate any other opening, closing, and explanations.`;

export const PHUDGE_SYSTEM_PROMPTS = {
  sys_only: `###Task Description:
An instruction (might include an Input inside it) and a response to evaluate are given.
1. Write a detailed feedback that assess the quality of the response strictly.
2. After writing a feedback, write a score that is an integer between 1 and 5.
${TAIL}`,
  ref_only: `###Task Description:
An instruction (might include an Input inside it), a response to evaluate and a reference answer that gets a score of 5 are given.
1. Write a detailed feedback that assess the quality of the response.
2. After writing a feedback, write a score that is an integer between 1 and 5. You can refer to the reference answer (which has a perfect score of 5) to get the idea for scoring.
${TAIL}`,
  rubric_only: `###Task Description:
An instruction (might include an Input inside it), a response to evaluate and a score rubric representing a evaluation criteria are given.
1. Write a detailed feedback that assess the quality of the response strictly based on the given score rubric, not evaluating in general.
2. After writing a feedback, write a score that is an integer between 1 and 5. You should refer to the score rubric.
${TAIL}`,
  ref_rub: `###Task Description:
An instruction (might include an Input inside it), a response to evaluate, a reference answer that gets a score of 5, and a score rubric representing a evaluation criteria are given.
1. Write a detailed feedback that assess the quality of the response strictly based on the given score rubric, not evaluating in general. You can also refer to the reference answer (which has a perfect score of 5) to get the idea for scoring.
2. After writing a feedback, write a score that is an integer between 1 and 5. You should refer to the score rubric.
${TAIL}`,
} as const;

export interface PhudgePrompt {
  system: string;
  user: string;
  /** What the prompt kept. */
  rubric: boolean;
  reference: boolean;
}

/**
 * The PHUDGE form of a rendered Prometheus absolute user message: the instruction and response,
 * then the reference answer and the rubric where kept (and present), under the matching system prompt.
 */
export function phudgePrompt(prometheusUser: string, keep: { rubric: boolean; reference: boolean }): PhudgePrompt {
  const start = prometheusUser.indexOf("###The instruction to evaluate");
  if (start < 0) throw new Error('the PHUDGE prompt form needs a Prometheus absolute prompt (no "###The instruction to evaluate" section)');
  const body = prometheusUser.slice(start);
  const feedbackAt = body.indexOf("\n\n###Feedback:");
  const end = feedbackAt < 0 ? body.length : feedbackAt;
  const refAt = body.indexOf("###Reference Answer");
  const rubricAt = body.indexOf("###Score Rubrics");
  const firstCut = [refAt, rubricAt, end].filter((i) => i >= 0).reduce((a, b) => Math.min(a, b));
  const instruction = body.slice(0, firstCut).trim();
  const reference = refAt >= 0 ? body.slice(refAt, rubricAt > refAt ? rubricAt : end).trim() : "";
  const rubric = rubricAt >= 0 ? body.slice(rubricAt, end).trim() : "";
  const withRubric = keep.rubric && rubric !== "";
  const withReference = keep.reference && reference !== "";
  const system = withRubric && withReference ? PHUDGE_SYSTEM_PROMPTS.ref_rub : withRubric ? PHUDGE_SYSTEM_PROMPTS.rubric_only : withReference ? PHUDGE_SYSTEM_PROMPTS.ref_only : PHUDGE_SYSTEM_PROMPTS.sys_only;
  const user = [instruction, withReference ? reference : "", withRubric ? rubric : ""].filter((part) => part !== "").join("\n\n");
  return { system, user, rubric: withRubric, reference: withReference };
}

/**
 * Which parts a training row keeps under dropout `p`: two uniforms from a hash of the seed and the
 * row's key, so an export is the same on every run and independent of record order.
 */
export function dropoutDraw(p: number, seed: number, key: string): { rubric: boolean; reference: boolean } {
  const digest = createHash("sha256").update(`${seed}\u0000${key}`).digest();
  const u1 = digest.readUInt32BE(0) / 2 ** 32;
  const u2 = digest.readUInt32BE(4) / 2 ** 32;
  return { rubric: u1 >= p, reference: u2 >= p };
}
