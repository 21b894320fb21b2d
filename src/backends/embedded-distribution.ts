/**
 * The probability of each verdict at the verdict position, read from llama.cpp itself. After a
 * generation the sequence still holds the prompt and the output; the output without its verdict is
 * the prefix. Each candidate ("1".."5", "A"/"B", "[[7]]"'s "7" with suffix "]]") is tokenized after
 * the prefix, the candidates' token paths form a tree, and at every branching point the next-token
 * probabilities come from `controlledEvaluate`. As under the output grammar, only the tree's tokens
 * are allowed at each step, so each step is renormalised over them; a candidate that ends where
 * another goes on ("1" and "10") ends with the end-of-generation token. The result is exact for the
 * model's grammar-constrained distribution, up to the floating point of the evaluation.
 */
import type { ChatHistoryItem, LlamaChat, LlamaModel, Token } from "node-llama-cpp";
import { verdictAtEnd, type TokenLogprob, type VerdictRequest } from "./types.js";

interface TreeNode {
  children: Map<Token, TreeNode>;
  /** Candidates whose path ends here. */
  ends: string[];
}

export async function verdictDistribution(
  chat: LlamaChat,
  model: LlamaModel,
  history: ChatHistoryItem[],
  output: string,
  request: VerdictRequest,
): Promise<{ distribution: Record<string, number> } | { error: string }> {
  const suffix = request.suffix ?? "";
  const end = verdictAtEnd(output, request);
  if (!end) return { error: "the output does not end with a verdict" };
  const prefix = output.slice(0, end.at);
  const tokensFor = (response: string): Token[] => {
    const withResponse = [...history.slice(0, -1), { type: "model" as const, response: [response] }];
    return chat.chatWrapper.generateContextState({ chatHistory: withResponse }).contextText.tokenize(model.tokenizer);
  };
  const paths = new Map(request.candidates.map((c) => [c, tokensFor(prefix + c + suffix)]));
  // Tokens shared by every candidate's context: the tree starts after them.
  let shared = Math.min(...[...paths.values()].map((p) => p.length));
  const first = paths.values().next().value!;
  for (const p of paths.values()) {
    let i = 0;
    while (i < shared && p[i] === first[i]) i++;
    shared = i;
  }
  const root: TreeNode = { children: new Map(), ends: [] };
  for (const [candidate, path] of paths) {
    let node = root;
    for (const token of path.slice(shared)) {
      let next = node.children.get(token);
      if (!next) node.children.set(token, (next = { children: new Map(), ends: [] }));
      node = next;
    }
    node.ends.push(candidate);
  }
  if (root.ends.length > 0) return { error: "two candidates tokenize the same" };
  const endTokens = [model.tokens.eos, model.tokens.eot].filter((t): t is Token => t !== null && t !== undefined);
  const distribution: Record<string, number> = Object.fromEntries(request.candidates.map((c) => [c, 0]));
  const sequence = chat.sequence;

  const walk = async (node: TreeNode, path: Token[], mass: number): Promise<void> => {
    const options = [...node.children.keys()];
    const ending = node.ends.length > 0;
    if (ending && options.length === 0) {
      for (const c of node.ends) distribution[c]! += mass / node.ends.length;
      return;
    }
    let weights: number[];
    let stopWeight = 0;
    if (options.length === 1 && !ending) weights = [1];
    else {
      const probabilities = await nextProbabilities(first.slice(0, shared).concat(path));
      weights = options.map((t) => probabilities.get(t) ?? 0);
      if (ending) stopWeight = endTokens.reduce((sum, t) => sum + (probabilities.get(t) ?? 0), 0);
    }
    const total = weights.reduce((a, b) => a + b, 0) + stopWeight;
    if (total <= 0) throw new Error("the model gives every allowed verdict token probability 0");
    if (ending) for (const c of node.ends) distribution[c]! += (mass * stopWeight) / total / node.ends.length;
    for (const [i, token] of options.entries()) {
      if (weights[i]! > 0) await walk(node.children.get(token)!, [...path, token], (mass * weights[i]!) / total);
    }
  };

  /** Next-token probabilities after `tokens`, evaluating only what the sequence does not hold yet. */
  const nextProbabilities = async (tokens: Token[]): Promise<Map<Token, number>> => {
    const held = sequence.contextTokens;
    let common = 0;
    while (common < tokens.length && common < held.length && tokens[common] === held[common]) common++;
    // The last token is always evaluated again: its probabilities are what is asked for.
    common = Math.min(common, tokens.length - 1);
    if (common < sequence.nextTokenIndex) await sequence.eraseContextTokenRanges([{ start: common, end: sequence.nextTokenIndex }]);
    const rest = tokens.slice(common);
    const results = await sequence.controlledEvaluate(rest.map((t, i) => (i === rest.length - 1 ? [t, { generateNext: { probabilities: true } }] : t)));
    const probabilities = results.at(-1)?.next.probabilities;
    if (!probabilities) throw new Error("llama.cpp returned no probabilities");
    return probabilities;
  };

  try {
    await walk(root, [], 1);
  } catch (error) {
    return { error: `cannot read verdict probabilities: ${(error as Error).message}` };
  }
  const sum = Object.values(distribution).reduce((a, b) => a + b, 0);
  if (!(sum > 0)) return { error: "the verdict probabilities sum to 0" };
  for (const c of request.candidates) distribution[c] = distribution[c]! / sum;
  return { distribution };
}

