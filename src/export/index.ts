export { exportDataset, type ExportOptions, type ExportSummary } from "./export.js";
export type { FormatCounts, FormatResult } from "./types.js";
export { FORMATS, buildRows, sftItem, preferenceItem, type BuildOptions, type FormatInfo } from "./formats.js";
export { critiqueItem, critiqueTarget, resolveTemplate, type CritiqueOptions } from "./critique.js";
export { classifyRecord, detectKind, type Classified } from "./sources.js";
export { normalizePrompt, promptGroup, chooseTestGroups, testGroupCount } from "./split.js";
export { ALPACA_PROMPT, ALPACA_PROMPT_NO_INPUT, alpacaText } from "./alpaca.js";
export { buildManifest, renderCard, type ExportManifest } from "./card.js";
export type { JudgeSummaryRow } from "./types.js";
export * from "./schemas.js";
export {
  FORMAT_NAMES, INPUT_KINDS, SKIP_REASONS,
  type FormatName, type TrainerName, type InputKind, type Example, type JudgeMeta, type SkipReason, type Skip,
  type SftItem, type PreferenceItem, type Row,
} from "./types.js";
export { exportLangfuseScores, langfuseScoreOf, type LangfuseScore, type LangfuseScoreOptions, type LangfuseScoreResult, type LangfuseExportSummary } from "./langfuse.js";
