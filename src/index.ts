// critic as a library: the same engine the CLI runs.
export { judge, judgeRecords, DEFAULT_STORE, type JudgeOptions, type JudgeSummary } from "./judge/judge.js";
export { judgeStream, resolveParams, emptyStats, BackendUnavailableError, type EngineOptions, type JudgeStats } from "./judge/engine.js";
export { resolveGrader, type GraderOptions } from "./judge/grader.js";
export type { Grader, Judgment, JudgeInfo, Mode, ParsedOutput, SampleResult } from "./judge/types.js";
export * from "./backends/index.js";
export { RunStore, callKey, type CachedCall, type RunInfo } from "./store/run-store.js";
export * from "./templates/index.js";
export * from "./parse/index.js";
export {
  JUDGES, findJudge, judgeNames, judgeDownload, catalogDefaults,
  type CatalogJudge, type GgufRepository, type GradingKind, type Sourced,
} from "./judges/index.js";
export * from "./benchmarks/index.js";
export * from "./metaeval/index.js";
export * from "./server/index.js";
export * from "./pipelines/index.js";
export * from "./export/index.js";
export * from "./train/index.js";
export { readRecords, parseFieldMap, applyFieldMap, formatFromPath, type RecordFormat, type ReadOptions } from "./records/read.js";
export { createRecordWriter, createRejectsWriter, outputFormatOf, type OutputFormat, type OutputKind, type RecordWriter } from "./records/write.js";
export type { Reject, SourcedRecord } from "./records/types.js";
export { startView, type StartViewOptions, type RunningView } from "./view/start.js";
export { openWorkspace, defaultLabelsFile, type OpenWorkspace, type WorkspaceOptions } from "./view/workspace.js";
export { indexJudgments, readRows, type JudgmentIndex } from "./view/judgment-index.js";
export { queryRows, ORDERS, type RowQuery, type Order } from "./view/query.js";
export { LabelStore, readLabelsFile, labelFileWarnings, labelIdOf, type HumanLabel } from "./records/labels.js";
export { LabelKeys, labelKeysOfFile, duplicateIdWarning, type DuplicateId } from "./records/label-keys.js";
export * from "./heads/index.js";
