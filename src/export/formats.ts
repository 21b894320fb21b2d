/**
 * The rows of each export format, built from one normalised input Example.
 *
 * SFT formats (sft-messages, sft-prompt-completion, alpaca, openai-sft) take
 * - judgments: a critique example (judge prompt -> feedback and verdict in the template's format),
 *   rendered with --template or else the template recorded in each judgment;
 * - pairs and accepted revisions: prompt -> chosen response.
 * criticon-sft and prometheus-sft always use the Criticon / Prometheus templates, from judgments only.
 * Preference formats (dpo, dpo-conversational, kto, reward, openai-dpo) take pairs, accepted
 * revisions with a rejected response, and pairwise judgments (the winner's response is chosen).
 * Score formats (classify, regress) take scores: absolute judgments, human labels (--labels) or a
 * dataset's own score field (--map score=<field>); see score-rows.ts.
 */
import type { ChatMessage } from "../backends/types.js";
import { getTemplate } from "../templates/index.js";
import type { JudgeTemplate } from "../templates/types.js";
import { alpacaText } from "./alpaca.js";
import { scoreRow, type ScoreRowOptions } from "./score-rows.js";
import { builtinTemplate, critiqueItem, type CritiqueOptions } from "./critique.js";
import type { Example, FormatName, PreferenceItem, Row, SftItem, Skip, TrainerName } from "./types.js";

export interface BuildOptions extends CritiqueOptions, ScoreRowOptions {
  /** Template of the critique rows of the generic SFT formats. Default: each judgment's own (built-in) template. */
  template?: JudgeTemplate;
  /** Conversational variant of sft-prompt-completion and kto (the other formats have one form). */
  conversational?: boolean;
  /**
   * KTO from absolute judgments: each judged response becomes one row, labelled desirable when
   * its score is at least this. Without it, absolute judgments give no KTO rows (no pair).
   */
  ktoThreshold?: number;
  /**
   * --labels: preference formats pair the human-corrected critique (chosen) with the judge's own
   * (rejected) under the judge's prompt; judgments the humans agreed with give no pair.
   */
  humanLabels?: boolean;
}

export interface FormatInfo {
  trainer: TrainerName;
  /** Whether rows hold message lists; `flag` is the --conversational option. */
  conversational: (flag: boolean) => boolean;
  family: "sft" | "preference" | "score";
  /** Columns and what they hold, for the dataset card. */
  fields: (conversational: boolean) => Record<string, string>;
  /** How the trainer reads it, for the dataset card. */
  usage: string;
}

const MESSAGES = "list of {role, content}: optional system, user, then the assistant target";
const always = (value: boolean) => () => value;