/** What OpenAI writes for a token whose probability is 0 (JSON has no -Infinity). */
const LOWEST_LOGPROB = -9999;
/** Tokens before a token that its text is read after (a leading space depends on what precedes). */
const TEXT_WINDOW = 8;

/**
 * OpenAI-style logprobs of an output, read from llama.cpp: the output is evaluated again after the
 * prompt, and at each output position the model's next-token probabilities give the token's log
 * probability and the `top` most likely tokens. These are the model's own probabilities (before a
 * grammar, temperature or top-p), as OpenAI reports them. Tokens past the text (an end token, a stop
 * trigger cut from the text) are left out, so the tokens' texts make up `text`.
 */
export async function outputLogprobs(chat: LlamaChat, model: LlamaModel, prompt: Token[], output: Token[], text: string, top: number): Promise<TokenLogprob[]> {
  if (output.length === 0 || prompt.length === 0) return [];
  const sequence = chat.sequence;
  const tokens = prompt.concat(output);
  const held = sequence.contextTokens;
  let common = 0;
  while (common < tokens.length && common < held.length && tokens[common] === held[common]) common++;
  // The last prompt token is evaluated again: its probabilities are the first output token's.
  common = Math.min(common, prompt.length - 1);
  if (common < sequence.nextTokenIndex) await sequence.eraseContextTokenRanges([{ start: common, end: sequence.nextTokenIndex }]);
  const rest = tokens.slice(common, tokens.length - 1);
  const first = prompt.length - 1 - common;
  const results = await sequence.controlledEvaluate(rest.map((t, i) => (i >= first ? [t, { generateNext: { probabilities: true } }] : t)));
  const pieceAfter = (before: Token[], token: Token): string => {
    const context = model.detokenize(before);
    return model.detokenize([...before, token]).slice(context.length);
  };
  const out: TokenLogprob[] = [];
  let length = 0;
  for (const [i, token] of output.entries()) {
    if (length >= text.length) break;
    const probabilities = results[first + i]?.next.probabilities;
    if (!probabilities) throw new Error(`llama.cpp returned no probabilities for output token ${i}`);
    const before = output.slice(Math.max(0, i - TEXT_WINDOW), i);
    const piece = pieceAfter(before, token);
    if (piece === "") continue;
    const alternatives: Array<{ token: string; logprob: number }> = [];
    for (const [alt, p] of probabilities) {
      if (alternatives.length >= top) break;
      alternatives.push({ token: pieceAfter(before, alt), logprob: logOf(p) });
    }
    out.push({ token: piece, logprob: logOf(probabilities.get(token) ?? 0), top_logprobs: alternatives });
    length += piece.length;
  }
  return out;
}

function logOf(p: number): number {
  return p > 0 ? Math.max(Math.log(p), LOWEST_LOGPROB) : LOWEST_LOGPROB;
}
