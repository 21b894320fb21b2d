/**
 * critic as an AI SDK decision model (`experimental_decide`): each question is one judgment by a
 * critic judge (any `--model`, or a Backend), run by the library's engine, so it is cached in the
 * run store and parsed by the format's own rule. An output that never parses is a `refusal`, never
 * an invented answer; distributions come only from token probabilities the backend read.
 */
import type {
  Experimental_DecisionModelV4 as DecisionModelV4,
  Experimental_DecisionModelV4Answer as DecisionAnswer,
  Experimental_DecisionModelV4CallOptions as DecisionCallOptions,
  Experimental_DecisionModelV4Result as DecisionResult,
  JSONObject,
  SharedV4Warning,
} from "@ai-sdk/provider";
import {
  asBackend, DEFAULT_STORE, headIdentity, isHeadSpec, judgeStream, openBackend, openHead, resolveParams, RunStore, withTrainedPromptForm,
  type AiSdkLanguageModel, type Backend, type BackendOptions, type HeadModel, type Judgment, type Rubric, type SamplingParams,
} from "../index.js";
import { compileQuestion, type CompiledQuestion } from "./questions.js";

export interface CriticDecisionModelOptions extends BackendOptions {
  /** Template for `score` questions whose state is a record (built-in name or YAML file). */
  template?: string;
  /** Rubric for `score` questions whose state is a record: replaces the question's level descriptions. */
  rubric?: string | Rubric;
  /** Run store path, an open store, or false for none. Default `.critic/store.sqlite`, as `judge()`. */
  store?: string | RunStore | false;
  /** Judgments per question (mean score, majority choice, share of true). Default 1. */
  samples?: number;
  /** New samples drawn when an output does not parse, before the answer is a refusal. Default 2. */
  maxRetries?: number;
  /** Sampling parameters (default greedy, as `critic judge`). */
  params?: SamplingParams;
  /** Ask for verdict probabilities where the backend can read them (default true). */
  distributions?: boolean;
}

export type CriticDecisionModel = DecisionModelV4 & {
  /** The backend this model judges with (opened on the first call when given as a spec). */
  backend(): Promise<Backend>;
  /** Closes what the model opened: its backend (when given as a spec) and its run store (when given as a path). */
  dispose(): Promise<void>;
};

const SUPPORTED = ["score", "choice", "boolean"] as const;

