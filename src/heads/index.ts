/** The heads room's public surface (node-llama-cpp is loaded only when an embedded head is opened). */
import type { EmbeddedHeadOptions } from "./embedded.js";
import type { HeadModel } from "./spec.js";

export { isJudgePackage, loadJudgePackage, parseManifest, writeJudgePackage, packageManifestSchema, PACKAGE_FORMAT, PACKAGE_MANIFEST, type JudgePackage, type PackageManifest, type WritePackageOptions } from "./package.js";
export { decodeSafetensors, encodeSafetensors, readSafetensors, writeSafetensors, type SafetensorsDType, type Tensor } from "./safetensors.js";
export { headVerdict, pairVerdict, pairDistribution, roundHalfEven, softmax, HEAD_NO_FEEDBACK, type HeadModel, type HeadOutput, type HeadScore, type HeadVerdict } from "./spec.js";
export { isHeadSpec, openHead, parseHeadOutput, HEAD_SPEC_FORMS, type OpenHeadOptions } from "./open.js";
export { headIdentity, withTrainedPromptForm } from "./run.js";
export { createVllmHead, type VllmHeadOptions } from "./vllm.js";
export { createTeiHead, type TeiHeadOptions } from "./tei.js";
export type { EmbeddedHeadOptions };

/** A judge package's head run in-process (node-llama-cpp), loaded on first use. */
export async function createEmbeddedHead(options: EmbeddedHeadOptions): Promise<HeadModel> {
  return (await import("./embedded.js")).createEmbeddedHead(options);
}
