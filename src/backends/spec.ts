import { AI_SDK_PROVIDERS } from "./ai-sdk-providers.js";
import { findJudge, judgeDownload, judgeSuggestion } from "../judges/index.js";

/** What `--model` names: a local GGUF file, a GGUF on Hugging Face (or a catalogue judge's), or a model on a server. */
export type ModelSpec =
  | { kind: "embedded"; path: string }
  | { kind: "embedded"; hf: HuggingFaceModel; uri: string }
  | { kind: "openai"; model: string }
  | { kind: "ollama"; model: string }
  /** A model of an AI SDK provider package (`anthropic:<id>`, `google:<id>` …). */
  | { kind: "ai-sdk"; provider: string; model: string };

export interface HuggingFaceModel {
  user: string;
  repo: string;
  /** Quantization tag (`Q4_K_M`) from `hf:user/repo:Q4_K_M`. */
  quant?: string;
  /** File path inside the repo from `hf:user/repo/dir/file.gguf`. */
  file?: string;
}

export const MODEL_SPEC_FORMS = [
  "./model.gguf or /abs/path/model.gguf (a local GGUF file)",
  "hf:<user>/<repo>[:<quant>] or hf:<user>/<repo>/<file.gguf> (a GGUF on Hugging Face)",
  "openai:<model> (an OpenAI-compatible server; see --base-url)",
  "ollama:<model> (an Ollama server)",
  `<provider>:<model> through the AI SDK provider package (${Object.keys(AI_SDK_PROVIDERS).join(", ")})`,
  "a judge's name, e.g. prometheus-2-7b (its GGUF from Hugging Face; `critic judges` lists them)",
];

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Reads a model spec; throws an error listing the accepted forms when it is none of them. */
export function parseModelSpec(spec: string): ModelSpec {
  const text = spec.trim();
  const fail = (why: string): never => {
    throw new Error(`invalid model "${spec}": ${why}. Accepted forms:\n  ${MODEL_SPEC_FORMS.join("\n  ")}`);
  };
  if (text === "") return fail("it is empty");

  for (const kind of ["openai", "ollama"] as const) {
    if (text.startsWith(`${kind}:`)) {
      // Server model names may hold ':' and '/' themselves (llama3.1:8b, org/model).
      const model = text.slice(kind.length + 1).trim();
      if (model === "") return fail(`no model name after "${kind}:"`);
      return { kind, model };
    }
  }

  const prefix = /^([a-z]+):/.exec(text)?.[1];
  if (prefix !== undefined && Object.hasOwn(AI_SDK_PROVIDERS, prefix)) {
    // Model ids may hold ':' themselves (Bedrock's "…-v2:0").
    const model = text.slice(prefix.length + 1).trim();
    if (model === "") return fail(`no model name after "${prefix}:"`);
    return { kind: "ai-sdk", provider: prefix, model };
  }

  if (text.startsWith("hf:")) {
    const rest = text.slice(3);
    const [user, ...parts] = rest.split("/");
    if (!user || !NAME.test(user) || parts.length === 0) return fail('expected "hf:<user>/<repo>"');
    if (parts.length === 1) {
      const [repo = "", quant, ...extra] = parts[0]!.split(":");
      if (!NAME.test(repo) || extra.length > 0 || quant === "") return fail('expected "hf:<user>/<repo>" or "hf:<user>/<repo>:<quant>"');
      return {
        kind: "embedded",
        hf: { user, repo, ...(quant !== undefined ? { quant } : {}) },
        uri: `hf:${user}/${repo}${quant !== undefined ? `:${quant}` : ""}`,
      };
    }
    const [repo = "", ...fileParts] = parts;
    const file = fileParts.join("/");
    if (!NAME.test(repo) || fileParts.some((p) => p === "" || p === "." || p === "..")) return fail('expected "hf:<user>/<repo>/<file.gguf>"');
    if (!file.toLowerCase().endsWith(".gguf")) return fail(`"${file}" is not a .gguf file`);
    return { kind: "embedded", hf: { user, repo, file }, uri: `hf:${user}/${repo}/${file}` };
  }

  if (text.toLowerCase().endsWith(".gguf")) return { kind: "embedded", path: text };
  const judge = findJudge(text);
  if (judge) {
    const { uri } = judgeDownload(judge);
    return parseModelSpec(uri);
  }
  if (/^[A-Za-z][A-Za-z0-9+.-]*:/.test(text) && !/^[A-Za-z]:[\\/]/.test(text)) {
    return fail(`unknown prefix "${text.slice(0, text.indexOf(":") + 1)}"`);
  }
  if (/^(\.{1,2}[\\/]|[\\/]|~[\\/]|[A-Za-z]:[\\/])/.test(text)) return fail("a local model must be a .gguf file");
  return fail(`it is neither a .gguf path, a known prefix nor a judge's name${judgeSuggestion(text)}`);
}
