import { didYouMean } from "../util/did-you-mean.js";
import { JUDGES, type CatalogJudge } from "./catalog.js";

export { JUDGES } from "./catalog.js";
export type { CatalogJudge, GgufRepository, GradingKind, Sourced } from "./catalog.js";

/** The catalogue judge a --model word names, if it is one. */
export function findJudge(name: string): CatalogJudge | undefined {
  return JUDGES.find((judge) => judge.name === name);
}

export function judgeNames(): string[] {
  return JUDGES.map((judge) => judge.name);
}

/** `did you mean "selene-mini"?` for a word close to a judge's name, else "". */
export function judgeSuggestion(word: string): string {
  const close = didYouMean(word, judgeNames());
  return close.length > 0 ? `; did you mean ${close.map((c) => `"${c}"`).join(" or ")}?` : "";
}

/** The file `--model <name>` downloads, as an `hf:<user>/<repo>/<file>` URI. */
export function judgeDownload(judge: CatalogJudge): { uri: string; repo: string; file: string; quant: string } {
  const download = judge.download;
  const file = download ? judge.gguf.find((g) => g.repo === download.repo)?.files[download.quant] : undefined;
  if (!download || !file) {
    throw new Error(`"${judge.name}" (${judge.title}) has no known GGUF to download${judge.note ? `: ${judge.note}` : ""}`);
  }
  return { uri: `hf:${download.repo}/${file}`, repo: download.repo, file, quant: download.quant };
}

export interface CatalogDefaultsInput {
  model: unknown;
  template?: string;
  mode?: "absolute" | "pairwise";
  rubric?: unknown;
}

/**
 * The template and rubric a run of catalogue judges uses where the user gave none: the judge's own
 * template for the mode asked (or the first it has), its rubric. An explicit template or rubric wins.
 */
export function catalogDefaults(input: CatalogDefaultsInput): { template?: string; rubric?: string } {
  const specs = (Array.isArray(input.model) ? input.model : [input.model]).filter((m): m is string => typeof m === "string");
  const judges = specs.map((spec) => findJudge(spec.trim())).filter((j): j is CatalogJudge => j !== undefined);
  if (judges.length === 0) return {};
  const defaults: { template?: string; rubric?: string } = {};
  if (input.template === undefined) {
    const templates = new Set(judges.map((judge) => templateOf(judge, input.mode)));
    if (templates.size > 1) {
      throw new Error(`the jurors ${judges.map((j) => j.name).join(", ")} use different templates (${[...templates].join(", ")}); a jury grades with one: pass --template`);
    }
    defaults.template = [...templates][0]!;
  }
  if (input.rubric === undefined) {
    const rubrics = new Set(judges.map((judge) => judge.rubric).filter((r): r is string => r !== undefined));
    if (rubrics.size === 1) defaults.rubric = [...rubrics][0]!;
  }
  return defaults;
}

function templateOf(judge: CatalogJudge, mode: "absolute" | "pairwise" | undefined): string {
  const template = mode ? judge.templates[mode] : judge.templates.absolute ?? judge.templates.pairwise;
  if (template) return template;
  if (mode && (judge.templates.absolute ?? judge.templates.pairwise)) {
    throw new Error(`"${judge.name}" does not grade ${mode} in critic (its templates: ${Object.values(judge.templates).join(", ")})`);
  }
  throw new Error(`"${judge.name}" (${judge.title}) has no built-in template in critic yet: pass --template <name|file.yaml> (\`critic judges ${judge.name}\` says more)`);
}
