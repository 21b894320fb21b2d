import fs from "node:fs";
import path from "node:path";
import { z } from "zod";
import { RUBRICS_DIR } from "./assets.js";
import { didYouMean } from "../util/did-you-mean.js";
import type { Rubric } from "./types.js";
import { readYamlFile } from "./yaml-file.js";

export const RUBRIC_DESCRIPTION_FIELDS = [
  "score1_description",
  "score2_description",
  "score3_description",
  "score4_description",
  "score5_description",
] as const;

const text = z.string().trim().min(1, "must be non-empty text");

export const rubricSchema = z.strictObject({
  /** Optional label; not part of the prompt. */
  name: z.string().optional(),
  criteria: text,
  score1_description: text,
  score2_description: text,
  score3_description: text,
  score4_description: text,
  score5_description: text,
});

/** Names of the rubrics shipped in assets/rubrics/. */
export function builtinRubricNames(): string[] {
  return fs
    .readdirSync(RUBRICS_DIR)
    .filter((file) => file.endsWith(".yaml"))
    .map((file) => file.slice(0, -".yaml".length))
    .sort();
}

function toRubric(parsed: z.infer<typeof rubricSchema>): Rubric {
  const { name: _name, ...rubric } = parsed;
  return rubric;
}

/** Reads a rubric YAML file (criteria and score1_description..score5_description). */
export function loadRubricFile(file: string): Rubric {
  return toRubric(readYamlFile(file, rubricSchema, "rubric"));
}

/** A shipped rubric by name (helpfulness, harmlessness, honesty, factual_validity, reasoning) or a YAML file path. */
export function loadRubric(nameOrPath: string): Rubric {
  const builtin = path.join(RUBRICS_DIR, `${nameOrPath}.yaml`);
  if (/^[a-z0-9_]+$/i.test(nameOrPath) && fs.existsSync(builtin)) return loadRubricFile(builtin);
  if (fs.existsSync(nameOrPath)) return loadRubricFile(nameOrPath);
  const close = /^[a-z0-9_-]+$/i.test(nameOrPath) ? didYouMean(nameOrPath, builtinRubricNames()) : [];
  throw new Error(
    `rubric "${nameOrPath}" is neither a built-in rubric (${builtinRubricNames().join(", ")}) nor an existing file` +
      (close.length > 0 ? `; did you mean ${close.map((c) => `"${c}"`).join(" or ")}?` : ""),
  );
}

/**
 * The rubric a record carries in its own fields, or undefined when it has no `criteria`.
 * A record with criteria but without all five score descriptions is an error naming the field.
 */
export function rubricFromRecord(record: Record<string, unknown>): Rubric | undefined {
  const criteria = record.criteria;
  if (criteria === undefined || criteria === null || criteria === "") return undefined;
  if (typeof criteria !== "string") throw new Error(`record field "criteria" must be text`);
  const rubric: Partial<Rubric> = { criteria };
  for (const field of RUBRIC_DESCRIPTION_FIELDS) {
    const value = record[field];
    if (typeof value !== "string" || value.trim() === "") {
      throw new Error(`record has a rubric "criteria" but field "${field}" is missing or not text`);
    }
    rubric[field] = value;
  }
  return rubric as Rubric;
}
