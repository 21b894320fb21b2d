import { z } from "zod";
import type { Reject, SourcedRecord } from "./types.js";
import { setField } from "./fields.js";

/** Validates a row with a zod schema; a failure becomes a Reject naming file, line and field. */
export function validateRecord<T>(
  schema: z.ZodType<T>,
  sourced: SourcedRecord,
  file: string,
): { ok: true; value: T } | { ok: false; reject: Reject } {
  const result = schema.safeParse(sourced.record);
  if (result.success) {
    // zod's object parsing leaves out an own "__proto__" key; the record keeps it.
    const data = result.data as unknown;
    if (Object.hasOwn(sourced.record, "__proto__") && data !== null && typeof data === "object" && !Object.hasOwn(data, "__proto__")) {
      setField(data as Record<string, unknown>, "__proto__", sourced.record["__proto__"]);
    }
    return { ok: true, value: result.data };
  }
  const issue = result.error.issues[0]!;
  const field = issue.path.map(String).join(".");
  return {
    ok: false,
    reject: {
      file,
      line: sourced.line,
      ...(field ? { field } : {}),
      reason: field ? `field "${field}": ${issue.message}` : issue.message,
      record: sourced.record,
    },
  };
}
