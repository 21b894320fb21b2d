import { getEventListeners } from "node:events";
import { describe, expect, it } from "vitest";
import { startDeadline } from "./deadline.js";

describe("startDeadline", () => {
  it("aborts when the time is up and says it expired", async () => {
    const deadline = startDeadline(20);
    await new Promise((resolve) => deadline.signal.addEventListener("abort", resolve));
    expect(deadline.expired).toBe(true);
    expect((deadline.signal.reason as DOMException).name).toBe("TimeoutError");
    deadline.dispose();
  });

  it("follows the caller's signal without counting it as expiry", () => {
    const parent = new AbortController();
    const deadline = startDeadline(60_000, parent.signal);
    parent.abort(new Error("stop"));
    expect(deadline.signal.aborted).toBe(true);
    expect(deadline.expired).toBe(false);
    deadline.dispose();
  });

  it("leaves nothing attached to a long-lived parent signal after dispose", () => {
    const parent = new AbortController();
    for (let i = 0; i < 1000; i++) startDeadline(60_000, parent.signal).dispose();
    expect(getEventListeners(parent.signal, "abort")).toHaveLength(0);
    const kept = startDeadline(60_000, parent.signal);
    expect(getEventListeners(parent.signal, "abort")).toHaveLength(1);
    kept.dispose();
  });

  it("starts aborted when the parent already is", () => {
    const deadline = startDeadline(60_000, AbortSignal.abort());
    expect(deadline.signal.aborted).toBe(true);
    deadline.dispose();
  });
});
