/**
 * The Alpaca prompt (Stanford Alpaca's PROMPT_DICT, also Unsloth's `alpaca_prompt`), as seed 001
 * quotes it. The seed wraps the first sentence pair over two lines ("...further context. " then a
 * line break); the published template has them on one line, which is what this file keeps.
 * Rows without an input use Alpaca's no-input form, as Stanford Alpaca's train.py does.
 */
export const ALPACA_PROMPT =
  "Below is an instruction that describes a task, paired with an input that provides further context. " +
  "Write a response that appropriately completes the request.\n\n" +
  "### Instruction:\n{instruction}\n\n### Input:\n{input}\n\n### Response:\n";

export const ALPACA_PROMPT_NO_INPUT =
  "Below is an instruction that describes a task. " +
  "Write a response that appropriately completes the request.\n\n" +
  "### Instruction:\n{instruction}\n\n### Response:\n";

/** The training text of an Alpaca row: the prompt with its fields filled in, then the output. */
export function alpacaText(instruction: string, input: string, output: string): string {
  const template = input.trim() === "" ? ALPACA_PROMPT_NO_INPUT : ALPACA_PROMPT;
  // One pass, so braces inside the values are never read as placeholders.
  const prompt = template.replace(/\{(instruction|input)\}/g, (_, name: string) => (name === "instruction" ? instruction : input));
  return `${prompt}${output}`;
}
