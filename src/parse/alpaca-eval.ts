/**
 * AlpacaEval's parsers (tatsu-lab/alpaca_eval@cd543a149df89434d8a54582c0151c0b945c3d20,
 * src/alpaca_eval/completion_parsers.py).
 * - ranking_parser (alpaca_eval_gpt4): the whole output is a Python literal (ast.literal_eval), a
 *   list of dicts; the rank of the dict whose "model" is "model_1" must be 1 or 2. Rank 1: output_1
 *   (response A) wins; rank 2: output_2 (B).
 * - weighted_alpaca_eval_gpt4_turbo: one token, `m` (output_1) or `M` (output_2). AlpacaEval reads the
 *   token's logprobs (logprob_parser, numerator m over m and M): critic's winner distribution over
 *   the candidates m and M is that same ratio; the text gives the sampled winner.
 */
import type { PairwiseParse, ParseFailure } from "./types.js";

function failure(raw: string, error: string): ParseFailure {
  return { ok: false, error, raw };
}

type PyValue = string | number | boolean | null | PyValue[] | Map<string | number, PyValue>;

/** The subset of Python literals a ranking holds: lists, tuples, dicts, strings, numbers, True/False/None. */
class PyLiteral {
  private at = 0;
  constructor(private readonly text: string) {}

  parse(): PyValue {
    const value = this.value(0);
    this.space();
    if (this.at !== this.text.length) throw new Error(`unexpected text at offset ${this.at}`);
    return value;
  }

  private space(): void {
    while (this.at < this.text.length && /\s/.test(this.text[this.at]!)) this.at++;
  }

  private value(depth: number): PyValue {
    if (depth > 32) throw new Error("nested too deep");
    this.space();
    const c = this.text[this.at];
    if (c === "[" || c === "(") return this.sequence(c === "[" ? "]" : ")", depth);
    if (c === "{") return this.dict(depth);
    if (c === "'" || c === '"') return this.string();
    const word = /^(?:True|False|None|[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)/.exec(this.text.slice(this.at, this.at + 64));
    if (!word) throw new Error(`unexpected ${c === undefined ? "end" : `"${c}"`} at offset ${this.at}`);
    this.at += word[0].length;
    return word[0] === "True" ? true : word[0] === "False" ? false : word[0] === "None" ? null : Number(word[0]);
  }

  private sequence(close: string, depth: number): PyValue[] {
    this.at++;
    const items: PyValue[] = [];
    for (;;) {
      this.space();
      if (this.text[this.at] === close) { this.at++; return items; }
      items.push(this.value(depth + 1));
      this.space();
      if (this.text[this.at] === ",") this.at++;
      else if (this.text[this.at] !== close) throw new Error(`expected "," or "${close}" at offset ${this.at}`);
    }
  }

  private dict(depth: number): Map<string | number, PyValue> {
    this.at++;
    const map = new Map<string | number, PyValue>();
    for (;;) {
      this.space();
      if (this.text[this.at] === "}") { this.at++; return map; }
      const key = this.value(depth + 1);
      if (typeof key !== "string" && typeof key !== "number") throw new Error("dict keys must be strings or numbers");
      this.space();
      if (this.text[this.at] !== ":") throw new Error(`expected ":" at offset ${this.at}`);
      this.at++;
      map.set(key, this.value(depth + 1));
      this.space();
      if (this.text[this.at] === ",") this.at++;
      else if (this.text[this.at] !== "}") throw new Error(`expected "," or "}" at offset ${this.at}`);
    }
  }

  private string(): string {
    const quote = this.text[this.at]!;
    let out = "";
    for (this.at++; this.at < this.text.length; this.at++) {
      const c = this.text[this.at]!;
      if (c === quote) { this.at++; return out; }
      if (c === "\n") break;
      if (c === "\\") {
        const next = this.text[++this.at];
        out += next === "n" ? "\n" : next === "t" ? "\t" : next ?? "";
      } else out += c;
    }
    throw new Error("unterminated string");
  }
}

export function parseAlpacaEvalRanking(text: string): PairwiseParse {
  if (text === "") return failure(text, "empty output");
  let value: PyValue;
  try {
    value = new PyLiteral(text.trim()).parse();
  } catch (error) {
    return failure(text, `the output is not a Python literal (ast.literal_eval): ${(error as Error).message}`);
  }
  if (!Array.isArray(value)) return failure(text, "the output is not a list of {'model': …, 'rank': …} dicts");
  const first = value.find((item): item is Map<string | number, PyValue> => item instanceof Map && item.get("model") === "model_1");
  if (!first) return failure(text, "no entry for 'model_1' in the ranking");
  // Python's `rank in [1, 2]` also holds for True and 1.0.
  const given = first.get("rank");
  const rank = given === true ? 1 : given;
  if (rank !== 1 && rank !== 2) return failure(text, `model_1's rank ${JSON.stringify(given ?? null)} is not 1 or 2`);
  return { ok: true, feedback: "", winner: rank === 1 ? "A" : "B" };
}

export function parseAlpacaEvalToken(text: string): PairwiseParse {
  const token = text.trim();
  if (token === "m") return { ok: true, feedback: "", winner: "A" };
  if (token === "M") return { ok: true, feedback: "", winner: "B" };
  return failure(text, 'the output is not the model identifier "m" or "M"');
}
