import type { ChatMessage } from "../backends/types.js";
import { SCORE_RUBRIC_TEMPLATE } from "./prometheus.js";
import { flowRubric, flowVars } from "./flow-judge.js";
import { conversationView } from "./conversation.js";
import type { JudgeTemplate, Rubric, TemplateText } from "./types.js";
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

/**
 * Placeholder names of published templates that critic reads from its own fields (FastChat's
 * {question}/{answer}, Arena-Hard's {QUESTION}/{ANSWER_A}), so their texts stay byte for byte.
 */
const FIELD_OF: Record<string, string> = {
  question: "instruction",
  answer: "response",
  answer_a: "response_a",
  answer_b: "response_b",
  relevant_context: "context",
  // Atla Selene's names.
  user_input: "instruction",
  assistant_response: "response",
  assistant_response_a: "response_a",
  assistant_response_b: "response_b",
  reference_response: "reference_answer",
};

/** Rubric placeholders of other published templates, as critic's rubric parts (Selene's {rubric_score_1_description}). */
const RUBRIC_PART_OF: Record<string, string> = {
  rubric_objective: "criteria",
  EVALUATION_CRITERIA: "criteria",
  ...Object.fromEntries([1, 2, 3, 4, 5].map((n) => [`rubric_score_${n}_description`, `score${n}_description`])),
};

/** Atla Selene's binary-rubric placeholders: the record's yes / no descriptions (a 5-point rubric has none). */
const BINARY_RUBRIC_FIELD: Record<string, string> = {
  rubric_yes_description: "yes_description",
  rubric_no_description: "no_description",
};

/** The record's field for a placeholder: its name, its lower-case form ({response_A} reads response_a), or the field it stands for. */
function fieldFor(record: Record<string, unknown>, name: string, template?: JudgeTemplate): string {
  const mapped = template?.fields?.[name];
  if (mapped !== undefined) return mapped;
  if (name in record) return name;
  const lower = name.toLowerCase();
  return lower in record ? lower : FIELD_OF[lower] ?? lower;
}

