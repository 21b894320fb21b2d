/**
 * Reasoning judges (DeepSeek-R1 distills, J1, RM-R1) think in `<think>…</think>` before they answer;
 * the verdict is read from the answer after the last `</think>`. Chat templates often put the
 * opening `<think>` in the prompt, so only the closing tag is required. Reasoning that never closes
 * holds no answer.
 */
const OPEN = "<think>";
const CLOSE = "</think>";

export type ReasoningSplit = { reasoning?: string; answer: string } | { error: string };

export function splitReasoning(text: string): ReasoningSplit {
  const close = text.lastIndexOf(CLOSE);
  if (close >= 0) {
    const open = text.indexOf(OPEN);
    const from = open >= 0 && open < close ? open + OPEN.length : 0;
    return { reasoning: text.slice(from, close).trim(), answer: text.slice(close + CLOSE.length) };
  }
  if (text.trimStart().startsWith(OPEN)) return { error: "the reasoning block (<think>) is never closed: no answer after it" };
  return { answer: text };
}
