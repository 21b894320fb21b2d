/**
 * Records that carry a conversation (OpenAI chat `messages`, or `messages_a` and `messages_b` for a
 * pair) instead of instruction/response fields. The last assistant turn is the response judged; the
 * turns before it are its context. This module turns a conversation into the fields templates read:
 * `instruction` (the context as text), `response` / `response_a` / `response_b`, and the per-turn
 * `question_i`, `answer_i`, `answer_a_i`, `answer_b_i` that MT-Bench's multi-turn prompts use.
 */

export interface Turn {
  user: string;
  assistant: string;
}

export interface ConversationView {
  /** Fields derived from the conversation (a field the record has itself is never replaced). */
  fields: Record<string, string>;
  /** User turns of the conversation (1 for a single exchange). */
  turns: number;
}

const ROLES = new Set(["system", "user", "assistant"]);

/** Turns of a chat message list, or an error naming the field and what is wrong. */
export function chatTurns(value: unknown, field: string): Turn[] | { error: string } {
  if (!Array.isArray(value)) return { error: `field "${field}": expected a list of {role, content} messages` };
  const turns: Turn[] = [];
  let pending: string | undefined;
  for (const [i, message] of value.entries()) {
    const m = message as { role?: unknown; content?: unknown } | null;
    if (m === null || typeof m !== "object" || !ROLES.has(String(m.role)) || typeof m.content !== "string") {
      return { error: `field "${field}.${i}": expected {role: system|user|assistant, content: text}` };
    }
    if (m.role === "system") continue;
    if (m.role === "user") {
      if (pending !== undefined) return { error: `field "${field}.${i}": two user messages in a row` };
      pending = m.content;
    } else {
      if (pending === undefined) return { error: `field "${field}.${i}": an assistant message that answers no user message` };
      turns.push({ user: pending, assistant: m.content });
      pending = undefined;
    }
  }
  if (pending !== undefined || turns.length === 0) return { error: `field "${field}": the conversation must end with the assistant turn to judge` };
  return turns;
}

/** A conversation as text in MT-Bench's layout (`### User:` / `### Assistant:` blocks). */
export function conversationText(turns: Turn[], lastUser?: string): string {
  const blocks = turns.flatMap((t) => [`### User:\n${t.user}`, `### Assistant:\n${t.assistant}`]);
  if (lastUser !== undefined) blocks.push(`### User:\n${lastUser}`);
  return blocks.join("\n\n");
}

/** The fields a record's conversation gives, or undefined when it has none. Throws naming a bad field. */
export function conversationView(record: Record<string, unknown>): ConversationView | undefined {
  if (record.messages !== undefined && record.messages !== null) {
    const turns = orThrow(chatTurns(record.messages, "messages"));
    const last = turns.at(-1)!;
    const fields: Record<string, string> = {
      instruction: turns.length === 1 ? last.user : conversationText(turns.slice(0, -1), last.user),
      response: last.assistant,
    };
    turns.forEach((t, i) => {
      fields[`question_${i + 1}`] = t.user;
      fields[`answer_${i + 1}`] = t.assistant;
    });
    return { fields, turns: turns.length };
  }
  if ((record.messages_a ?? null) === null && (record.messages_b ?? null) === null) return undefined;
  const a = orThrow(chatTurns(record.messages_a, "messages_a"));
  const b = orThrow(chatTurns(record.messages_b, "messages_b"));
  if (a.length !== b.length || a.some((t, i) => t.user !== b[i]!.user)) {
    throw new Error('field "messages_b": the two conversations must have the same user turns');
  }
  const fields: Record<string, string> = {};
  const earlierSame = a.slice(0, -1).every((t, i) => t.assistant === b[i]!.assistant);
  if (earlierSame) {
    // One shared context, two final answers.
    fields.instruction = a.length === 1 ? a[0]!.user : conversationText(a.slice(0, -1), a.at(-1)!.user);
    fields.response_a = a.at(-1)!.assistant;
    fields.response_b = b.at(-1)!.assistant;
  } else {
    // The assistants answered earlier turns differently: each response is its whole side of the conversation.
    fields.instruction = a[0]!.user;
    fields.response_a = sideText(a);
    fields.response_b = sideText(b);
  }
  a.forEach((t, i) => {
    fields[`question_${i + 1}`] = t.user;
    fields[`answer_a_${i + 1}`] = t.assistant;
    fields[`answer_b_${i + 1}`] = b[i]!.assistant;
  });
  return { fields, turns: a.length };
}

function sideText(turns: Turn[]): string {
  return [turns[0]!.assistant, ...turns.slice(1).flatMap((t) => [`### User:\n${t.user}`, `### Assistant:\n${t.assistant}`])].join("\n\n");
}

function orThrow(turns: Turn[] | { error: string }): Turn[] {
  if ("error" in turns) throw new Error(turns.error);
  return turns;
}
