/** Structured-output backends answer with a JSON object; returns it when the whole output is one. */
export function jsonObjectOutput(text: string): { value: Record<string, unknown> } | { error: string } | undefined {
  const body = stripCodeFence(text);
  if (!body.startsWith("{") || !body.endsWith("}")) return undefined;
  try {
    const value: unknown = JSON.parse(body);
    if (value === null || typeof value !== "object" || Array.isArray(value)) return { error: "JSON output is not an object" };
    return { value: value as Record<string, unknown> };
  } catch (error) {
    return { error: `output looks like JSON but does not parse: ${(error as Error).message}` };
  }
}

export function jsonFeedback(value: Record<string, unknown>): string | { error: string } {
  const feedback = value.feedback ?? "";
  if (typeof feedback !== "string") return { error: 'JSON field "feedback" must be a string' };
  return feedback.trim();
}

/** Code fences around a whole output (```json ... ```) are removed. */
export function stripCodeFence(text: string): string {
  const trimmed = text.trim();
  if (!trimmed.startsWith("```") || !trimmed.endsWith("```") || trimmed.length < 6) return trimmed;
  const firstNewline = trimmed.indexOf("\n");
  if (firstNewline < 0) return trimmed;
  return trimmed.slice(firstNewline + 1, -3).trim();
}
