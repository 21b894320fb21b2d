/**
 * Flow Judge (flowaicom/flow-judge@9865fc059098499c5b27b3ffbfb4c926b172f1aa): USER_PROMPT_TEMPLATE
 * and USER_PROMPT_NO_INPUTS_TEMPLATE of flow_judge/utils/prompt_formatter.py, byte-exact, and the
 * preset metrics of flow_judge/metrics/presets.py (criteria and rubric items as data). The prompt is
 * filled as BaseFlowJudge._format_prompt fills it: {INPUTS} and {OUTPUT} are `<tag>\nvalue\n</tag>`
 * blocks (format_vars), {RUBRIC} is `- Score n: description` lines, lowest score first (format_rubric).
 * There is no system prompt. Output: `<feedback>…</feedback>` then `<score>n</score>`.
 */

export const FLOW_USER_PROMPT = "# GOAL\nYour job is to evaluate a task carried out by an AI system powered by a large language model.\n\nYou will be provided with the inputs and output of the task, as well as the evaluation criteria and scoring rubric. Your task is to evaluate the output of the AI system based on the evaluation criteria and scoring rubric provided.\n\n# INPUT\nBelow are the inputs required for performing the task:\n<inputs>\n{INPUTS}\n</inputs>\n\n# OUTPUT\nBelow is the output of the task:\n<output>\n{OUTPUT}\n</output>\n\n# EVALUATION CRITERIA AND SCORING RUBRIC\nHere are the evaluation criteria and the rubric that you need to use for evaluating the task:\n<evaluation_criteria>\n{EVALUATION_CRITERIA}\n</evaluation_criteria>\n\n<scoring_rubric>\n{RUBRIC}\n</scoring_rubric>\n\n# INSTRUCTIONS FOR THE EVALUATION\n1. Understand the task and criteria: Familiarize yourself with the task to be evaluated. Review the evaluation criteria and scoring rubric to understand the different levels of performance and the descriptions for each score.\n2. Review the inputs and output: Look at the inputs provided for the task. Examine the output generated from completing the task.\n3. Compare output to score descriptions: Compare the output against the criteria and score descriptions in the scoring rubric. For each criterion,decide which description best matches the output.\n4. After comparing the output to the score descriptions, pay attention to the small details that might impact the final score that you assign. Sometimes a small difference can dictate the final score.\n5. Write verbal feedback justifying your evaluation that includes a detailed rationale, referring to specific aspects of the output and comparing them to the rubric.\n6. Assign a final score based on the scoring rubric.\n\n## FORMAT FOR THE EVALUATION\n- Write the verbal feedback inside <feedback> tags without any additional surrounding text.\n- Write the numeric score inside <score> tags, without any additional surrounding text and always after the feedback.\n\nPlease accurately evaluate the task. Strictly adhere to the evaluation criteria and rubric.";

export const FLOW_USER_PROMPT_NO_INPUTS = "# GOAL\nYour job is to evaluate a task carried out by an AI system powered by a large language model.\n\nYou will be provided the output of the task, as well as the evaluation criteria and scoring rubric. Your task is to evaluate the output of the AI system based on the evaluation criteria and scoring rubric provided.\n\n# OUTPUT\nBelow is the output of the task:\n<output>\n{OUTPUT}\n</output>\n\n# EVALUATION CRITERIA AND SCORING RUBRIC\nHere are the evaluation criteria and the rubric that you need to use for evaluating the task:\n<evaluation_criteria>\n{EVALUATION_CRITERIA}\n</evaluation_criteria>\n\n<scoring_rubric>\n{RUBRIC}\n</scoring_rubric>\n\n# INSTRUCTIONS FOR THE EVALUATION\n1. Understand the task and criteria: Familiarize yourself with the task to be evaluated. Review the evaluation criteria and scoring rubric to understand the different levels of performance and the descriptions for each score.\n2. Review the output: Examine the output generated from completing the task.\n3. Compare output to score descriptions: Compare the output against the criteria and score descriptions in the scoring rubric. For each criterion,decide which description best matches the output.\n4. After comparing the output to the score descriptions, pay attention to the small details that might impact the final score that you assign. Sometimes a small difference can dictate the final score.\n5. Write verbal feedback justifying your evaluation that includes a detailed rationale, referring to specific aspects of the output and comparing them to the rubric.\n6. Assign a final score based on the scoring rubric.\n\n## FORMAT FOR THE EVALUATION\n- Write the verbal feedback inside <feedback> tags without any additional surrounding text.\n- Write the numeric score inside <score> tags, without any additional surrounding text and always after the feedback.\n\nPlease accurately evaluate the task. Strictly adhere to the evaluation criteria and rubric.";

