/**
 * A per-attempt deadline: a signal that aborts when the caller's signal does or when `ms` pass.
 * Unlike AbortSignal.timeout + AbortSignal.any, `dispose()` frees the timer and the listener at
 * once, so memory does not grow with requests-per-second x timeout on long fast runs.
 */
export interface Deadline {
  signal: AbortSignal;
  /** True when the deadline itself (not the caller) aborted. */
  readonly expired: boolean;
  dispose(): void;
}

export function startDeadline(ms: number, parent?: AbortSignal): Deadline {
  const controller = new AbortController();
  let expired = false;
  const timer = setTimeout(() => {
    expired = true;
    controller.abort(new DOMException(`no answer within ${ms} ms`, "TimeoutError"));
  }, ms);
  const onParentAbort = () => controller.abort(parent?.reason);
  if (parent?.aborted) onParentAbort();
  else parent?.addEventListener("abort", onParentAbort, { once: true });
  return {
    signal: controller.signal,
    get expired() {
      return expired;
    },
    dispose() {
      clearTimeout(timer);
      parent?.removeEventListener("abort", onParentAbort);
    },
  };
}