export const FORMATS: Record<FormatName, FormatInfo> = {
  "sft-messages": {
    trainer: "sft",
    conversational: always(true),
    family: "sft",
    fields: () => ({ messages: MESSAGES }),
    usage: "TRL SFTTrainer, conversational language modeling: the chat template is applied to `messages`.",
  },
  "sft-prompt-completion": {
    trainer: "sft",
    conversational: (flag) => flag,
    family: "sft",
    fields: (conv) =>
      conv
        ? { prompt: "list of {role, content}: optional system, then user", completion: "list of one assistant message" }
        : { prompt: "text (a system prompt comes first, then a blank line, then the user message)", completion: "text, appended to the prompt as is (it starts with a space unless the prompt ends in whitespace)" },
    usage: "TRL SFTTrainer, prompt-completion: loss on the completion only by default.",
  },
  alpaca: {
    trainer: "sft",
    conversational: always(false),
    family: "sft",
    fields: () => ({
      instruction: "text: the system prompt of a critique, or the prompt",
      input: "text: the judge prompt of a critique, or empty",
      output: "text: the target",
      text: "Alpaca prompt (seed 001, Stanford Alpaca form; the no-input form when input is empty) followed by output; no EOS token",
    }),
    usage: 'TRL SFTTrainer on the `text` column (dataset_text_field="text"), or any Alpaca-format trainer on instruction/input/output.',
  },
  "criticon-sft": {
    trainer: "sft",
    conversational: always(true),
    family: "sft",
    fields: () => ({ messages: "Criticon system prompt, Criticon critique prompt, assistant `{feedback} [SCORE] {score}` (1-10)" }),
    usage: "TRL SFTTrainer, conversational language modeling (as argilla/criticon-v0.1 was trained).",
  },
  "prometheus-sft": {
    trainer: "sft",
    conversational: always(true),
    family: "sft",
    fields: () => ({
      messages: "Prometheus system prompt, absolute or relative grading prompt, assistant `{feedback} [RESULT] {score}` (1-5) or `{feedback} [RESULT] A|B`",
    }),
    usage: "TRL SFTTrainer, conversational language modeling.",
  },
  dpo: {
    trainer: "dpo",
    conversational: always(false),
    family: "preference",
    fields: () => ({ prompt: "text", chosen: "text: the preferred response", rejected: "text: the dispreferred response" }),
    usage: "TRL DPOTrainer (or ORPO/CPO), standard preference with explicit prompt.",
  },
  "dpo-conversational": {
    trainer: "dpo",
    conversational: always(true),
    family: "preference",
    fields: () => ({
      prompt: "list with one user message",
      chosen: "list with one assistant message: the preferred response",
      rejected: "list with one assistant message: the dispreferred response",
    }),
    usage: "TRL DPOTrainer (or ORPO/CPO), conversational preference with explicit prompt: the chat template is applied.",
  },
  kto: {
    trainer: "kto",
    conversational: (flag) => flag,
    family: "preference",
    fields: (conv) =>
      conv
        ? { prompt: "list with one user message", completion: "list with one assistant message", label: "true for the preferred response, false for the dispreferred one" }
        : { prompt: "text", completion: "text", label: "true for the preferred response, false for the dispreferred one" },
    usage: "TRL KTOTrainer (or BCO), unpaired preference: each pair gives one true and one false row.",
  },
  reward: {
    trainer: "reward",
    conversational: always(true),
    family: "preference",
    fields: () => ({
      chosen: "list: the user prompt, then the preferred response as assistant message",
      rejected: "list: the same user prompt, then the dispreferred response",
    }),
    usage: "TRL RewardTrainer, conversational preference with implicit prompt (accepted by old and new TRL versions).",
  },
  "openai-sft": {
    trainer: "openai-sft",
    conversational: always(true),
    family: "sft",
    fields: () => ({ messages: MESSAGES }),
    usage: "OpenAI fine-tuning, method supervised: upload train.jsonl as training_file, test.jsonl as validation_file.",
  },
  "openai-dpo": {
    trainer: "openai-dpo",
    conversational: always(true),
    family: "preference",
    fields: () => ({
      input: "{messages: [one user message]}",
      preferred_output: "list with one assistant message",
      non_preferred_output: "list with one assistant message",
    }),
    usage: 'OpenAI fine-tuning, method {"type": "dpo"}: upload train.jsonl as training_file, test.jsonl as validation_file.',
  },
  classify: {
    trainer: "classify",
    conversational: always(false),
    family: "score",
    fields: () => ({
      text: "the judge prompt as the model sees it: the template's system prompt, a blank line, the user message (the base model's chat template is applied at training time)",
      label: "the score's index on the template's scale (score - scale min): 0 for the lowest score",
    }),
    usage: "transformers AutoModelForSequenceClassification with one label per score (`critic train classify`).",
  },
  regress: {
    trainer: "regress",
    conversational: always(false),
    family: "score",
    fields: () => ({
      text: "the judge prompt as the model sees it: the template's system prompt, a blank line, the user message (the base model's chat template is applied at training time)",
      label: "the score as a number on the template's scale",
    }),
    usage: "transformers AutoModelForSequenceClassification with num_labels 1, a regression head (`critic train regress`).",
  },
};

const CRITICON = getTemplate("criticon");
const PROMETHEUS_ABSOLUTE = getTemplate("prometheus-absolute");
const PROMETHEUS_PAIRWISE = getTemplate("prometheus-pairwise");