export interface FlowPreset {
  /** critic's template name. */
  template: string;
  criteria: string;
  rubric: { score: number; description: string }[];
  /** Tag names of the inputs, in the preset's order (`query` is the record's instruction). */
  inputs: string[];
}

export const FLOW_PRESETS: readonly FlowPreset[] = [
  {
    // RESPONSE_CORRECTNESS_BINARY
    template: "flow-judge-correctness-binary",
    criteria: "Does the generated response accurately match the provided reference answer for the given query?",
    rubric: [
      { score: 0, description: "The generated response does not match the reference answer. It either contains inaccurate information, is missing key details from the reference, includes extra information not in the reference, or fails to convey the same meaning as the reference answer." },
      { score: 1, description: "The generated response matches the reference answer exactly or contains all the key information from the reference with no inaccuracies, extra details, or missing details. The meaning conveyed by the generated response is equivalent to the reference." },
    ],
    inputs: ["query", "reference_answer"],
  },
  {
    // RESPONSE_CORRECTNESS_3POINT
    template: "flow-judge-correctness-3point",
    criteria: "Based on the provided reference response, how well does the system's generated response match the correct answer to the given query?",
    rubric: [
      { score: 1, description: "The generated response does not match the reference response at all. It either fails to address the query or provides a completely incorrect answer." },
      { score: 2, description: "The generated response partially matches the reference response. It addresses the query but may contain some incorrect, irrelevant or incomplete information compared to the reference." },
      { score: 3, description: "The generated response fully matches the reference response. It accurately and completely answers the query, containing all the relevant information from the reference without any incorrect or extraneous details." },
    ],
    inputs: ["query", "reference_answer"],
  },
  {
    // RESPONSE_CORRECTNESS_5POINT
    template: "flow-judge-correctness-5point",
    criteria: "Compare the system's response to the provided reference answer and rate how well they match in accuracy and completeness to answer the query.",
    rubric: [
      { score: 1, description: "The response is completely incorrect or irrelevant to the query, with no overlap in information with the reference answer." },
      { score: 2, description: "The response contains some correct information relevant to the query but is substantially incomplete or inaccurate compared to the reference answer." },
      { score: 3, description: "The response answers the query with reasonable accuracy but is missing key details or has minor inaccuracies compared to the reference." },
      { score: 4, description: "The response accurately answers the query and is nearly complete, only leaving out non-essential details compared to the reference." },
      { score: 5, description: "The response perfectly matches the accuracy and level of detail of the reference answer, containing all key information to comprehensively answer the query." },
    ],
    inputs: ["query", "reference_answer"],
  },
  {
    // RESPONSE_FAITHFULNESS_BINARY
    template: "flow-judge-faithfulness-binary",
    criteria: "Based on the provided context, does the response contain only information that is supported by or directly inferable from the context?",
    rubric: [
      { score: 0, description: "The response contains statements or claims that cannot be directly found in or logically inferred from the provided context. There is hallucinated or fabricated information present in the response that does not have support in the given context." },
      { score: 1, description: "The response contains only statements and claims that are directly stated in or logically inferable from the provided context. There is no hallucinated or fabricated information present in the response that cannot be traced back to or deduced from the context." },
    ],
    inputs: ["query", "context"],
  },
  {
    // RESPONSE_FAITHFULNESS_3POINT
    template: "flow-judge-faithfulness-3point",
    criteria: "Based on the provided context, assess how faithful and consistent the response is to the information given. Check if the response contains any fabricated or hallucinated content that cannot be supported by the context.",
    rubric: [
      { score: 1, description: "The response contains significant amount of fabricated information or unsupported claims that directly contradict or deviate from the given context. Major hallucinations are present that are not factual based on the context provided." },
      { score: 2, description: "The response is mostly faithful to the context, but contains some minor unsupported details or slight factual inconsistencies. While the overall message is supported, there are a few deviations that are not directly inferable from the strict context alone." },
      { score: 3, description: "The response is completely faithful and consistent with the context provided. All details and claims are directly supported by the information given, without any hallucinated or fabricated content present. The response accurately represents only the facts in the context." },
    ],
    inputs: ["query", "context"],
  },
  {
    // RESPONSE_FAITHFULNESS_5POINT
    template: "flow-judge-faithfulness-5point",
    criteria: "Based on the given context, evaluate how consistent and faithful the generated response is to the context. The response should not contain any hallucinated or fabricated information that is not supported by the context.",
    rubric: [
      { score: 1, description: "The response is completely inconsistent with the provided context. It contains significant amount of hallucinated or fabricated information that directly contradicts or is not supported at all by the context." },
      { score: 2, description: "The response is mostly inconsistent with the provided context. While it may contain some information from the context, it introduces a substantial amount of hallucinated or fabricated details that deviate from the context." },
      { score: 3, description: "The response is somewhat consistent with the provided context. It includes a mix of information from the context and some hallucinated or fabricated details. The fabrications are minor and do not significantly contradict the context." },
      { score: 4, description: "The response is mostly consistent with the provided context. The vast majority of the content is supported by the context, with only minor and inconsequential inconsistencies or fabrications, if any." },
      { score: 5, description: "The response is completely consistent with and faithful to the provided context. All details in the response are directly supported by the context, without any hallucinated or fabricated information." },
    ],
    inputs: ["query", "context"],
  },
  {
    // RESPONSE_RELEVANCE_BINARY
    template: "flow-judge-relevance-binary",
    criteria: "Is the response directly relevant to answering the query considering the context, without including irrelevant or extraneous information?",
    rubric: [
      { score: 0, description: "The response does not sufficiently address the query, either by failing to directly answer the question asked, going off-topic, or including irrelevant or extraneous information that was not requested in the original query." },
      { score: 1, description: "The response directly and sufficiently addresses the query. All of the content is relevant to answering the question asked, without going off-topic or providing unnecessary additional information beyond what the query requires." },
    ],
    inputs: ["query", "context"],
  },
  {
    // RESPONSE_RELEVANCE_3POINT
    template: "flow-judge-relevance-3point",
    criteria: "How relevant and pertinent is the response to addressing the given query, without including extraneous or irrelevant information?",
    rubric: [
      { score: 1, description: "The response is not relevant to the query at all. It either does not address the key points of the query or includes only irrelevant or extraneous information that does not pertain to answering the query directly." },
      { score: 2, description: "The response addresses some aspects of the query but is only partially relevant. It may go off-topic or include some tangentially related or extraneous information. Key points needed to comprehensively address the query are missing." },
      { score: 3, description: "The response is highly relevant to the query and directly addresses all the key points needed to comprehensively answer the query. No irrelevant or extraneous information is included. The response is fully pertinent to the query." },
    ],
    inputs: ["query", "context"],
  },
  {
    // RESPONSE_RELEVANCE_5POINT
    template: "flow-judge-relevance-5point",
    criteria: "How well does the response address the query, providing relevant information without including anything extraneous or irrelevant?",
    rubric: [
      { score: 1, description: "The response is completely irrelevant to the query, does not address it at all, or contains only extraneous information unrelated to the query." },
      { score: 2, description: "The response is mostly irrelevant to the query, addressing it only tangentially or containing significant amounts of unrelated or extraneous information." },
      { score: 3, description: "The response is somewhat relevant to the query, addressing the main point but going off-topic or including some extraneous details. Key aspects of the query may not be addressed." },
      { score: 4, description: "The response is largely relevant to the query, addressing the key points without much extraneous information. It may not cover all aspects of the query exhaustively." },
      { score: 5, description: "The response is highly relevant to the query, addressing all key aspects directly and thoroughly without any irrelevant or extraneous information." },
    ],
    inputs: ["query", "context"],
  },
];

/** format_rubric: `- Score n: description`, lowest score first. */
export function flowRubric(items: readonly { score: number; description: string }[]): string {
  return [...items].sort((a, b) => a.score - b.score).map((item) => `- Score ${item.score}: ${item.description}`).join("\n");
}

/** format_vars: each variable as `<tag>\nvalue\n</tag>`, one a line. */
export function flowVars(vars: readonly [string, string][]): string {
  return vars.map(([key, value]) => {
    const tag = key.toLowerCase().replace(/ /g, "_");
    return `<${tag}>\n${value}\n</${tag}>`;
  }).join("\n");
}
