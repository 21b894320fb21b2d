/**
 * "1 judgment", "2 judgments": a count with its noun in the right number. `many` is for nouns
 * whose plural is not noun + "s" ("1 process", "2 processes").
 */
export function plural(n: number, noun: string, many = `${noun}s`): string {
  return `${n} ${n === 1 ? noun : many}`;
}
