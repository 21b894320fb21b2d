/**
 * The export.json manifest and README.md dataset card written next to each format's files.
 * `critic train` reads export.json: format, trainer, conversational, files.{train,test}, counts,
 * source, seed, testSize.
 */
import { readFileSync } from "node:fs";
import { FORMATS } from "./formats.js";
import { SKIP_REASONS, type FormatCounts, type FormatName, type FormatResult, type InputKind, type JudgeSummaryRow, type SkipReason, type TrainerName } from "./types.js";


export interface ExportManifest {
  format: FormatName;
  trainer: TrainerName;
  conversational: boolean;
  files: { train: string; test: string };
  /** Present with --parquet. */
  parquet?: { train: string; test: string };
  fields: Record<string, string>;
  counts: FormatCounts;
  source: string[];
  /** Valid records of each input kind. */
  inputs: Record<InputKind, number>;
  seed: number;
  testSize: number;
  dedupe: boolean;
  round: boolean;
  /** Judge templates the critique rows were rendered with (rows per template). */
  templates: Record<string, number>;
  judges: JudgeSummaryRow[];
  /** classify / regress: what the judge package and `critic train classify|regress` need to know. */
  head?: HeadInfo;
  /** critic version that wrote the files. */
  critic: string;
}

/** The score formats' description of their labels and prompts (export.json `head`). */
export interface HeadInfo {
  kind: "classify" | "regress";
  /** The score each label index stands for (classify); null for regress. */
  labels: number[] | null;
  scale: { min: number; max: number } | null;
  /** The template every row was rendered with; null when rows came from several (train refuses those). */
  template: string | null;
  template_options: { system_in_user: true; prompt_form?: "phudge"; augment_drop?: number };
}

const VERSION = (JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }).version;

export function buildManifest(input: {
  result: FormatResult;
  conversational: boolean;
  parquet: boolean;
  source: string[];
  kinds: Record<InputKind, number>;
  seed: number;
  testSize: number;
  dedupe: boolean;
  round: boolean;
  head?: HeadInfo;
}): ExportManifest {
  const info = FORMATS[input.result.format];
  return {
    format: input.result.format,
    trainer: info.trainer,
    conversational: input.conversational,
    files: { train: "train.jsonl", test: "test.jsonl" },
    ...(input.parquet ? { parquet: { train: "train.parquet", test: "test.parquet" } } : {}),
    fields: info.fields(input.conversational),
    counts: input.result.counts,
    source: input.source,
    inputs: input.kinds,
    seed: input.seed,
    testSize: input.testSize,
    dedupe: input.dedupe,
    round: input.round,
    templates: input.result.templates,
    judges: input.result.judges,
    ...(input.head ? { head: input.head } : {}),
    critic: VERSION,
  };
}

const TAGS: Record<TrainerName, string[]> = {
  sft: ["trl", "sft"],
  dpo: ["trl", "dpo", "preference"],
  kto: ["trl", "kto", "unpaired-preference"],
  reward: ["trl", "reward-modeling", "preference"],
  "openai-sft": ["openai", "fine-tuning", "sft"],
  "openai-dpo": ["openai", "fine-tuning", "dpo"],
  classify: ["text-classification", "judge"],
  regress: ["text-regression", "judge"],
};

