/**
 * Auto-J, JudgeLM and PandaLM judge prompts, byte-exact from their authors' repositories.
 * - Auto-J (GAIR-NLP/auto-j@2ae17a3965d933232e9cd50302aa0f176249c83b, codes/usage/constants_prompt.py):
 *   `single` and `pairwise_tie`, the user message that build_autoj_input wraps in Llama 2's [INST]
 *   (the chat template's job here).
 * - JudgeLM (baaivision/JudgeLM@00c45169de47641f62223f57cc15b608bc3cc69d, judgelm/llm_judge/common.py
 *   conv_judge_pair and conv_judge_pair_w_reference): gen_model_judgement.py feeds the model
 *   `system + "\n" + prompt_template.format(..., prompt=prompt) + appendix` as one text; here that text
 *   is the user message, {prompt} fixed to the conversation's prompt.
 * - PandaLM (WeOpenML/PandaLM@3871806e72b4832f815ecafd24d3503c73403f48, pandalm/utils/pandalm_inference.py
 *   build_pandalm_prompt): the f-string with its {rsp} block written out; the form with "### Input:"
 *   for a record with an `input` field. build_pandalm_prompt strips the responses and removes special
 *   tokens from them first; critic fills the record's texts as they are.
 * JudgeLM and PandaLM were trained on these texts as raw completions; a chat backend puts them in its
 * chat template.
 */
import type { TemplateText } from "./types.js";

export const AUTOJ_SINGLE: TemplateText = { user: "Write critiques for a submitted response on a given user's query, and grade the response:\n  \n[BEGIN DATA]\n***\n[Query]: {prompt}\n***\n[Response]: {response}\n***\n[END DATA]\n\nWrite critiques for this response. After that, you should give a final rating for the response on a scale of 1 to 10 by strictly following this format: \"[[rating]]\", for example: \"Rating: [[5]]\"." };

export const AUTOJ_PAIRWISE: TemplateText = { user: "You are assessing two submitted responses on a given user's query and judging which response is better or they are tied. Here is the data:\n\n[BEGIN DATA]\n***\n[Query]: {prompt}\n***\n[Response 1]: {response}\n***\n[Response 2]: {response_another}\n***\n[END DATA]\n\nHere are the instructions to assess and compare the two responses:\n\n1. Pinpoint the key factors to distinguish these two responses.\n2. Conclude your comparison by providing a final decision on which response is better, or they are tied. Begin your final decision statement with \"So, the final decision is Response 1 / Response 2 / Tie\". Ensure that your decision aligns coherently with the comprehensive evaluation and comparison you've provided." };

export const JUDGELM_PROMPT = "We would like to request your feedback on the performance of two AI assistants in response to the user question displayed above.\nPlease rate the helpfulness, relevance, accuracy, level of details of their responses. Each assistant receives an overall score on a scale of 1 to 10, where a higher score indicates better overall performance.\nPlease first output a single line containing only two values indicating the scores for Assistant 1 and 2, respectively. The two scores are separated by a space. In the subsequent line, please provide a comprehensive explanation of your evaluation, avoiding any potential bias and ensuring that the order in which the responses were presented does not affect your judgment.";

export const JUDGELM: TemplateText = { user: "You are a helpful and precise assistant for checking the quality of the answer.\n[Question]\n{question}\n\n[The Start of Assistant 1's Answer]\n{answer_1}\n\n[The End of Assistant 1's Answer]\n\n[The Start of Assistant 2's Answer]\n{answer_2}\n\n[The End of Assistant 2's Answer]\n\n[System]\n{prompt}\n\n### Response:" };

export const JUDGELM_REFERENCE: TemplateText = { user: "You are a helpful and precise assistant for checking the quality of the answer.\n[Question]\n{question}\n\n[Reference Answer]\n{reference}\n\n[The Start of Assistant 1's Answer]\n{answer_1}\n\n[The End of Assistant 1's Answer]\n\n[The Start of Assistant 2's Answer]\n{answer_2}\n\n[The End of Assistant 2's Answer]\n\n[System]\n{prompt}\n\n### Response:" };

const PANDALM_RESPONSES = "### Response 1:\n{response_a}\n\n### Response 2:\n{response_b}";

export const PANDALM: TemplateText = {
  user: `Below are two responses for a given task. The task is defined by the Instruction. Evaluate the responses and generate a reference answer for the task.\n\n### Instruction:\n{instruction}\n\n${PANDALM_RESPONSES}\n\n### Evaluation:\n`,
};

export const PANDALM_INPUT: TemplateText = {
  user: `Below are two responses for a given task. The task is defined by the Instruction with an Input that provides further context. Evaluate the responses and generate a reference answer for the task.\n\n### Instruction:\n{instruction}\n\n### Input:\n{input}\n\n${PANDALM_RESPONSES}\n\n### Evaluation:\n`,
};
