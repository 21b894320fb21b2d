/**
 * AlpacaEval's annotator prompts (tatsu-lab/alpaca_eval@cd543a149df89434d8a54582c0151c0b945c3d20):
 * alpaca_eval_gpt4 (evaluators_configs/alpaca_eval_gpt4/alpaca_eval.txt, read by ranking_parser) and
 * weighted_alpaca_eval_gpt4_turbo (evaluators_configs/alpaca_eval_clf_gpt4_turbo/alpaca_eval_clf.txt,
 * one token `m` or `M` read by logprob_parser). Each file is ChatML text; these are the system and
 * user messages utils.prompt_to_chatml makes of it. {output_1} is response_a, {output_2} response_b.
 */
import type { TemplateText } from "./types.js";

export const ALPACA_EVAL_GPT4: TemplateText = {
  system: "You are a helpful assistant, that ranks models by the quality of their answers.",
  user: "I want you to create a leaderboard of different of large-language models. To do so, I will give you the instructions (prompts) given to the models, and the responses of two models. Please rank the models based on which responses would be preferred by humans. All inputs and outputs should be python dictionaries.\n\nHere is the prompt:\n{\n    \"instruction\": \"\"\"{instruction}\"\"\",\n}\n\nHere are the outputs of the models:\n[\n    {\n        \"model\": \"model_1\",\n        \"answer\": \"\"\"{output_1}\"\"\"\n    },\n    {\n        \"model\": \"model_2\",\n        \"answer\": \"\"\"{output_2}\"\"\"\n    }\n]\n\nNow please rank the models by the quality of their answers, so that the model with rank 1 has the best output. Then return a list of the model names and ranks, i.e., produce the following output:\n[\n    {'model': <model-name>, 'rank': <model-rank>},\n    {'model': <model-name>, 'rank': <model-rank>}\n]\n\nYour response must be a valid Python dictionary and should contain nothing else because we will directly execute it in Python. Please provide the ranking that the majority of humans would give.",
};

export const WEIGHTED_ALPACA_EVAL_GPT4_TURBO: TemplateText = {
  system: "You are a highly efficient assistant, who evaluates and selects the best large language model (LLMs) based on the quality of their responses to a given instruction. This process will be used to create a leaderboard reflecting the most accurate and human-preferred answers.",
  user: "I require a leaderboard for various large language models. I'll provide you with prompts given to these models and their corresponding outputs. Your task is to assess these responses, and select the model that produces the best output from a human perspective.\n\n## Instruction\n\n{\n    \"instruction\": \"\"\"{instruction}\"\"\",\n}\n\n## Model Outputs\n\nHere are the unordered outputs from the models. Each output is associated with a specific model, identified by a unique model identifier.\n\n{\n    {\n        \"model_identifier\": \"m\",\n        \"output\": \"\"\"{output_1}\"\"\"\n    },\n    {\n        \"model_identifier\": \"M\",\n        \"output\": \"\"\"{output_2}\"\"\"\n    }\n}\n\n## Task\n\nEvaluate the models based on the quality and relevance of their outputs, and select the model that generated the best output. Answer by providing the model identifier of the best model. We will use your output as the name of the best model, so make sure your output only contains one of the following model identifiers and nothing else (no quotes, no spaces, no new lines, ...): m or M.\n\n## Best Model Identifier",
};