/** Markdown dataset card, with Hugging Face Hub front matter naming the two splits. */
export function renderCard(m: ExportManifest): string {
  const info = FORMATS[m.format];
  const c = m.counts;
  const lines: string[] = [
    "---",
    "configs:",
    "- config_name: default",
    "  data_files:",
    "  - split: train",
    `    path: ${m.files.train}`,
    "  - split: test",
    `    path: ${m.files.test}`,
    "tags:",
    ...["critic", ...TAGS[m.trainer]].map((tag) => `- ${tag}`),
    "---",
    "",
    `# ${m.format}`,
    "",
    `Written by \`critic export\` (critic ${m.critic}). ${info.usage}`,
    "",
    "| split | rows | prompts | file |",
    "|---|---:|---:|---|",
    `| train | ${c.train} | ${c.trainPrompts} | \`${m.files.train}\`${m.parquet ? `, \`${m.parquet.train}\`` : ""} |`,
    `| test | ${c.test} | ${c.testPrompts} | \`${m.files.test}\`${m.parquet ? `, \`${m.parquet.test}\`` : ""} |`,
    "",
    "## Fields",
    "",
    `Format \`${m.format}\`, ${m.conversational ? "conversational (message lists)" : "standard (text)"}; trainer \`${m.trainer}\`.`,
    "",
    ...Object.entries(m.fields).map(([name, what]) => `- \`${name}\`: ${what}`),
    "",
  ];
  if (m.trainer === "openai-sft" || m.trainer === "openai-dpo") {
    lines.push("Upload `train.jsonl` (and `test.jsonl` as validation file) to the OpenAI fine-tuning API.", "");
  } else {
    lines.push(
      "```python",
      "from datasets import load_dataset",
      `dataset = load_dataset("json", data_files={"train": "${m.files.train}", "test": "${m.files.test}"})`,
      "```",
      "",
    );
  }
  if (m.parquet && m.conversational) {
    lines.push(
      "In the Parquet files, message lists are Parquet lists of `{role, content}` structs, as `datasets` loads them;",
      "other object columns (OpenAI's `input`) are JSON text: decode them (`json.loads`) or use the JSONL files.",
      "",
    );
  }
  const kinds = (Object.entries(m.inputs) as Array<[InputKind, number]>).filter(([, n]) => n > 0).map(([kind, n]) => `${kind} ${n}`);
  lines.push(
    "## Source",
    "",
    ...m.source.map((file) => `- \`${file}\``),
    "",
    `Records read: ${c.read}${kinds.length > 0 ? ` (${kinds.join(", ")})` : ""}; rejected as unreadable or invalid: ${c.rejected}.`,
    "",
  );
  const skipped = Object.entries(c.skipped) as Array<[SkipReason, number]>;
  if (skipped.length > 0) {
    lines.push("Skipped for this format:", "", "| reason | count | meaning |", "|---|---:|---|");
    for (const [reason, n] of skipped.sort((a, b) => b[1] - a[1])) lines.push(`| ${reason} | ${n} | ${SKIP_REASONS[reason]} |`);
    lines.push("");
  } else {
    lines.push("Nothing was skipped for this format.", "");
  }
  if (m.head) {
    const h = m.head;
    lines.push(
      "## Labels",
      "",
      h.kind === "classify"
        ? `Label i stands for score ${h.labels?.map((score, i) => `${i} = ${score}`).join(", ")} (template scale ${h.scale?.min}-${h.scale?.max}).`
        : `The label is the score itself, on the template's scale ${h.scale?.min}-${h.scale?.max}.`,
      "",
      h.template === null
        ? "Warning: the rows were rendered with several templates (see below); a judge package has one. Export again with --template."
        : `Prompts: template \`${h.template}\`, system prompt at the head of the user message${h.template_options.prompt_form === "phudge" ? `; PHUDGE's prompt form, train rows dropping the rubric and the reference answer each with probability ${h.template_options.augment_drop} (test rows keep both)` : ""}.`,
      "",
    );
  }
  const templates = Object.entries(m.templates);
  if (templates.length > 0) {
    lines.push("## Prompt template", "", ...templates.map(([name, n]) => `- \`${name}\`: ${n} rows`), "");
  }
  if (m.judges.length > 0) {
    lines.push("## Judge", "", "The judgments these rows come from, as recorded in their `judge` objects:", "");
    lines.push("| backend | model | template | samples | swap | rubric | sampling | records |", "|---|---|---|---:|---|---|---|---:|");
    for (const j of m.judges) {
      lines.push(`| ${j.backend ?? "-"} | ${j.model ?? "-"} | ${j.template ?? "-"} | ${j.samples ?? "-"} | ${j.swap === null ? "-" : j.swap ? "yes" : "no"} | ${j.rubric ?? "-"} | ${j.params ? `\`${j.params}\`` : "-"} | ${j.records} |`);
    }
    lines.push("");
  }
  lines.push(
    "## Split",
    "",
    `Seed ${m.seed}, test size ${m.testSize} (${m.testSize < 1 ? "share" : "number"} of distinct prompts). Records are grouped by their prompt`,
    "with whitespace normalised, and each group goes whole to train or to test: no prompt is in both splits.",
    `Exact duplicate rows ${m.dedupe ? "were dropped (--dedupe)" : "were kept"}; non-integer scores ${m.round ? "were rounded half up (--round)" : "were skipped"}.`,
    "",
  );
  return `${lines.join("\n")}`;
}
