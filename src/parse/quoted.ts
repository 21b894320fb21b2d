/**
 * A label the judge copied from the text it judges must not outvote its own. A label whose text
 * occurs in one of the judged texts (the answers, the question) counts as quoted; when the output
 * holds labels that are not quoted, the format's rule is applied to those alone. When every label
 * is quoted (the judge's verdict happens to equal one in an answer) nothing can be told apart and
 * the rule sees them all.
 */
export interface LabelMatch {
  /** The label's text as written (`[[A>B]]`, `[8]`). */
  text: string;
  /** What the rule reads from it (`A>B`, `8`). */
  value: string;
  index: number;
}

/** Context a parser may use: the texts that filled the prompt (answers, question, reference). */
export interface ParseContext {
  judged?: readonly string[];
}

export function isQuoted(match: LabelMatch, context: ParseContext | undefined): boolean {
  return (context?.judged ?? []).some((text) => text.includes(match.text));
}

/** More distinct labels than this in one output and the defence stands aside (each check scans the judged texts). */
const MAX_DISTINCT_LABELS = 256;

/**
 * Runs `rule` keeping only the labels not quoted from the judged text; when that finds nothing,
 * runs it again on every label.
 */
export function withoutQuoted<T>(context: ParseContext | undefined, rule: (keep: (match: LabelMatch) => boolean) => T | undefined): T | undefined {
  if (context?.judged && context.judged.length > 0) {
    const seen = new Map<string, boolean>();
    const keep = (match: LabelMatch): boolean => {
      let quoted = seen.get(match.text);
      if (quoted === undefined) {
        if (seen.size >= MAX_DISTINCT_LABELS) return true;
        quoted = isQuoted(match, context);
        seen.set(match.text, quoted);
      }
      return !quoted;
    };
    const result = rule(keep);
    if (result !== undefined) return result;
  }
  return rule(() => true);
}

/** Every match of a global pattern, its first group as the value. */
export function labelMatches(text: string, pattern: RegExp): LabelMatch[] {
  return [...text.matchAll(pattern)].map((m) => ({ text: m[0], value: m[1] ?? m[0], index: m.index }));
}
