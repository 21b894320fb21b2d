// critic's verdicts as OpenTelemetry GenAI evaluation events, on the trace of the generation judged.
//   npm i @opentelemetry/api @opentelemetry/sdk-trace-base
//   ANTHROPIC_API_KEY=… node examples/ai-sdk/opentelemetry.mjs anthropic:claude-haiku-4-5
// A record that names a span (trace_id and span_id) gets a `gen_ai.evaluation.result` event on a short
// `gen_ai.evaluation` span under it, once a tracer provider is registered. In an app, register your
// usual exporter (OTLP to Langfuse, Honeycomb, Jaeger …); this one prints each finished span as JSON.
import { trace } from "@opentelemetry/api";
import { BasicTracerProvider, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { judgeRecords } from "critic";

/** Prints each finished span as one JSON line: its ids, its parent, its events. */
class JsonLinesExporter {
  export(spans, done) {
    for (const span of spans) {
      const { traceId, spanId } = span.spanContext();
      console.log(JSON.stringify({
        name: span.name, traceId, spanId, parentSpanId: span.parentSpanContext?.spanId,
        attributes: span.attributes,
        events: span.events.map((e) => ({ name: e.name, attributes: e.attributes })),
      }));
    }
    done({ code: 0 }); // ExportResultCode.SUCCESS (@opentelemetry/core)
  }
  shutdown() {
    return Promise.resolve();
  }
}

const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(new JsonLinesExporter())] });
trace.setGlobalTracerProvider(provider);

// The generation being evaluated: in an app, the span your AI SDK call (or your own code) recorded.
const span = trace.getTracer("my-app").startSpan("chat claude-haiku-4-5", { attributes: { "gen_ai.operation.name": "chat" } });
const record = { instruction: "What is the capital of France?", response: "Paris is the capital of France." };
span.end();
const { traceId, spanId } = span.spanContext();

let failed = 0;
try {
  // The record names the span it evaluates; critic emits the event as it yields the judgment.
  for await (const judgment of judgeRecords([{ ...record, trace_id: traceId, span_id: spanId }], { model: process.argv[2] ?? process.env.CRITIC_MODEL ?? "anthropic:claude-haiku-4-5", rubric: "helpfulness" })) {
    if (judgment.error) failed++;
    console.error(`judged: score ${judgment.score}, ${judgment.error ?? judgment.feedback}`);
  }
} finally {
  await provider.shutdown();
}
process.exitCode = failed > 0 ? 1 : 0;
