/**
 * Sets an own data property, also for the key "__proto__": plain assignment to that key changes
 * the object's prototype instead, and the field is lost. Records are data: every key is a field.
 */
export function setField(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === "__proto__") Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
  else target[key] = value;
}

/** Records nested deeper than this are rejected when read: writing them (JSON.stringify) would overflow the stack. */
export const MAX_NESTING = 1000;

/** How deep a value nests (a scalar is 0, `{}` and `[]` are 1), counted without recursion; stops counting past `limit`. */
export function nestingDepth(value: unknown, limit = MAX_NESTING): number {
  let deepest = 0;
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [item, depth] = stack.pop()!;
    if (item === null || typeof item !== "object") continue;
    const level = depth + 1;
    if (level > deepest) deepest = level;
    if (deepest > limit) return deepest;
    for (const child of Array.isArray(item) ? item : Object.values(item)) {
      if (child !== null && typeof child === "object") stack.push([child, level]);
    }
  }
  return deepest;
}
