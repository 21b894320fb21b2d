import type { ChatMessage } from "../backends/types.js";
import { SCORE_RUBRIC_TEMPLATE } from "./prometheus.js";
import type { JudgeTemplate, Rubric } from "./types.js";
import { RUBRIC_DESCRIPTION_FIELDS, rubricFromRecord } from "./rubrics.js";

export interface RenderOptions {
  /**
   * Put the system prompt at the head of the user message (`system + "\n\n" + user`) instead of
   * sending a system message: how Prometheus 2 was trained, for chat templates without a system role.
   */
  systemInUser?: boolean;
}

const PLACEHOLDER = /\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** Names of the {placeholders} a template text uses. */
export function placeholdersIn(text: string): string[] {
  const names = new Set<string>();
  for (const match of text.matchAll(PLACEHOLDER)) if (match[1] !== undefined) names.add(match[1]);
  return [...names];
}

/**
 * Fills {name} placeholders in one pass, Python str.format style: `{{` and `}}` are literal braces.
 * Substituted values are never scanned again, so braces inside them stay literal.
 */
export function fillPlaceholders(text: string, lookup: (name: string) => string): string {
  return text.replace(PLACEHOLDER, (whole, name: string | undefined) => {
    if (name === undefined) return whole[0]!;
    return lookup(name);
  });
}

/** A rubric in Prometheus' SCORE_RUBRIC_TEMPLATE layout. */
export function formatRubric(rubric: Rubric): string {
  return fillPlaceholders(SCORE_RUBRIC_TEMPLATE, (name) => rubric[name as keyof Rubric]);
}

/** A pairwise template names only the criteria, as prometheus-eval's load_rubric does for relative grading. */
function criteriaOnly(rubric: Rubric | string): string {
  if (typeof rubric === "string") return rubric.split("\n")[0]!;
  return `[${rubric.criteria}]`;
}

function hasValue(value: unknown): boolean {
  return value !== undefined && value !== null && !(typeof value === "string" && value.trim() === "");
}

/** Record fields under the template's placeholder name or its lower-case form ({response_A} reads response_a). */
function recordValue(record: Record<string, unknown>, name: string): unknown {
  if (name in record) return record[name];
  return record[name.toLowerCase()];
}

/**
 * The rubric for a record: the one passed in wins, then the record's own criteria and
 * score descriptions, then a ready-formatted `rubric` string field.
 */
function resolveRubric(
  template: JudgeTemplate,
  record: Record<string, unknown>,
  rubric: Rubric | string | undefined,
): Rubric | string | undefined {
  if (rubric !== undefined) return rubric;
  // Pairwise prompts show only the criteria, so a record needs no score descriptions there.
  const criteriaOnlyRecord =
    template.mode === "pairwise" && typeof record.criteria === "string" && !hasValue(record.score1_description);
  if (criteriaOnlyRecord && hasValue(record.criteria)) return `[${record.criteria as string}]`;
  const fromRecord = rubricFromRecord(record);
  if (fromRecord) return fromRecord;
  if (typeof record.rubric === "string" && record.rubric.trim() !== "") return record.rubric;
  return undefined;
}

function missing(template: JudgeTemplate, field: string, hint = ""): Error {
  return new Error(`template "${template.name}": record is missing field "${field}"${hint}`);
}

/** Turns a record (and rubric) into the chat messages of a template. Throws naming any missing field. */
export function renderPrompt(
  template: JudgeTemplate,
  record: Record<string, unknown>,
  rubric?: Rubric | string,
  options: RenderOptions = {},
): ChatMessage[] {
  const userText =
    template.userNoReference !== undefined && !hasValue(record.reference_answer) ? template.userNoReference : template.user;
  const lookup = (name: string): string => {
    if (name === "rubric" || name === "criteria" || (RUBRIC_DESCRIPTION_FIELDS as readonly string[]).includes(name)) {
      return rubricPart(template, record, rubric, name);
    }
    const value = recordValue(record, name);
    if (value === undefined || value === null) throw missing(template, name.toLowerCase());
    if (typeof value === "string") return value;
    if (typeof value === "number" || typeof value === "boolean") return String(value);
    throw new Error(`template "${template.name}": field "${name.toLowerCase()}" must be text, got ${Array.isArray(value) ? "an array" : typeof value}`);
  };
  const user = fillPlaceholders(userText, lookup);
  const system = template.system === undefined ? undefined : fillPlaceholders(template.system, lookup);
  if (system === undefined) return [{ role: "user", content: user }];
  if (options.systemInUser) return [{ role: "user", content: `${system}\n\n${user}` }];
  return [
    { role: "system", content: system },
    { role: "user", content: user },
  ];
}

function rubricPart(
  template: JudgeTemplate,
  record: Record<string, unknown>,
  given: Rubric | string | undefined,
  name: string,
): string {
  const rubric = resolveRubric(template, record, given);
  if (rubric === undefined) {
    throw missing(
      template,
      name === "rubric" ? "rubric" : name,
      ": pass a rubric (--rubric helpfulness or a YAML file) or give the record criteria and score1_description..score5_description fields",
    );
  }
  if (name === "rubric") return template.mode === "pairwise" ? criteriaOnly(rubric) : typeof rubric === "string" ? rubric : formatRubric(rubric);
  if (typeof rubric === "string") {
    throw new Error(`template "${template.name}": placeholder {${name}} needs a structured rubric (criteria and score descriptions), not a rubric text`);
  }
  return rubric[name as keyof Rubric];
}
