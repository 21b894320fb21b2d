export type { JudgeTemplate, OutputFormat, Rubric, Scale, TemplateMode } from "./types.js";
export { getTemplate, builtinTemplateNames } from "./registry.js";
export { renderPrompt, formatRubric, fillPlaceholders, placeholdersIn, type RenderOptions } from "./render.js";
export { loadTemplateFile } from "./template-file.js";
export { loadRubric, loadRubricFile, rubricFromRecord, builtinRubricNames, RUBRIC_DESCRIPTION_FIELDS } from "./rubrics.js";
export { grammarFor, jsonSchemaFor, DEFAULT_MAX_FEEDBACK_CHARS, type GrammarOptions } from "./grammars.js";
export { createGrader } from "./grader.js";
export * from "./prometheus.js";
export * from "./criticon.js";
