import OpenAI from "openai";
import { describe, expect, it } from "vitest";
import { addSecret, errorText, redactError, redactSecrets } from "./redact.js";

describe("redactSecrets", () => {
  it("removes the key variables' values, keys given in code, bearer tokens and OpenAI-shaped keys", () => {
    const env = { OPENAI_API_KEY: "plain-key-value-42" };
    expect(redactSecrets("key plain-key-value-42 echoed", env)).toBe("key [redacted] echoed");
    addSecret("given-in-code-secret");
    expect(redactSecrets("x given-in-code-secret y", {})).toBe("x [redacted] y");
    expect(redactSecrets("'Authorization: Bearer abc.def-ghi'", {})).toBe("'Authorization: Bearer [redacted]'");
    expect(redactSecrets("key sk-proj-ABCDEFGHIJKLMNOPQRST1234 was wrong", {})).toBe("key [redacted] was wrong");
    expect(redactSecrets("token hf_abcdefghijklmnopqrstuv", {})).toBe("token [redacted]");
    // What is not a secret stays as it was (the placeholder key of local servers, short words).
    expect(redactSecrets("sk-no-key at http://127.0.0.1:8080/v1: HTTP 401", {})).toBe("sk-no-key at http://127.0.0.1:8080/v1: HTTP 401");
  });

  it("redacts an SDK error in place: message, stack and the server's error body", () => {
    const key = "sk-critic-unit-0123456789abcdef";
    const body = { message: `Incorrect API key provided: 'Authorization: Bearer ${key}'` };
    const error = OpenAI.APIError.generate(401, { error: body }, undefined, new Headers());
    expect(error.message).toContain(key);
    const same = redactError(error);
    expect(same).toBe(error);
    expect(same).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(same.message).not.toContain(key);
    expect(String(same.stack)).not.toContain(key);
    expect(JSON.stringify(same.error)).not.toContain(key);
    expect(errorText(new Error(`failed: Bearer ${key}`))).toBe("failed: Bearer [redacted]");
  });
});