/** A `DecisionModelV4` backed by a critic judge: `experimental_decide({ model: criticDecisionModel("./judge.gguf"), … })`. */
export function criticDecisionModel(model: string | Backend | AiSdkLanguageModel, options: CriticDecisionModelOptions = {}): CriticDecisionModel {
  let opened: Promise<Backend> | undefined;
  let store: RunStore | undefined;
  const ownsBackend = typeof model === "string";
  const ownsStore = typeof options.store !== "object";
  // A judge package (or a vLLM / TEI head): one forward pass scores a question, no generated text.
  const headSpec = typeof model === "string" && isHeadSpec(model) ? model : undefined;
  let head: HeadModel | undefined;
  // The judge's call warnings go back in the result, which the AI SDK logs (and returns) itself:
  // not printed a second time by the backend, unless the caller asked for them.
  const onWarning = options.onWarning ?? (() => {});
  const backend = (): Promise<Backend> => {
    opened ??= headSpec
      ? openHead(headSpec, options).then((h) => headIdentity((head = h)))
      : typeof model === "string" ? openBackend(model, { ...options, onWarning }) : Promise.resolve(asBackend(model, { onWarning, ...(options.logprobs ? { logprobs: true } : {}) }));
    return opened;
  };
  const runStore = (): RunStore | undefined => {
    if (options.store === false) return undefined;
    if (typeof options.store === "object") return options.store;
    store ??= RunStore.open(options.store ?? DEFAULT_STORE);
    return store;
  };
  const modelId = typeof model === "string" ? model : "generate" in model ? model.model : `${model.provider}:${model.modelId}`;

  return {
    specificationVersion: "v4",
    provider: "critic",
    modelId,
    supportedQuestionTypes: SUPPORTED,
    backend,
    async dispose() {
      if (ownsBackend && opened) await (await opened).dispose();
      if (ownsStore) store?.close();
      opened = undefined;
      store = undefined;
    },
    async doDecide(call: DecisionCallOptions): Promise<DecisionResult> {
      const samples = options.samples ?? 1;
      const params = resolveParams({ ...options.params, ...(call.maxOutputTokens !== undefined ? { maxTokens: call.maxOutputTokens } : {}) }, samples);
      const compiled = Object.entries(call.questions).map(([id, question]) => [id, compileQuestion(id, question, call.state, {
        template: options.template, rubric: options.rubric, maxTokens: params.maxTokens!,
      })] as const);
      const judge = await backend();
      const store = runStore();
      const signal = call.abortSignal;
      const judged = await Promise.all(compiled.map(async ([id, question]) => {
        const headed = head ? headQuestion(id, call.questions[id]!.type, question, head) : undefined;
        const judgment = await judgeOne(question, {
          backend: judge, grader: headed?.grader ?? question.grader, params, samples,
          ...(headed ? { head: headed.head } : {}),
          ...(store ? { store } : {}),
          ...(options.maxRetries !== undefined ? { maxRetries: options.maxRetries } : {}),
          ...(options.distributions !== undefined ? { distributions: options.distributions } : {}),
          ...(signal ? { signal } : {}),
        });
        signal?.throwIfAborted();
        if (judgment.error?.startsWith("backend error:")) throw new Error(`critic judge (${judge.kind} ${judge.model}), question "${id}": ${judgment.error}`);
        return [id, question, judgment] as const;
      }));

      const answers: Record<string, DecisionAnswer> = {};
      const questions: JSONObject = {};
      let inputTokens = 0;
      let outputTokens = 0;
      let rounded = false;
      for (const [id, question, judgment] of judged) {
        const answer = answerOf(call.questions[id]!.type, question, judgment);
        answers[id] = answer;
        if ("probabilities" in answer && answer.probabilities) rounded = true;
        inputTokens += judgment.judge.tokens.prompt;
        outputTokens += judgment.judge.tokens.completion;
        questions[id] = metadataOf(question, judgment);
      }
      return {
        answers,
        // The engine keeps probabilities to 6 decimals; the score is their exact weighted mean.
        ...(rounded ? { rounding: { probabilityDecimals: 6 } } : {}),
        usage: { inputTokens, outputTokens },
        warnings: [...ignoredSettings(call), ...judgeWarnings(judge, judged.map(([, , judgment]) => judgment))],
        providerMetadata: { critic: { backend: judge.kind, model: judge.model, questions } },
        response: { modelId: judge.model, timestamp: new Date() },
      };
    },
  };
}

/** Call settings a critic judge does not use, in the AI SDK's warning shape. */
function ignoredSettings(call: DecisionCallOptions): SharedV4Warning[] {
  const warnings: SharedV4Warning[] = [];
  if (call.reasoning !== undefined && call.reasoning !== "provider-default" && call.reasoning !== "none") {
    warnings.push({ type: "unsupported", feature: "reasoning", details: `critic renders each question with a judge template; reasoning "${call.reasoning}" is not passed to the judge` });
  }
  // experimental_decide always sends its user-agent; other headers would be the caller's own.
  const headers = Object.keys(call.headers ?? {}).filter((h) => h.toLowerCase() !== "user-agent");
  if (headers.length > 0) warnings.push({ type: "unsupported", feature: "headers", details: `not sent by critic's judge: ${headers.join(", ")}` });
  const providers = Object.keys(call.providerOptions ?? {});
  if (providers.length > 0) warnings.push({ type: "unsupported", feature: "providerOptions", details: `not passed to critic's judge: ${providers.join(", ")}` });
  return warnings;
}

/** The judge's own call warnings (an AI SDK provider's unsupported settings), each once. */
function judgeWarnings(judge: Backend, judgments: Judgment[]): SharedV4Warning[] {
  const seen = new Set(judgments.flatMap((j) => j.judge.samples.flatMap((s) => s.warnings ?? [])));
  return [...seen].map((message) => ({ type: "other", message: `judge ${judge.model}: ${message}` }));
}

/**
 * A head answers only what it was trained to score: a score question rendered with its own template
 * (a 5-level question on an {instruction, response} state is the Prometheus prompt), on its scale.
 */
