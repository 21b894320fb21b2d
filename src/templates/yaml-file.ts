import fs from "node:fs";
import { isMap, isScalar, LineCounter, parseDocument, type Document } from "yaml";
import type { z } from "zod";

/**
 * Reads a YAML file and validates it with a zod schema. Errors name the file, the line and the
 * field, e.g. `rubric.yaml:4: field "score2_description": expected string, received number`.
 */
export function readYamlFile<T>(file: string, schema: z.ZodType<T>, what: string): T {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (error) {
    throw new Error(`${file}: cannot read ${what} file: ${(error as Error).message}`);
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) {
    const first = doc.errors[0]!;
    const line = lineCounter.linePos(first.pos[0]).line;
    throw new Error(`${file}:${line}: invalid YAML: ${first.message.split("\n")[0]}`);
  }
  const data: unknown = doc.toJS();
  const result = schema.safeParse(data);
  if (result.success) return result.data;
  const lineOf = (offset: number | undefined) => (offset === undefined ? file : `${file}:${lineCounter.linePos(offset).line}`);
  const messages = result.error.issues.map((issue) => {
    const fieldPath = issue.path.map(String);
    if (issue.code === "unrecognized_keys") {
      return issue.keys
        .map((key) => `${lineOf(keyOffset(doc, issue.path as (string | number)[], key))}: unknown field "${[...fieldPath, key].join(".")}"`)
        .join("\n");
    }
    const node = fieldPath.length > 0 ? doc.getIn(issue.path as (string | number)[], true) : undefined;
    const offset = node && typeof node === "object" && "range" in node ? (node.range as [number, number, number])[0] : undefined;
    const message = issue.code === "invalid_type" && issue.message.endsWith("received undefined") ? "is required" : issue.message;
    return fieldPath.length === 0 ? `${lineOf(offset)}: ${message}` : `${lineOf(offset)}: field "${fieldPath.join(".")}": ${message}`;
  });
  throw new Error(`invalid ${what} file\n${messages.join("\n")}`);
}

/** Where a mapping key starts, for pointing at an unknown field. */
function keyOffset(doc: Document, mapPath: (string | number)[], key: string): number | undefined {
  const map = mapPath.length === 0 ? doc.contents : doc.getIn(mapPath, true);
  if (!isMap(map)) return undefined;
  const pair = map.items.find((item) => isScalar(item.key) && String(item.key.value) === key);
  return pair && isScalar(pair.key) ? pair.key.range?.[0] : undefined;
}
