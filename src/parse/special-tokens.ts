/**
 * End-of-turn and end-of-sequence markers that leak into outputs when a server or template does not
 * strip them (`[RESULT] 4</s>`). They are removed from the end of an output before parsing; the
 * recorded raw text keeps them.
 */
export const END_TOKENS: readonly string[] = [
  "</s>", // Llama 2, Mistral, SentencePiece models
  "<|im_end|>", // ChatML (Qwen, OpenHermes)
  "<|eot_id|>", // Llama 3
  "<|end_of_text|>", // Llama 3
  "<|endoftext|>", // GPT-2 family, Phi
  "<|end|>", // Phi-3
  "<end_of_turn>", // Gemma
  "<eos>", // Gemma
  "<|EOT|>", // DeepSeek Coder
  "<｜end▁of▁sentence｜>", // DeepSeek
  "[/INST]", // a Mistral turn marker echoed at the end
];

/** The output without trailing end tokens (and the whitespace around them). */
export function stripEndTokens(text: string, extra: readonly string[] = []): string {
  const tokens = extra.length > 0 ? [...extra, ...END_TOKENS] : END_TOKENS;
  let out = text.trimEnd();
  for (let changed = true; changed; ) {
    changed = false;
    for (const token of tokens) {
      if (token !== "" && out.endsWith(token)) {
        out = out.slice(0, -token.length).trimEnd();
        changed = true;
      }
    }
  }
  return out;
}
