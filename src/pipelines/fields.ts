/** Reading the text fields pipelines need from a record, with rejects that name the field. */
import type { RawRecord } from "../records/types.js";

export type FieldResult<T> = { ok: true; value: T } | { ok: false; field: string; reason: string };

/** Text from the first present field of `names` (a number is read as text). Absent: undefined. */
export function optionalText(record: RawRecord, names: string[]): FieldResult<string | undefined> {
  for (const name of names) {
    const value = record[name];
    if (value === undefined || value === null) continue;
    if (typeof value === "number") return { ok: true, value: String(value) };
    if (typeof value !== "string") return { ok: false, field: name, reason: `field "${name}": expected text, got ${describe(value)}` };
    if (value.trim() === "") return { ok: false, field: name, reason: `field "${name}": is empty` };
    return { ok: true, value };
  }
  return { ok: true, value: undefined };
}

/** Text from the first present field of `names`; missing is an error naming the first. */
export function requiredText(record: RawRecord, names: string[]): FieldResult<string> {
  const result = optionalText(record, names);
  if (!result.ok) return result;
  if (result.value === undefined) {
    const alternatives = names.length > 1 ? ` (or ${names.slice(1).map((n) => `"${n}"`).join(", ")})` : "";
    return { ok: false, field: names[0]!, reason: `missing field "${names[0]}"${alternatives}` };
  }
  return { ok: true, value: result.value };
}

/** A finite number, or undefined when absent/null; anything else is an error. */
export function optionalNumber(value: unknown, field: string): FieldResult<number | undefined> {
  if (value === undefined || value === null || value === "") return { ok: true, value: undefined };
  const n = typeof value === "string" ? Number(value) : value;
  if (typeof n !== "number" || !Number.isFinite(n)) return { ok: false, field, reason: `field "${field}": expected a number, got ${describe(value)}` };
  return { ok: true, value: n };
}

export function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "string") return `"${value.length > 40 ? `${value.slice(0, 40)}…` : value}"`;
  return typeof value;
}

export { round4 } from "../util/round.js";
