/**
 * zod schemas of the rows each format writes: what TRL (dataset_formats: standard / conversational
 * language modeling, prompt-completion, preference, unpaired preference) and the OpenAI fine-tuning
 * API (supervised chat, DPO) accept. Every row is checked against its schema before it is written.
 * Rows are strict objects: exactly the format's columns, nothing else.
 */
import { z } from "zod";
import type { FormatName } from "./types.js";

const text = z.string().refine((value) => value.trim() !== "", { message: "must be non-empty text" });

const message = z.strictObject({ role: z.enum(["system", "user", "assistant"]), content: text });
const assistantMessage = z.strictObject({ role: z.literal("assistant"), content: text });
type Message = z.infer<typeof message>;

/**
 * Turn order chat templates accept: at most one system message, first; then user and assistant
 * strictly alternating, starting with user. `end` is the role the list must end with.
 */
function turnOrder(end: "user" | "assistant") {
  return (messages: Message[], ctx: z.RefinementCtx) => {
    const turns = messages[0]?.role === "system" ? messages.slice(1) : messages;
    if (turns.length === 0) {
      ctx.addIssue({ code: "custom", message: "needs at least one user message" });
      return;
    }
    turns.forEach((m, i) => {
      const expected = i % 2 === 0 ? "user" : "assistant";
      if (m.role !== expected) {
        ctx.addIssue({ code: "custom", path: [messages.length - turns.length + i, "role"], message: `expected "${expected}" here (system first, then user/assistant alternating), got "${m.role}"` });
      }
    });
    if (turns.at(-1)!.role !== end) ctx.addIssue({ code: "custom", message: `the last message must be "${end}"` });
  };
}

/** A full conversation for supervised training: ends with the assistant's target. */
export const conversationSchema = z.array(message).min(2).superRefine(turnOrder("assistant"));
/** A prompt conversation: ends with the user message the completion answers. */
export const promptConversationSchema = z.array(message).min(1).superRefine(turnOrder("user"));
/** A conversational completion: exactly one assistant message. */
export const completionMessagesSchema = z.array(assistantMessage).length(1);

/** TRL conversational language modeling (SFTTrainer), also criticon-sft and prometheus-sft. */
export const sftMessagesRowSchema = z.strictObject({ messages: conversationSchema });

/** TRL standard prompt-completion (SFTTrainer). */
export const promptCompletionRowSchema = z.strictObject({ prompt: text, completion: text });

/** TRL conversational prompt-completion (SFTTrainer). */
export const promptCompletionConversationalRowSchema = z.strictObject({
  prompt: promptConversationSchema,
  completion: completionMessagesSchema,
});

/** Alpaca (instruction, input, output) plus the rendered training `text` (SFTTrainer text field). */
export const alpacaRowSchema = z.strictObject({
  instruction: text,
  input: z.string(),
  output: text,
  text,
});

const differ = (row: { chosen: unknown; rejected: unknown }) => JSON.stringify(row.chosen) !== JSON.stringify(row.rejected);
const differMessage = { message: "chosen and rejected must differ", path: ["rejected"] };

/** TRL standard preference with explicit prompt (DPOTrainer). */
export const dpoRowSchema = z.strictObject({ prompt: text, chosen: text, rejected: text }).refine(differ, differMessage);

/** TRL conversational preference with explicit prompt (DPOTrainer). */
export const dpoConversationalRowSchema = z
  .strictObject({ prompt: promptConversationSchema, chosen: completionMessagesSchema, rejected: completionMessagesSchema })
  .refine(differ, differMessage);

/** TRL standard unpaired preference (KTOTrainer). */
export const ktoRowSchema = z.strictObject({ prompt: text, completion: text, label: z.boolean() });

/** TRL conversational unpaired preference (KTOTrainer). */
export const ktoConversationalRowSchema = z.strictObject({
  prompt: promptConversationSchema,
  completion: completionMessagesSchema,
  label: z.boolean(),
});

/**
 * TRL conversational preference with implicit prompt (RewardTrainer; the only kind older TRL
 * versions accept): both conversations hold the same prompt and differ in the last message.
 */
export const rewardRowSchema = z
  .strictObject({ chosen: conversationSchema, rejected: conversationSchema })
  .refine((row) => JSON.stringify(row.chosen.slice(0, -1)) === JSON.stringify(row.rejected.slice(0, -1)), {
    message: "chosen and rejected must share the same prompt messages",
    path: ["rejected"],
  })
  .refine((row) => row.chosen.at(-1)!.content !== row.rejected.at(-1)!.content, differMessage);

/** OpenAI supervised fine-tuning (chat): system/user/assistant messages, ending with the assistant's target. */
export const openaiSftRowSchema = z.strictObject({ messages: conversationSchema });

/**
 * OpenAI DPO fine-tuning: `input.messages` ends with the user turn; the preferred and the
 * non-preferred output are each one assistant message.
 */
export const openaiDpoRowSchema = z
  .strictObject({
    input: z.strictObject({ messages: promptConversationSchema }),
    preferred_output: completionMessagesSchema,
    non_preferred_output: completionMessagesSchema,
  })
  .refine((row) => row.preferred_output[0]!.content !== row.non_preferred_output[0]!.content, {
    message: "preferred and non-preferred outputs must differ",
    path: ["non_preferred_output"],
  });

/** classify: the judge prompt and the score's index on the template's scale. */
export const classifyRowSchema = z.strictObject({ text, label: z.number().int().nonnegative() });

/** regress: the judge prompt and the score. */
export const regressRowSchema = z.strictObject({ text, label: z.number().finite() });

/** The schema a format's rows must pass (`conversational` picks the variant of sft-prompt-completion and kto). */
export function rowSchemaFor(format: FormatName, conversational = false): z.ZodType {
  switch (format) {
    case "sft-messages":
    case "criticon-sft":
    case "prometheus-sft":
      return sftMessagesRowSchema;
    case "sft-prompt-completion":
      return conversational ? promptCompletionConversationalRowSchema : promptCompletionRowSchema;
    case "alpaca":
      return alpacaRowSchema;
    case "dpo":
      return dpoRowSchema;
    case "dpo-conversational":
      return dpoConversationalRowSchema;
    case "kto":
      return conversational ? ktoConversationalRowSchema : ktoRowSchema;
    case "reward":
      return rewardRowSchema;
    case "openai-sft":
      return openaiSftRowSchema;
    case "openai-dpo":
      return openaiDpoRowSchema;
    case "classify":
      return classifyRowSchema;
    case "regress":
      return regressRowSchema;
  }
}
