/**
 * Prometheus judge prompts, byte-exact.
 *
 * Two published forms differ in one line: the task's output-format instruction.
 * - PROMETHEUS_*: the form Prometheus 1 and 2 were trained on (Feedback Collection, Preference
 *   Collection, the Prometheus 2 paper appendix) and that prometheus-eval's own benchmark files
 *   (eval/benchmark/data/*.json) embed: `"Feedback: (write a feedback for criteria) [RESULT] ..."`.
 *   These are the built-in templates.
 * - PROMETHEUS_EVAL_LIB_*: libs/prometheus-eval/prometheus_eval/prompts.py at its latest version,
 *   which dropped the `Feedback: ` prefix from that line. Kept verbatim for users who want to match
 *   the library exactly.
 * Placeholder names are the library's ({response_A}, {response_B}); see render.ts for how
 * record fields fill them.
 */

export const ABS_SYSTEM_PROMPT =
  "You are a fair judge assistant tasked with providing clear, objective feedback based on specific criteria, ensuring each assessment reflects the absolute standards set for performance.";

export const REL_SYSTEM_PROMPT =
  "You are a fair judge assistant assigned to deliver insightful feedback that compares individual performances, highlighting how each stands relative to others within the same cohort.";

const ABSOLUTE_FORMAT_TRAINED =
  '3. The output format should look as follows: "Feedback: (write a feedback for criteria) [RESULT] (an integer number between 1 and 5)"';
const ABSOLUTE_FORMAT_LIB =
  '3. The output format should look as follows: "(write a feedback for criteria) [RESULT] (an integer number between 1 and 5)"';
const RELATIVE_FORMAT_TRAINED =
  '3. The output format should look as follows: "Feedback: (write a feedback for criteria) [RESULT] (A or B)"';
const RELATIVE_FORMAT_LIB =
  '3. The output format should look as follows: "(write a feedback for criteria) [RESULT] (A or B)"';

export const PROMETHEUS_EVAL_LIB_ABSOLUTE_PROMPT = `###Task Description:
An instruction (might include an Input inside it), a response to evaluate, a reference answer that gets a score of 5, and a score rubric representing a evaluation criteria are given.
1. Write a detailed feedback that assess the quality of the response strictly based on the given score rubric, not evaluating in general.
2. After writing a feedback, write a score that is an integer between 1 and 5. You should refer to the score rubric.
${ABSOLUTE_FORMAT_LIB}
4. Please do not generate any other opening, closing, and explanations.

###The instruction to evaluate:
{instruction}

###Response to evaluate:
{response}

###Reference Answer (Score 5):
{reference_answer}

###Score Rubrics:
{rubric}

###Feedback: `;

export const PROMETHEUS_EVAL_LIB_ABSOLUTE_PROMPT_WO_REF = `###Task Description:
An instruction (might include an Input inside it), a response to evaluate, and a score rubric representing a evaluation criteria are given.
1. Write a detailed feedback that assess the quality of the response strictly based on the given score rubric, not evaluating in general.
2. After writing a feedback, write a score that is an integer between 1 and 5. You should refer to the score rubric.
${ABSOLUTE_FORMAT_LIB}
4. Please do not generate any other opening, closing, and explanations.

###The instruction to evaluate:
{instruction}

###Response to evaluate:
{response}

###Score Rubrics:
{rubric}

###Feedback: `;

export const PROMETHEUS_EVAL_LIB_RELATIVE_PROMPT = `###Task Description:
An instruction (might include an Input inside it), a response to evaluate, a reference answer, and a score rubric representing a evaluation criteria are given.
1. Write a detailed feedback that assess the quality of two responses strictly based on the given score rubric, not evaluating in general.
2. After writing a feedback, choose a better response between Response A and Response B. You should refer to the score rubric.
${RELATIVE_FORMAT_LIB}
4. Please do not generate any other opening, closing, and explanations.

###Instruction:
{instruction}

###Response A:
{response_A}

###Response B:
{response_B}

###Reference Answer:
{reference_answer}

###Score Rubric:
{rubric}

###Feedback: `;

export const PROMETHEUS_EVAL_LIB_RELATIVE_PROMPT_WO_REF = `###Task Description:
An instruction (might include an Input inside it), a response to evaluate, and a score rubric representing a evaluation criteria are given.
1. Write a detailed feedback that assess the quality of two responses strictly based on the given score rubric, not evaluating in general.
2. After writing a feedback, choose a better response between Response A and Response B. You should refer to the score rubric.
${RELATIVE_FORMAT_LIB}
4. Please do not generate any other opening, closing, and explanations.

###Instruction:
{instruction}

###Response A:
{response_A}

###Response B:
{response_B}

###Score Rubric:
{rubric}

###Feedback: `;

