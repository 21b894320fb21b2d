export { BENCHMARKS, getBenchmark, missingFiles, type Benchmark, type BenchItem } from "./benchmarks.js";
export { runBenchmark, type BenchRunOptions, type BenchRunResult } from "./run.js";
export { parsePrometheusPrompt, type PrometheusFields } from "./prometheus-prompt.js";
