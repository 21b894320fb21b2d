/**
 * OpenTelemetry GenAI evaluation events: when `@opentelemetry/api` is installed and a tracer provider
 * is registered, a judgment whose record names the span it evaluates (trace id and span id fields)
 * emits a `gen_ai.evaluation.result` event with the semantic-convention attributes. A span that has
 * ended (in this process or another) takes no new events, so the event is put on a short span
 * `gen_ai.evaluation` whose parent is the evaluated span: in the same trace, under that span.
 * `@opentelemetry/api` is imported on the first judgment that names a span, never at start-up.
 */
import type { Judgment } from "../judge/types.js";

export interface EvaluationEventOptions {
  /** Record field with the evaluated span's trace id, 32 hex digits (default `trace_id`). */
  traceField?: string;
  /** Record field with the evaluated span's id, 16 hex digits (default `span_id`). */
  spanField?: string;
  /** `gen_ai.evaluation.name` (default `critic.<template>`). */
  name?: string;
}

type OtelApi = typeof import("@opentelemetry/api");
let api: Promise<OtelApi | undefined> | undefined;

function loadApi(): Promise<OtelApi | undefined> {
  api ??= import("@opentelemetry/api").then(
    (m) => m,
    () => undefined,
  );
  return api;
}

/** The `gen_ai.evaluation.result` attributes of a judgment (absent score when the judge gave none). */
export function evaluationAttributes(judgment: Judgment, name?: string): Record<string, string | number> {
  const attributes: Record<string, string | number> = { "gen_ai.evaluation.name": name ?? `critic.${judgment.judge.template}` };
  if (typeof judgment.score === "number") {
    attributes["gen_ai.evaluation.score.value"] = judgment.score;
    attributes["gen_ai.evaluation.score.label"] = String(judgment.score);
  } else if (typeof judgment.winner === "string") {
    attributes["gen_ai.evaluation.score.label"] = judgment.winner;
  }
  if (typeof judgment.feedback === "string") attributes["gen_ai.evaluation.explanation"] = judgment.feedback;
  if (judgment.error !== undefined) attributes["error.type"] = "critic.judge_failed";
  if (typeof judgment.response_id === "string") attributes["gen_ai.response.id"] = judgment.response_id;
  return attributes;
}

/**
 * Emits the judgment's evaluation event under the span its record names. Returns whether an event
 * was recorded: false without the API, without a registered tracer provider (a non-recording span),
 * or when the record names no valid span.
 */
export async function emitEvaluationEvent(judgment: Judgment, options: EvaluationEventOptions = {}): Promise<boolean> {
  const traceId = judgment[options.traceField ?? "trace_id"];
  const spanId = judgment[options.spanField ?? "span_id"];
  if (typeof traceId !== "string" || typeof spanId !== "string") return false;
  const otel = await loadApi();
  if (!otel) return false;
  const parent = { traceId: traceId.toLowerCase(), spanId: spanId.toLowerCase(), traceFlags: otel.TraceFlags.SAMPLED, isRemote: true };
  if (!otel.trace.isSpanContextValid(parent)) return false;
  const tracer = otel.trace.getTracer("critic");
  const span = tracer.startSpan("gen_ai.evaluation", { attributes: { "gen_ai.evaluation.name": options.name ?? `critic.${judgment.judge.template}` } }, otel.trace.setSpanContext(otel.ROOT_CONTEXT, parent));
  try {
    if (!span.isRecording()) return false;
    span.addEvent("gen_ai.evaluation.result", evaluationAttributes(judgment, options.name));
    if (judgment.error !== undefined) span.setStatus({ code: otel.SpanStatusCode.ERROR, message: judgment.error });
    return true;
  } finally {
    span.end();
  }
}
