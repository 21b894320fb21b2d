import { createHash } from "node:crypto";

/** A short hash of a head's weights, part of the cache key (a retrained head never reuses old answers). */
export function fingerprintBytes(...arrays: Array<Float32Array | undefined>): string {
  const hash = createHash("sha256");
  for (const a of arrays) hash.update(a ? Buffer.from(a.buffer, a.byteOffset, a.byteLength) : Buffer.from("none"));
  return hash.digest("hex").slice(0, 16);
}