/** Reference answers: `reference_answer` as text, or one per turn as a list (MT-Bench multi-turn). */
function referenceAnswers(record: Record<string, unknown>): string[] {
  const value = record.reference_answer;
  if (Array.isArray(value)) return value.map((v) => String(v ?? ""));
  return hasValue(value) ? [String(value)] : [];
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

/** A five-point rubric in Flow Judge's format_rubric layout. */
function flowRubricOf(template: JudgeTemplate, record: Record<string, unknown>, given: Rubric | string | undefined): string {
  const rubric = resolveRubric(template, record, given);
  if (rubric === undefined || typeof rubric === "string") {
    throw missing(template, "rubric", ": Flow Judge's rubric needs a structured rubric (--rubric, or the record's criteria and score1_description..score5_description)");
  }
  return flowRubric([1, 2, 3, 4, 5].map((score) => ({ score, description: rubric[`score${score}_description` as keyof Rubric] })));
}

/** The criteria alone: of the rubric given, or the record's `criteria`. */
function criteriaText(template: JudgeTemplate, record: Record<string, unknown>, given: Rubric | string | undefined): string {
  if (given !== undefined) return typeof given === "string" ? given.split("\n")[0]!.replace(/^\[(.*)\]$/, "$1") : given.criteria;
  if (typeof record.criteria === "string" && hasValue(record.criteria)) return record.criteria;
  return rubricPart(template, record, given, "criteria");
}

function isRubricPart(name: string): boolean {
  if (name in RUBRIC_PART_OF) return true;
  return name === "rubric" || name === "criteria" || (RUBRIC_DESCRIPTION_FIELDS as readonly string[]).includes(name);
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
  /** Receives every record text filled into the prompt (not the rubric): what the judge judges. */
  filled?: string[],
): ChatMessage[] {
  const view = conversationView(record);
  if (view) record = { ...view.fields, ...record };
  const references = referenceAnswers(record);
  const hasContext = hasValue(record.context);
  const chosen = templateText(template, references.length > 0, view?.turns ?? 1, hasContext, hasValue(record.input));
  const text = hasContext ? withContextSection(template, chosen, view?.turns ?? 1) : chosen;
  const lookup = (name: string): string => {
    if (template.fixed && name in template.fixed) return template.fixed[name]!;
    const value = fieldValue(name);
    if (filled && !isRubricPart(name) && !(name in BINARY_RUBRIC_FIELD) && !(template.taggedInputs && name === "RUBRIC")) filled.push(value);
    return value;
  };
  const text_ = (field: string): string => {
    const value = record[field];
    if (value === undefined || value === null) throw missing(template, field);
    if (typeof value === "string") return value;
    if (typeof value === "number" || typeof value === "boolean") return String(value);
    throw new Error(`template "${template.name}": field "${field}" must be text, got ${Array.isArray(value) ? "an array" : typeof value}`);
  };
  const fieldValue = (name: string): string => {
    const tagged = template.taggedInputs;
    if (tagged && name === "INPUTS") {
      const present = (tagged.optional ?? []).filter((tag) => hasValue(record[tag]));
      return flowVars([...tagged.required, ...present].map((tag) => [tag, text_(tag === "query" ? "instruction" : tag)]));
    }
    if (tagged && name === "OUTPUT") return flowVars([["response", text_("response")]]);
    if (tagged && name === "RUBRIC") return flowRubricOf(template, record, rubric);
    if (name === "EVALUATION_CRITERIA") return criteriaText(template, record, rubric);
    if (name === "rubric_objective") return criteriaText(template, record, rubric);
    if (name in BINARY_RUBRIC_FIELD) {
      const field = BINARY_RUBRIC_FIELD[name]!;
      if (!hasValue(record[field])) throw missing(template, field, ": a binary rubric needs the record's yes_description and no_description (and criteria, or --rubric for the criteria)");
      return text_(field);
    }
    if (isRubricPart(name)) {
      return rubricPart(template, record, rubric, RUBRIC_PART_OF[name] ?? name);
    }
    const turn = /^ref_answer_(\d)$/.exec(name);
    if (turn) {
      const ref = references[Number(turn[1]) - 1];
      if (ref === undefined) throw missing(template, "reference_answer", ` (turn ${turn[1]}: give one reference answer per turn as a list)`);
      return ref;
    }
    if (name === "reference_answer" && Array.isArray(record.reference_answer)) return references.at(-1) ?? "";
    const field = fieldFor(record, name, template);
    const value = record[field];
    if (value === undefined || value === null) throw missing(template, field);
    if (typeof value === "string") return value;
    if (typeof value === "number" || typeof value === "boolean") return String(value);
    throw new Error(`template "${template.name}": field "${field}" must be text, got ${Array.isArray(value) ? "an array" : typeof value}`);
  };
  const user = fillPlaceholders(text.user, lookup);
  const system = text.system === undefined ? undefined : fillPlaceholders(text.system, lookup);
  if (system === undefined) return [{ role: "user", content: user }];
  if (options.systemInUser) return [{ role: "user", content: `${system}\n\n${user}` }];
  return [
    { role: "system", content: system },
    { role: "user", content: user },
  ];
}

/** The form of a template a record uses: reference answer or not, one exchange or a two-turn conversation. */
function templateText(template: JudgeTemplate, hasReference: boolean, turns: number, hasContext: boolean, hasInput: boolean): TemplateText {
  const variants = template.variants;
  if (hasInput && variants?.input) return variants.input;
  // With a reference answer too, the reference form is used and critic adds the context (withContextSection).
  if (hasContext && variants?.context && !hasReference) {
    if (turns > 1) throw new Error(`template "${template.name}": field "context": its context form judges one exchange, not a conversation`);
    return variants.context;
  }
  if (turns > 1 && variants?.multiTurn) {
    if (turns !== 2) {
      throw new Error(`template "${template.name}": field "messages": its multi-turn prompt holds two user turns, this conversation has ${turns} (prometheus and criticon judge any length)`);
    }
    return hasReference && variants.multiTurnReference ? variants.multiTurnReference : variants.multiTurn;
  }
  if (hasReference && variants?.reference) return variants.reference;
  const user = template.userNoReference !== undefined && !hasReference ? template.userNoReference : template.user;
  return { ...(template.system !== undefined ? { system: template.system } : {}), user };
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

/**
 * critic's own context section (not any author's text), for templates whose published forms have no
 * place for a record's `context`: delimited like MT-Bench's answer blocks, before the response.
 */
export const CONTEXT_SECTION = "[The Start of Context]\n{context}\n[The End of Context]\n\n";

const CONTEXT_PLACEHOLDERS = ["context", "relevant_context"];

/**
 * The form with the record's `context` added where the form has no place for it: the template's own
 * contextSection, else (absolute templates) CONTEXT_SECTION before the paragraph holding the response.
 * Pairwise templates without a contextSection, and Flow Judge's tagged inputs, keep their own rules.
 */
function withContextSection(template: JudgeTemplate, text: TemplateText, turns: number): TemplateText {
  const uses = (t: string | undefined): boolean => t !== undefined && placeholdersIn(t).some((name) => CONTEXT_PLACEHOLDERS.includes(name));
  if (template.taggedInputs || uses(text.user) || uses(text.system)) return text;
  const declared = template.contextSection;
  if (declared && text.user.includes(declared.before)) {
    const at = text.user.indexOf(declared.before);
    return { ...text, user: text.user.slice(0, at) + declared.text + text.user.slice(at) };
  }
  if (template.mode !== "absolute") return text;
  if (turns > 1) throw new Error(`template "${template.name}": field "context": critic adds a context to one exchange, not to a conversation`);
  const response = [...text.user.matchAll(PLACEHOLDER)].find((m) => m[1] !== undefined && fieldFor({}, m[1], template) === "response");
  if (!response) throw new Error(`template "${template.name}": field "context": the template has no {response} placeholder to put the context before`);
  // The paragraph starts after the last blank line (Auto-J's has two spaces on it) before the response.
  const blank = [...text.user.slice(0, response.index).matchAll(/\n[ \t]*\n/g)].at(-1);
  const at = blank ? blank.index + blank[0].length : 0;
  return { ...text, user: text.user.slice(0, at) + CONTEXT_SECTION + text.user.slice(at) };
}