function headQuestion(id: string, type: string, question: CompiledQuestion, head: HeadModel): { head: HeadModel; grader: CompiledQuestion["grader"] } {
  const scale = head.output.scale;
  const fits = type === "score" && question.grader.template === head.template && question.min === scale.min && question.labels.length === scale.max - scale.min + 1;
  if (!fits) {
    throw new Error(`question "${id}": a classifier/regression judge scores ${scale.max - scale.min + 1}-level score questions rendered with its template "${head.template ?? "?"}" ` +
      `(a ${scale.max - scale.min + 1}-level score question on an {instruction, response} state); this is a ${type} question${type === "score" ? ` with ${question.labels.length} levels, template "${question.grader.template}"` : ""}`);
  }
  return { head, grader: withTrainedPromptForm(question.grader, head) };
}

async function judgeOne(question: CompiledQuestion, engine: Parameters<typeof judgeStream>[1]): Promise<Judgment> {
  for await (const judgment of judgeStream([{ index: 0, record: question.record }], engine)) return judgment;
  engine.signal?.throwIfAborted();
  throw new Error("the judge engine stopped before judging the question");
}

/** The verdict values of the samples that parsed, as label indices. */
function sampleLevels(question: CompiledQuestion, judgment: Judgment): number[] {
  return judgment.judge.samples.flatMap((s) => (typeof s.score === "number" ? [s.score - question.min] : []));
}

/** A complete distribution over the labels, from the judgment's (keyed by verdict value). */
function levelDistribution(question: CompiledQuestion, judgment: Judgment): number[] | undefined {
  const distribution = judgment.score_distribution;
  if (!distribution) return undefined;
  return question.labels.map((_, i) => distribution[String(question.min + i)] ?? 0);
}

function keyed(probabilities: number[], keys: string[]): Record<string, number> {
  return Object.fromEntries(keys.map((k, i) => [k, probabilities[i]!]));
}

export function answerOf(type: "score" | "choice" | "boolean" | "box", question: CompiledQuestion, judgment: Judgment): DecisionAnswer {
  const levels = sampleLevels(question, judgment);
  if (judgment.error !== undefined || levels.length === 0) return { type: "refusal" };
  const distribution = levelDistribution(question, judgment);
  switch (type) {
    case "score": {
      if (distribution) {
        const score = distribution.reduce((sum, p, i) => sum + i * p, 0);
        return { type: "score", score: Math.min(Math.max(score, 0), question.labels.length - 1), probabilities: keyed(distribution, question.labels) };
      }
      return { type: "score", score: levels.reduce((a, b) => a + b, 0) / levels.length };
    }
    case "choice": {
      if (distribution) {
        const best = distribution.indexOf(Math.max(...distribution));
        return { type: "choice", choice: question.labels[best]!, probabilities: keyed(distribution, question.labels) };
      }
      return { type: "choice", choice: question.labels[majority(levels)]! };
    }
    case "boolean":
      if (distribution) return { type: "boolean", probability: distribution[1]! };
      // Without token probabilities: the share of samples that said true (1 or 0 for one sample).
      return { type: "boolean", probability: levels.filter((l) => l === 1).length / levels.length };
    default:
      return { type: "refusal" };
  }
}

/** The most frequent level; a tie goes to the first sample's. */
function majority(levels: number[]): number {
  const counts = new Map<number, number>();
  for (const l of levels) counts.set(l, (counts.get(l) ?? 0) + 1);
  let best = levels[0]!;
  for (const [l, n] of counts) if (n > counts.get(best)!) best = l;
  return best;
}

function metadataOf(question: CompiledQuestion, judgment: Judgment): JSONObject {
  const info = judgment.judge;
  const failures = info.samples.flatMap((s) => (s.failures ?? []).map((f) => f.raw));
  return {
    template: info.template,
    feedback: judgment.feedback,
    // A refusal's outputs: the last attempt's text, and every failed attempt's.
    raw: info.raw ?? info.samples.find((s) => s.raw !== undefined)?.raw ?? null,
    ...(failures.length > 0 ? { failures } : {}),
    cached: info.cached,
    calls: info.calls,
    ...(judgment.error !== undefined ? { error: judgment.error } : {}),
    ...(judgment.score_distribution ? { distribution: judgment.score_distribution } : {}),
    ...(info.samples.length > 1 ? { samples: info.samples.map((s) => ({ score: s.score ?? null, feedback: s.feedback ?? null })) } : {}),
    labels: question.labels,
  };
}
