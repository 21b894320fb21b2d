/**
 * Principles (self-critique) and question-type sets (critical questions): YAML files shipped in
 * assets/principles/ and assets/question-types/, or the user's own files in the same shape.
 */
import fs from "node:fs";
import path from "node:path";
import { z } from "zod";
import { ASSETS_DIR } from "../templates/assets.js";
import { rubricSchema } from "../templates/rubrics.js";
import type { Rubric } from "../templates/types.js";
import { readYamlFile } from "../templates/yaml-file.js";

export const PRINCIPLES_DIR = path.join(ASSETS_DIR, "principles");
export const QUESTION_TYPES_DIR = path.join(ASSETS_DIR, "question-types");

const text = z.string().trim().min(1, "must be non-empty text");
const rubricBlock = rubricSchema.omit({ name: true });

const principleSchema = z.strictObject({
  name: text,
  description: text.optional(),
  /** Asked after the response: what is wrong with it with respect to the principle. */
  critique_request: text,
  /** Asked after the critique: rewrite the response accordingly. */
  revision_request: text,
  /** Rubric the judge scores the chain with, unless another is given. */
  rubric: rubricBlock.optional(),
});

/** A self-critique principle: a critique request and a revision request (Distilled Self-Critique). */
export interface Principle {
  name: string;
  description?: string;
  critiqueRequest: string;
  revisionRequest: string;
  rubric?: Rubric;
}

const questionTypeSchema = z.strictObject({
  name: text,
  label: text.optional(),
  description: text,
  aliases: z.array(text).optional(),
});

const questionTypesSchema = z
  .strictObject({
    name: text,
    description: text.optional(),
    types: z.array(questionTypeSchema).min(2, "needs at least two types"),
    rubric: rubricBlock.optional(),
  })
  .superRefine((set, ctx) => {
    const seen = new Map<string, string>();
    set.types.forEach((type, i) => {
      for (const form of [type.name, ...(type.aliases ?? [])]) {
        const key = normalizeTypeName(form);
        const owner = seen.get(key);
        if (owner !== undefined && owner !== type.name) {
          ctx.addIssue({ code: "custom", path: ["types", i, "name"], message: `"${form}" also names type "${owner}"` });
        }
        seen.set(key, type.name);
      }
    });
  });

export interface QuestionType {
  name: string;
  /** Human-readable name used in prompts (default: the name). */
  label: string;
  description: string;
  aliases: string[];
}

export interface QuestionTypeSet {
  name: string;
  description?: string;
  types: QuestionType[];
  /** Rubric for scoring a generated question of a requested type. */
  rubric?: Rubric;
}

function builtinNames(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).filter((f) => f.endsWith(".yaml")).map((f) => f.slice(0, -".yaml".length)).sort();
}

/** Names of the principles shipped in assets/principles/. */
export function builtinPrincipleNames(): string[] {
  return builtinNames(PRINCIPLES_DIR);
}

/** Names of the question-type sets shipped in assets/question-types/. */
export function builtinQuestionTypeSetNames(): string[] {
  return builtinNames(QUESTION_TYPES_DIR);
}

function resolveAsset(nameOrPath: string, dir: string, what: string, names: () => string[]): string {
  const builtin = path.join(dir, `${nameOrPath}.yaml`);
  if (/^[a-z0-9_-]+$/i.test(nameOrPath) && fs.existsSync(builtin)) return builtin;
  if (fs.existsSync(nameOrPath)) return nameOrPath;
  throw new Error(`${what} "${nameOrPath}" is neither a built-in ${what} (${names().join(", ")}) nor an existing file`);
}

/** A shipped principle by name (harmlessness, positive-sentiment, privacy) or a principle YAML file. */
export function loadPrinciple(nameOrPath: string): Principle {
  const file = resolveAsset(nameOrPath, PRINCIPLES_DIR, "principle", builtinPrincipleNames);
  const parsed = readYamlFile(file, principleSchema, "principle");
  return {
    name: parsed.name,
    ...(parsed.description ? { description: parsed.description } : {}),
    critiqueRequest: parsed.critique_request,
    revisionRequest: parsed.revision_request,
    ...(parsed.rubric ? { rubric: parsed.rubric } : {}),
  };
}

/** A shipped question-type set by name (socratic, walton) or a question-types YAML file. */
export function loadQuestionTypes(nameOrPath: string): QuestionTypeSet {
  const file = resolveAsset(nameOrPath, QUESTION_TYPES_DIR, "question-type set", builtinQuestionTypeSetNames);
  const parsed = readYamlFile(file, questionTypesSchema, "question types");
  return {
    name: parsed.name,
    ...(parsed.description ? { description: parsed.description } : {}),
    types: parsed.types.map((t) => ({ name: t.name, label: t.label ?? t.name, description: t.description, aliases: t.aliases ?? [] })),
    ...(parsed.rubric ? { rubric: parsed.rubric } : {}),
  };
}

/** Lower case, letters and digits only: "Ad hominem", "ad_hominem" and "AdHominem" compare equal. */
export function normalizeTypeName(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]+/g, "");
}

/** The type a name or alias stands for, or undefined. */
export function findQuestionType(set: QuestionTypeSet, name: string): QuestionType | undefined {
  const key = normalizeTypeName(name);
  if (key === "") return undefined;
  return set.types.find((t) => [t.name, ...t.aliases].some((form) => normalizeTypeName(form) === key));
}
