import { existsSync } from "node:fs";
import { createGrader, getTemplate, loadRubric, loadTemplateFile, type JudgeTemplate, type Rubric } from "../templates/index.js";
import type { Grader, Mode } from "./types.js";

export interface GraderOptions {
  /** Built-in template name (prometheus, prometheus-absolute, prometheus-pairwise, criticon) or a template YAML file. */
  template?: string;
  /** Without a template: absolute picks prometheus-absolute, pairwise prometheus-pairwise. */
  mode?: Mode;
  /** Built-in rubric name, rubric YAML file, or a rubric object. Default: the record's own criteria fields. */
  rubric?: string | Rubric;
  /**
   * Ask backends with structured output (Ollama) for JSON `{feedback, score|winner}` instead of the
   * template's text format. Off by default: published judges were trained on the text format.
   */
  structured?: boolean;
}

const ALIASES: Record<string, string> = {
  prometheus: "prometheus-absolute",
  "prometheus-relative": "prometheus-pairwise",
};

/** Resolves template, mode and rubric options into the Grader the engine runs. */
export function resolveGrader(options: GraderOptions): Grader {
  const template = resolveTemplate(options);
  if (options.mode && options.mode !== template.mode) {
    throw new Error(`template "${template.name}" grades ${template.mode}, but --mode ${options.mode} was given`);
  }
  const rubric = typeof options.rubric === "string" ? loadRubric(options.rubric) : options.rubric;
  const grader = createGrader(template, rubric);
  return options.structured ? grader : { ...grader, constraint: { gbnf: grader.constraint?.gbnf } };
}

function resolveTemplate(options: GraderOptions): JudgeTemplate {
  const name = options.template ?? (options.mode === "pairwise" ? "prometheus-pairwise" : "prometheus-absolute");
  if (/\.ya?ml$/i.test(name) || (existsSync(name) && !(name in ALIASES))) return loadTemplateFile(name);
  if (name === "prometheus" && options.mode === "pairwise") return getTemplate("prometheus-pairwise");
  return getTemplate(ALIASES[name] ?? name);
}