/** The supervised item a format trains on, or why the example gives none. */
export function sftItem(format: FormatName, example: Example, options: BuildOptions = {}): SftItem | Skip {
  if (format === "criticon-sft") return critiqueItem(CRITICON, example, options);
  if (format === "prometheus-sft") {
    if (example.kind !== "judgment") return { skip: "needs-judgment" };
    return critiqueItem(example.mode === "absolute" ? PROMETHEUS_ABSOLUTE : PROMETHEUS_PAIRWISE, example, options);
  }
  if (example.kind === "judgment") {
    const template = options.template ?? builtinTemplate(example.judge?.template);
    if (!template) return { skip: "unknown-template", detail: `template "${example.judge?.template ?? "(none recorded)"}"` };
    return critiqueItem(template, example, options);
  }
  if (isBlank(example.prompt) || isBlank(example.chosen)) return { skip: "empty-text" };
  return { prompt: [{ role: "user", content: example.prompt }], completion: example.chosen };
}

/** The preference pair of an example, or why it has none. */
export function preferenceItem(example: Example): PreferenceItem | Skip {
  let item: PreferenceItem;
  if (example.kind === "judgment") {
    if (example.mode === "absolute") return { skip: "no-pair", detail: "an absolute judgment grades one response" };
    if (example.winner === "tie") return { skip: "tie" };
    const a = String(example.record.response_a);
    const b = String(example.record.response_b);
    item = example.winner === "A" ? { prompt: example.prompt, chosen: a, rejected: b } : { prompt: example.prompt, chosen: b, rejected: a };
  } else {
    if (example.rejected === null) return { skip: "no-pair" };
    item = { prompt: example.prompt, chosen: example.chosen, rejected: example.rejected };
  }
  if (isBlank(item.prompt) || isBlank(item.chosen) || isBlank(item.rejected)) return { skip: "empty-text" };
  if (item.chosen === item.rejected) return { skip: "same-response" };
  return item;
}

/** The rows an example gives in a format (KTO: two) and the judge template of a critique, or why it gives none. */
export function buildRows(format: FormatName, example: Example, options: BuildOptions = {}): { rows: Row[]; template?: string } | Skip {
  const conversational = options.conversational ?? false;
  if (FORMATS[format].family === "score") {
    const row = scoreRow(format as "classify" | "regress", example, options);
    return "skip" in row ? row : { rows: [row.row], template: row.template };
  }
  // A human's score without a note has no critique text to train a generative judge on.
  if (example.kind === "judgment" && example.mode === "absolute" && example.withoutNote) return { skip: "correction-without-note" };
  if (FORMATS[format].family === "sft") {
    const item = sftItem(format, example, options);
    if ("skip" in item) return item;
    return { rows: [sftRow(format, item, conversational)], ...(item.template ? { template: item.template } : {}) };
  }
  if (options.humanLabels && example.kind === "judgment") {
    const item = correctionPair(example, options);
    if ("skip" in item) return item;
    return { rows: preferenceRows(format, item, conversational), ...(item.template ? { template: item.template } : {}) };
  }
  if (format === "kto" && options.ktoThreshold !== undefined && example.kind === "judgment" && example.mode === "absolute") {
    return ktoFromScore(example, options.ktoThreshold, conversational);
  }
  const item = preferenceItem(example);
  if ("skip" in item) return item;
  return { rows: preferenceRows(format, item, conversational) };
}