function trainedForm(libText: string, libLine: string, trainedLine: string): string {
  if (!libText.includes(libLine)) throw new Error("prometheus.ts: output-format line not found");
  return libText.replace(libLine, trainedLine);
}

export const PROMETHEUS_ABSOLUTE_PROMPT = trainedForm(
  PROMETHEUS_EVAL_LIB_ABSOLUTE_PROMPT,
  ABSOLUTE_FORMAT_LIB,
  ABSOLUTE_FORMAT_TRAINED,
);
export const PROMETHEUS_ABSOLUTE_PROMPT_WO_REF = trainedForm(
  PROMETHEUS_EVAL_LIB_ABSOLUTE_PROMPT_WO_REF,
  ABSOLUTE_FORMAT_LIB,
  ABSOLUTE_FORMAT_TRAINED,
);
export const PROMETHEUS_RELATIVE_PROMPT = trainedForm(
  PROMETHEUS_EVAL_LIB_RELATIVE_PROMPT,
  RELATIVE_FORMAT_LIB,
  RELATIVE_FORMAT_TRAINED,
);
export const PROMETHEUS_RELATIVE_PROMPT_WO_REF = trainedForm(
  PROMETHEUS_EVAL_LIB_RELATIVE_PROMPT_WO_REF,
  RELATIVE_FORMAT_LIB,
  RELATIVE_FORMAT_TRAINED,
);

/** prompts.py SCORE_RUBRIC_TEMPLATE (after its `.strip()`). */
export const SCORE_RUBRIC_TEMPLATE = `[{criteria}]
Score 1: {score1_description}
Score 2: {score2_description}
Score 3: {score3_description}
Score 4: {score4_description}
Score 5: {score5_description}`;

/**
 * The RAG forms (prometheus-eval/prometheus-eval@62a85d118c497d17c1dddf1dbe61de1a77812fc9,
 * libs/prometheus-eval/prometheus_eval/prompts.py ABSOLUTE_PROMPT_WO_REF_RAG and
 * RELATIVE_PROMPT_WO_REF_RAG): a `###Relevant Context:` section, filled from the record's `context`.
 * The library ships them without a reference answer only.
 */
export const PROMETHEUS_ABSOLUTE_PROMPT_WO_REF_RAG =
  "###Task Description:\nAn instruction (might include an Input inside it), a response to evaluate, a relevant context to support the evaluation (denoted as Relevant Context), and a score rubric representing a evaluation criteria are given.\n1. Write a detailed feedback that assess the quality of the response strictly based on the given score rubric, not evaluating in general. Refer to the given context when writing the feedback and making an assessment.\n2. After writing a feedback, write a score that is an integer between 1 and 5. You should refer to the score rubric.\n3. The output format should look as follows: \"(write a feedback for criteria) [RESULT] (an integer number between 1 and 5)\"\n4. Please do not generate any other opening, closing, and explanations.\n\n###The instruction to evaluate:\n{instruction}\n\n###Response to evaluate:\n{response}\n\n###Relevant Context:\n{relevant_context}\n\n###Score Rubrics:\n{rubric}\n\n###Feedback: ";

export const PROMETHEUS_RELATIVE_PROMPT_WO_REF_RAG =
  "###Task Description:\nAn instruction (might include an Input inside it), two responses to evaluate (denoted as Response A and Response B), a relevant context to support the evaluation (denoted as Relevant Context), and an evaluation criteria are given.\n1. Write a detailed feedback that assess the quality of the two responses strictly based on the given evaluation criteria, not evaluating in general. Refer to the given context when writing the feedback and making an assessment.\n2. Make comparisons between Response A, Response B, and the Reference Answer. Instead of examining Response A and Response B separately, go straight to the point and mention about the commonalities and differences between them.\n3. After writing the feedback, indicate the better response, either \"A\" or \"B\".\n4. The output format should look as follows: \"Feedback: (write a feedback for criteria) [RESULT] (Either \"A\" or \"B\")\"\n5. Please do not generate any other opening, closing, and explanations.\n\n###Instruction:\n{instruction}\n\n###Response A:\n{response_A}\n\n###Response B:\n{response_B}\n\n###Relevant Context:\n{relevant_context}\n\n###Score Rubric:\n{rubric}\n\n###Feedback: ";

/**
 * critic's addition, not prometheus-eval's text: the RAG forms' `###Relevant Context:` section, for a
 * record with both `context` and `reference_answer` (no published form holds both).
 */
export const PROMETHEUS_CONTEXT_SECTION = "###Relevant Context:\n{context}\n\n";
