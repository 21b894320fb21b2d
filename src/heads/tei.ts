/**
 * A head served by Hugging Face text-embeddings-inference (encoder sequence classifiers). Wire format
 * as in huggingface/text-embeddings-inference router/src/http/types.rs at 265deb2:
 *   POST /predict  {inputs: "text", raw_scores: true, truncate: false}
 *        -> [{score, label}, ...]   one per class, sorted by score (labels from the model's id2label)
 * Encoder classifiers have no chat template: the prompt's messages are joined by blank lines.
 * `raw_scores: true` gives the logits (a regress head's value) instead of softmax/sigmoid scores.
 * Labels map to head rows by "LABEL_<i>" (id2label's default) or by the score they name ("4").
 */
import type { ChatMessage } from "../backends/types.js";
import { BackendError } from "../backends/types.js";
import { createHttpHeadClient, httpHeadModel, type HttpHeadOptions } from "./http-head.js";
import type { HeadModel, HeadOutput, HeadScore } from "./spec.js";

export interface TeiHeadOptions extends Omit<HttpHeadOptions, "baseURLs"> {
  /** The server URL(s) (`tei:<url>`, plus any --base-url). */
  baseURLs: string[];
  output: HeadOutput;
}

/** The prompt as one text for an encoder without a chat template. */
export function promptText(messages: ChatMessage[]): string {
  return messages.map((m) => m.content).join("\n\n");
}

export function createTeiHead(options: TeiHeadOptions): HeadModel & { retries: number } {
  const client = createHttpHeadClient(options);
  const what = "text-embeddings-inference /predict";
  const labels = options.output.kind === "classify" ? options.output.labels! : undefined;
  const rows = labels ? labels.length : 1;
  const rowOf = (label: string): number => {
    const generic = /^LABEL_(\d+)$/.exec(label);
    if (generic) return Number(generic[1]);
    const named = labels ? labels.indexOf(Number(label)) : -1;
    if (named >= 0 && label.trim() !== "") return named;
    throw new BackendError(`${what}: label "${label}" is neither LABEL_<i> nor one of the scores ${labels?.join(", ") ?? "(regress)"}`, false);
  };
  const score = async (messages: ChatMessage[], signal?: AbortSignal): Promise<HeadScore> => {
    const json = await client.post("predict", { inputs: promptText(messages), raw_scores: true, truncate: false }, what, signal);
    if (!Array.isArray(json) || !json.every((p) => typeof p === "object" && p !== null && typeof (p as { score?: unknown }).score === "number" && typeof (p as { label?: unknown }).label === "string")) {
      throw new BackendError(`${what}: expected a list of {score, label}, got ${JSON.stringify(json).slice(0, 200)}`, false);
    }
    const predictions = json as Array<{ score: number; label: string }>;
    if (predictions.length !== rows) throw new BackendError(`${what}: the model gives ${predictions.length} outputs but the head has ${rows} (--head)`, false);
    const logits = new Array<number>(rows).fill(NaN);
    for (const p of predictions) {
      const row = rowOf(p.label);
      if (row >= rows || !Number.isNaN(logits[row]!)) throw new BackendError(`${what}: label "${p.label}" is out of range or repeated`, false);
      logits[row] = p.score;
    }
    // TEI does not count tokens in /predict's answer.
    return { logits, promptTokens: 0 };
  };
  return httpHeadModel({ kind: "tei", model: options.baseURLs.join(","), output: options.output }, client, score);
}
