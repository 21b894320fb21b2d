import { describe, expect, it } from "vitest";
import {
  alpacaRowSchema, dpoConversationalRowSchema, dpoRowSchema, ktoConversationalRowSchema, ktoRowSchema, openaiDpoRowSchema,
  openaiSftRowSchema, promptCompletionConversationalRowSchema, promptCompletionRowSchema, rewardRowSchema, sftMessagesRowSchema,
} from "./schemas.js";

const u = (content: string) => ({ role: "user", content });
const a = (content: string) => ({ role: "assistant", content });
const s = (content: string) => ({ role: "system", content });

describe("target format schemas reject what TRL / OpenAI would reject", () => {
  it("conversational SFT: roles, order, last message assistant, non-empty content, no extra keys", () => {
    expect(sftMessagesRowSchema.safeParse({ messages: [s("sys"), u("q"), a("r")] }).success).toBe(true);
    expect(sftMessagesRowSchema.safeParse({ messages: [u("q"), a("r"), u("q2"), a("r2")] }).success).toBe(true);
    for (const bad of [
      { messages: [u("q")] },
      { messages: [u("q"), a("r"), u("again")] },
      { messages: [a("r"), u("q"), a("r")] },
      { messages: [u("q"), u("q"), a("r")] },
      { messages: [u("q"), s("late system"), a("r")] },
      { messages: [u("q"), { role: "tool", content: "x" }] },
      { messages: [u("q"), a("   ")] },
      { messages: [u("q"), { role: "assistant", content: "r", name: "x" }] },
      { messages: [u("q"), a("r")], extra: 1 },
      { messages: [s("only system"), a("r")] },
    ]) {
      expect(sftMessagesRowSchema.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
    }
    expect(openaiSftRowSchema.safeParse({ messages: [u("q")] }).success).toBe(false);
  });

  it("prompt-completion, standard and conversational", () => {
    expect(promptCompletionRowSchema.safeParse({ prompt: "p", completion: "c" }).success).toBe(true);
    expect(promptCompletionRowSchema.safeParse({ prompt: "p", completion: "" }).success).toBe(false);
    expect(promptCompletionRowSchema.safeParse({ prompt: [u("p")], completion: "c" }).success).toBe(false);
    expect(promptCompletionConversationalRowSchema.safeParse({ prompt: [s("x"), u("p")], completion: [a("c")] }).success).toBe(true);
    expect(promptCompletionConversationalRowSchema.safeParse({ prompt: [u("p"), a("c")], completion: [a("c")] }).success).toBe(false);
    expect(promptCompletionConversationalRowSchema.safeParse({ prompt: [u("p")], completion: [u("c")] }).success).toBe(false);
  });

  it("preference: explicit prompt, distinct chosen and rejected, conversational completions are one assistant message", () => {
    expect(dpoRowSchema.safeParse({ prompt: "p", chosen: "c", rejected: "r" }).success).toBe(true);
    expect(dpoRowSchema.safeParse({ prompt: "p", chosen: "c", rejected: "c" }).success).toBe(false);
    expect(dpoRowSchema.safeParse({ chosen: "c", rejected: "r" }).success).toBe(false);
    expect(dpoConversationalRowSchema.safeParse({ prompt: [u("p")], chosen: [a("c")], rejected: [a("r")] }).success).toBe(true);
    expect(dpoConversationalRowSchema.safeParse({ prompt: "p", chosen: [a("c")], rejected: [a("r")] }).success).toBe(false);
    expect(dpoConversationalRowSchema.safeParse({ prompt: [u("p")], chosen: [a("c"), a("d")], rejected: [a("r")] }).success).toBe(false);
  });

  it("KTO: a boolean label", () => {
    expect(ktoRowSchema.safeParse({ prompt: "p", completion: "c", label: true }).success).toBe(true);
    expect(ktoRowSchema.safeParse({ prompt: "p", completion: "c", label: 1 }).success).toBe(false);
    expect(ktoConversationalRowSchema.safeParse({ prompt: [u("p")], completion: [a("c")], label: false }).success).toBe(true);
  });

  it("reward: implicit prompt, the same prompt messages on both sides", () => {
    expect(rewardRowSchema.safeParse({ chosen: [u("p"), a("c")], rejected: [u("p"), a("r")] }).success).toBe(true);
    expect(rewardRowSchema.safeParse({ chosen: [u("p"), a("c")], rejected: [u("other"), a("r")] }).success).toBe(false);
    expect(rewardRowSchema.safeParse({ prompt: [u("p")], chosen: [u("p"), a("c")], rejected: [u("p"), a("r")] }).success).toBe(false);
    expect(rewardRowSchema.safeParse({ chosen: [u("p"), a("c")], rejected: [u("p"), a("c")] }).success).toBe(false);
  });

  it("OpenAI DPO: input.messages ends with the user turn, one assistant message per output", () => {
    const good = { input: { messages: [u("p")] }, preferred_output: [a("c")], non_preferred_output: [a("r")] };
    expect(openaiDpoRowSchema.safeParse(good).success).toBe(true);
    expect(openaiDpoRowSchema.safeParse({ ...good, input: { messages: [u("p"), a("c")] } }).success).toBe(false);
    expect(openaiDpoRowSchema.safeParse({ ...good, preferred_output: [u("c")] }).success).toBe(false);
    expect(openaiDpoRowSchema.safeParse({ ...good, non_preferred_output: [a("c")] }).success).toBe(false);
  });

  it("Alpaca: instruction/input/output/text, input may be empty", () => {
    expect(alpacaRowSchema.safeParse({ instruction: "i", input: "", output: "o", text: "t" }).success).toBe(true);
    expect(alpacaRowSchema.safeParse({ instruction: "i", input: "", output: "", text: "t" }).success).toBe(false);
  });
});
