/**
 * API keys never leave critic: every error message, log line and stored error passes through
 * `redactSecrets` where it is printed or recorded. It removes the values of the key variables critic
 * reads, keys handed to it in code (`addSecret`), and anything shaped like a bearer token or an
 * OpenAI key, so a server that echoes the Authorization header cannot make critic print it.
 */
const SECRET_ENV = ["OPENAI_API_KEY", "CRITIC_API_KEY", "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "OLLAMA_API_KEY"];
const MIN_SECRET = 6;
const added = new Set<string>();
export const REDACTED = "[redacted]";

/** A key given in code rather than the environment (e.g. `apiKey` of a backend): redacted too. */
export function addSecret(value: string | undefined): void {
  if (value && value.trim().length >= MIN_SECRET) added.add(value.trim());
}

export function redactSecrets(text: string, env: NodeJS.ProcessEnv = process.env): string {
  let out = text;
  const secrets = [...SECRET_ENV.map((name) => env[name]?.trim()), ...added].filter((s): s is string => s !== undefined && s.length >= MIN_SECRET);
  // Longest first, so a key that contains another is removed whole.
  for (const secret of secrets.sort((a, b) => b.length - a.length)) out = out.split(secret).join(REDACTED);
  return out
    .replace(/\b(Bearer)(\s+)(?!\[redacted\])[^\s"'`,;)}\]]+/gi, `$1$2${REDACTED}`)
    .replace(/\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{16,}/g, REDACTED)
    .replace(/\bhf_[A-Za-z0-9]{16,}/g, REDACTED);
}

/**
 * The same error with the secrets taken out of its message, stack and string fields (the OpenAI
 * SDK's APIError keeps the server's error body in `error`), for rethrowing to whoever called critic.
 */
export function redactError<T>(error: T): T {
  if (!(error instanceof Error)) return (typeof error === "string" ? redactSecrets(error) : error) as T;
  try {
    error.message = redactSecrets(error.message);
    if (typeof error.stack === "string") error.stack = redactSecrets(error.stack);
    const fields = error as unknown as Record<string, unknown>;
    for (const key of Object.keys(fields)) {
      const value = fields[key];
      if (typeof value === "string") fields[key] = redactSecrets(value);
      else if (key === "error" && value !== null && typeof value === "object") fields[key] = JSON.parse(redactSecrets(JSON.stringify(value))) as unknown;
      else if (key === "headers") fields[key] = undefined;
    }
  } catch {
    // A frozen error: its message is redacted where it is printed.
  }
  return error;
}

/** What to print for an error that reached the top: its message, without secrets. */
export function errorText(error: unknown): string {
  return redactSecrets(error instanceof Error ? error.message : String(error));
}