/** The human's critique over the judge's, both as the judge's template writes them, after the judge's prompt. */
function correctionPair(example: Extract<Example, { kind: "judgment" }>, options: BuildOptions): (PreferenceItem & { template: string }) | Skip {
  const correction = example.correction;
  if (!correction) return { skip: "judge-agreed" };
  const template = options.template ?? builtinTemplate(example.judge?.template);
  if (!template) return { skip: "unknown-template", detail: `template "${example.judge?.template ?? "(none recorded)"}"` };
  const chosen = critiqueItem(template, example, options);
  if ("skip" in chosen) return chosen;
  const judged = example.mode === "absolute" ? { ...example, ...correction, correction: undefined } : { ...example, ...(correction as { feedback: string; winner: "A" | "B" | "tie" }), correction: undefined };
  const rejected = critiqueItem(template, judged as Example, options);
  if ("skip" in rejected) return rejected;
  if (chosen.completion === rejected.completion) return { skip: "same-response" };
  return { prompt: flatten(chosen.prompt), chosen: chosen.completion, rejected: rejected.completion, template: template.name };
}

/** One unpaired KTO row from a graded response: desirable when the judge's score reaches the threshold. */
function ktoFromScore(example: Extract<Example, { mode: "absolute" }>, threshold: number, conversational: boolean): { rows: Row[] } | Skip {
  const response = example.record.response;
  if (typeof response !== "string" || isBlank(response) || isBlank(example.prompt)) return { skip: "empty-text" };
  const label = example.score >= threshold;
  return {
    rows: [
      conversational
        ? { prompt: [{ role: "user", content: example.prompt }], completion: [{ role: "assistant", content: response }], label }
        : { prompt: example.prompt, completion: continuation(example.prompt, response), label },
    ],
  };
}

function sftRow(format: FormatName, item: SftItem, conversational: boolean): Row {
  const assistant: ChatMessage = { role: "assistant", content: item.completion };
  switch (format) {
    case "sft-prompt-completion":
      if (conversational) return { prompt: item.prompt, completion: [assistant] };
      return { prompt: flatten(item.prompt), completion: continuation(flatten(item.prompt), item.completion) };
    case "alpaca": {
      const system = item.prompt.find((m) => m.role === "system")?.content;
      const user = item.prompt.filter((m) => m.role === "user").map((m) => m.content).join("\n\n");
      const [instruction, input] = system === undefined ? [user, ""] : [system, user];
      return { instruction, input, output: item.completion, text: alpacaText(instruction, input, item.completion) };
    }
    default:
      return { messages: [...item.prompt, assistant] };
  }
}

function preferenceRows(format: FormatName, item: PreferenceItem, conversational: boolean): Row[] {
  const user: ChatMessage = { role: "user", content: item.prompt };
  const chosen: ChatMessage = { role: "assistant", content: item.chosen };
  const rejected: ChatMessage = { role: "assistant", content: item.rejected };
  switch (format) {
    case "dpo-conversational":
      return [{ prompt: [user], chosen: [chosen], rejected: [rejected] }];
    case "kto":
      return conversational
        ? [
            { prompt: [user], completion: [chosen], label: true },
            { prompt: [user], completion: [rejected], label: false },
          ]
        : [
            { prompt: item.prompt, completion: continuation(item.prompt, item.chosen), label: true },
            { prompt: item.prompt, completion: continuation(item.prompt, item.rejected), label: false },
          ];
    case "reward":
      return [{ chosen: [user, chosen], rejected: [user, rejected] }];
    case "openai-dpo":
      return [{ input: { messages: [user] }, preferred_output: [chosen], non_preferred_output: [rejected] }];
    default:
      return [{ prompt: item.prompt, chosen: continuation(item.prompt, item.chosen), rejected: continuation(item.prompt, item.rejected) }];
  }
}

/**
 * A standard (non-conversational) completion as TRL reads it: the trainer appends it to the prompt
 * as is, so it starts with the space TRL's dataset-format docs use ("The sky is" + " blue."),
 * unless the prompt already ends in whitespace or the completion starts with it.
 */
export function continuation(prompt: string, completion: string): string {
  return /\s$/.test(prompt) || /^\s/.test(completion) ? completion : ` ${completion}`;
}

/** Prompt messages as one text: the system prompt, a blank line, the user message (render.ts' systemInUser form). */
function flatten(messages: ChatMessage[]): string {
  return messages.map((m) => m.content).join("\n\n");
}

function isBlank(value: string): boolean {
  return value.trim() === "";
}
