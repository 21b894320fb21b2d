/**
 * Verdict probabilities from an OpenAI-style `logprobs.content` list (OpenAI, vLLM, llama.cpp
 * server): find the token where the verdict begins, and renormalise its `top_logprobs` over the
 * candidates, counting each alternative with or without a leading space as the same verdict. Only
 * what the server returned is used: candidates missing from the alternatives get 0, and when none
 * is there, or one token cannot tell two candidates apart ("1" of "10" on a tokenizer that splits
 * digits), there is no distribution and the reason says why.
 */
import { verdictAtEnd, type TokenLogprob, type VerdictRequest } from "./types.js";

export type { TokenLogprob };

/** The most alternatives OpenAI's API returns per position. */
export const MAX_TOP_LOGPROBS = 20;

export function distributionFromLogprobs(
  text: string,
  content: TokenLogprob[] | null | undefined,
  request: VerdictRequest,
): { distribution: Record<string, number> } | { error: string } {
  if (!content || content.length === 0) return { error: "the server returned no logprobs (does it support logprobs / top_logprobs?)" };
  const suffix = request.suffix ?? "";
  const end = verdictAtEnd(text, request);
  if (!end) return { error: "the output does not end with a verdict" };
  const { at } = end;
  const longest = [...request.candidates].sort((a, b) => b.length - a.length);
  // Tokens concatenate to the text; find the one holding the verdict's first character.
  let start = 0;
  let index = -1;
  for (const [i, t] of content.entries()) {
    if (at < start + t.token.length) {
      index = i;
      break;
    }
    start += t.token.length;
  }
  if (index === -1) return { error: "the logprobs do not cover the verdict" };
  const token = content[index]!;
  const lead = token.token.slice(0, at - start);
  if (lead.trim() !== "") return { error: `the verdict shares a token with the text before it ("${token.token}")` };
  const alternatives = token.top_logprobs && token.top_logprobs.length > 0 ? token.top_logprobs : [{ token: token.token, logprob: token.logprob }];
  const valueOf = (tokenText: string) => {
    const value = tokenText.trimStart();
    // The longest candidate the token is, alone or with (part of) the suffix: "8", "8]", "8]]".
    return longest.find((c) => value === c || (suffix !== "" && value.startsWith(c) && suffix.startsWith(value.slice(c.length))));
  };
  const mass: Record<string, number> = Object.fromEntries(request.candidates.map((c) => [c, 0]));
  for (const alt of alternatives) {
    const candidate = valueOf(alt.token);
    if (candidate !== undefined) mass[candidate]! += Math.exp(alt.logprob);
  }
  // "1" and "10": when the tokenizer splits numbers, a "1" token may begin "10" and one position cannot tell.
  const seen = new Set(alternatives.map((a) => valueOf(a.token)));
  for (const longer of request.candidates) {
    const shorter = request.candidates.find((c) => c !== longer && longer.startsWith(c));
    if (shorter !== undefined && seen.has(shorter) && !seen.has(longer)) {
      return { error: `the server's tokens do not tell "${shorter}" from "${longer}" at one position (its tokenizer splits the verdict)` };
    }
  }
  const total = Object.values(mass).reduce((a, b) => a + b, 0);
  if (!(total > 0)) return { error: "no verdict among the server's top alternatives at the verdict position" };
  return { distribution: Object.fromEntries(Object.entries(mass).map(([c, p]) => [c, p / total])) };
}
