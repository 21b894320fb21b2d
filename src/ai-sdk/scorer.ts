/**
 * critic as a scorer in the shapes the JS eval tools take:
 * - autoevals: an async function `({ input, output, expected }) => { name, score, metadata }`, score
 *   in [0, 1] or null when the judge gave no verdict (with `error`); evalite runs these as they are;
 * - evalite's createScorer: `createScorer(criticEvaliteScorer({ … }))`, whose scorer returns
 *   `{ score, metadata }` and throws when the judge gave no verdict (evalite scores are numbers).
 * The score is the judge's verdict put on [0, 1] by the template's scale; the feedback, the verdict,
 * and the distribution (where the backend read token probabilities) are in the metadata.
 */
import {
  asBackend, DEFAULT_STORE, judgeRecords, openBackend, resolveGrader, RunStore,
  type AiSdkLanguageModel, type Backend, type BackendOptions, type Judgment, type Rubric, type SamplingParams,
} from "../index.js";

export interface CriticScorerOptions extends BackendOptions {
  /** The judge: what `--model` takes, a Backend, or an AI SDK language model. */
  model: string | Backend | AiSdkLanguageModel;
  /** Score name (default `critic.<template>`). */
  name?: string;
  /** An absolute template (default prometheus-absolute). */
  template?: string;
  /** Rubric name, YAML file or object (default: helpfulness). */
  rubric?: string | Rubric;
  /** Run store path, an open store, or false for none. Default `.critic/store.sqlite`. */
  store?: string | RunStore | false;
  samples?: number;
  maxRetries?: number;
  params?: SamplingParams;
}

export interface ScorerArgs {
  input: unknown;
  output: unknown;
  expected?: unknown;
}

export interface CriticScore {
  name: string;
  /** The verdict on [0, 1] (min of the scale 0, max 1); null when the judge gave none. */
  score: number | null;
  metadata: {
    feedback: string | null;
    /** The verdict on the template's own scale (1-5 for Prometheus). */
    rawScore: number | null;
    scale: { min: number; max: number };
    /** Probability of each score on the template's scale, where the backend read token probabilities. */
    distribution?: Record<string, number>;
    /** The distribution's mean, put on [0, 1]. */
    expectedScore?: number;
    model: string;
    template: string;
    cached: boolean;
    error?: string;
  };
  error?: string;
}

const asText = (value: unknown): string => (typeof value === "string" ? value : JSON.stringify(value, null, 2));

/** An autoevals-shaped scorer backed by a critic judge (evalite takes it too). */
export function criticScorer(options: CriticScorerOptions): ((args: ScorerArgs) => Promise<CriticScore>) & { dispose(): Promise<void> } {
  const template = options.template ?? "prometheus-absolute";
  const scale = scaleOf(template);
  let opened: Promise<Backend> | undefined;
  let store: RunStore | undefined;
  const backend = () => (opened ??= typeof options.model === "string" ? openBackend(options.model, options) : Promise.resolve(asBackend(options.model, { ...(options.logprobs ? { logprobs: true } : {}), ...(options.onWarning ? { onWarning: options.onWarning } : {}) })));
  const runStore = (): RunStore | undefined => {
    if (options.store === false) return undefined;
    if (typeof options.store === "object") return options.store;
    return (store ??= RunStore.open(options.store ?? DEFAULT_STORE));
  };

  const score = async (args: ScorerArgs): Promise<CriticScore> => {
    const record: Record<string, unknown> = { instruction: asText(args.input), response: asText(args.output) };
    if (args.expected !== undefined && args.expected !== null) record.reference_answer = asText(args.expected);
    const judge = await backend();
    const s = runStore();
    let judgment: Judgment | undefined;
    for await (const j of judgeRecords([record], {
      model: judge, template, rubric: options.rubric ?? "helpfulness",
      ...(s ? { store: s } : {}),
      ...(options.samples !== undefined ? { samples: options.samples } : {}),
      ...(options.maxRetries !== undefined ? { maxRetries: options.maxRetries } : {}),
      ...(options.params ? { params: options.params } : {}),
    })) judgment = j;
    if (!judgment) throw new Error("critic scorer: the judge returned no judgment");
    return toScore(judgment, options.name ?? `critic.${judgment.judge.template}`, scale);
  };
  return Object.assign(score, {
    dispose: async () => {
      if (typeof options.model === "string" && opened) await (await opened).dispose();
      if (typeof options.store !== "object") store?.close();
      opened = undefined;
      store = undefined;
    },
  });
}

function toScore(judgment: Judgment, name: string, scale: { min: number; max: number }): CriticScore {
  const templateName = judgment.judge.template;
  const unit = (v: number) => (v - scale.min) / (scale.max - scale.min);
  const raw = typeof judgment.score === "number" ? judgment.score : null;
  const metadata: CriticScore["metadata"] = {
    feedback: judgment.feedback,
    rawScore: raw,
    scale,
    model: judgment.judge.model,
    template: templateName,
    cached: judgment.judge.cached,
    ...(judgment.score_distribution ? { distribution: judgment.score_distribution } : {}),
    ...(typeof judgment.score_expected === "number" ? { expectedScore: unit(judgment.score_expected) } : {}),
    ...(judgment.error !== undefined ? { error: judgment.error } : {}),
  };
  return { name, score: raw === null ? null : unit(raw), metadata, ...(judgment.error !== undefined ? { error: judgment.error } : {}) };
}

/** The score scale of an absolute template (built-in or file), from the verdicts its grammar allows. */
function scaleOf(template: string): { min: number; max: number } {
  const grader = resolveGrader({ template });
  const values = grader.verdict?.candidates.map(Number).filter(Number.isFinite) ?? [];
  if (grader.mode !== "absolute" || values.length < 2) throw new Error(`critic scorer: template "${template}" does not grade one output on a score scale; use an absolute template`);
  return { min: Math.min(...values), max: Math.max(...values) };
}

/**
 * Options for evalite's `createScorer`: `createScorer(criticEvaliteScorer({ model }))`. Its scorer
 * throws when the judge gave no verdict, so a failure is shown as one, never scored as 0.
 */
export function criticEvaliteScorer(options: CriticScorerOptions & { description?: string }): {
  name: string;
  description: string;
  scorer: (args: ScorerArgs) => Promise<{ score: number; metadata: CriticScore["metadata"] }>;
} {
  const scorer = criticScorer(options);
  return {
    name: options.name ?? `critic.${options.template ?? "prometheus-absolute"}`,
    description: options.description ?? `critic judge (${typeof options.model === "string" ? options.model : "generate" in options.model ? options.model.model : options.model.modelId}), verdict on [0, 1]`,
    scorer: async (args) => {
      const result = await scorer(args);
      if (result.score === null) throw new Error(`critic judge gave no verdict: ${result.error ?? "no score"}`);
      return { score: result.score, metadata: result.metadata };
    },
  };
}
