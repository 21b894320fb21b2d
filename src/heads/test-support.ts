// Test helpers (not part of the library): node-llama-cpp for independent checks, token ids of the tiny vocabulary.
export { getLlama, resolveChatWrapper } from "node-llama-cpp";
import { tinyLlamaVocab } from "../gguf/tiny-llama.js";

export function tinyLlamaVocabIds(tokens: string[]): number[] {
  const vocab = tinyLlamaVocab();
  return tokens.map((t) => vocab.tokens.indexOf(t));
}
