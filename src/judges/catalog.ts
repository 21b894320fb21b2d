/**
 * The judges critic knows by one word (`--model prometheus-2-7b`): what each grades, with which
 * built-in template, and the GGUF files known to exist for it. Every fact carries its source: the
 * Hugging Face page (at a commit where the page showed one) it was read from. A GGUF repository or
 * quantisation is listed only where such a page showed the file; "unverified" marks what was not found.
 */

/** A fact and the page it was read from. */
export interface Sourced<T> {
  value: T;
  source: string;
}

/** One GGUF repository on Hugging Face and the quantisations a page of it showed. */
export interface GgufRepository {
  /** `user/repo`. */
  repo: string;
  /** Quantisation tag → file name inside the repository. */
  files: Record<string, string>;
  /** The page listing those files (a tree at a commit, or the main branch where no commit was shown). */
  source: string;
}

export type GradingKind = "absolute" | "pairwise" | "binary";

export interface CatalogJudge {
  /** The word for --model. */
  name: string;
  title: string;
  /** The original (unquantised) model. */
  model: Sourced<string>;
  /** What it grades: a score, a preference between two responses, or yes/no. */
  grades: GradingKind[];
  /** Built-in template per mode; none where critic has no template for this judge yet. */
  templates: { absolute?: string; pairwise?: string };
  /** A built-in rubric to use when the user gives none (none: the record's own criteria, as without a catalogue judge). */
  rubric?: string;
  license: Sourced<string> | "unverified";
  /** GGUF repositories found; empty where none was found. */
  gguf: GgufRepository[];
  /** What `--model <name>` downloads: a repository of `gguf` and one of its quantisations. */
  download?: { repo: string; quant: string };
  /** What the user should know (no GGUF found, no template yet, …). */
  note?: string;
}

export const JUDGES: readonly CatalogJudge[] = [
  {
    name: "prometheus-2-7b",
    title: "Prometheus 2 (7B)",
    model: { value: "prometheus-eval/prometheus-7b-v2.0", source: "https://huggingface.co/vsevolodl/prometheus-7b-v2.0-GGUF/tree/main" },
    grades: ["absolute", "pairwise"],
    templates: { absolute: "prometheus-absolute", pairwise: "prometheus-pairwise" },
    license: { value: "apache-2.0", source: "https://huggingface.co/vsevolodl/prometheus-7b-v2.0-GGUF/tree/main" },
    gguf: [
      {
        repo: "vsevolodl/prometheus-7b-v2.0-GGUF",
        files: quants("prometheus-7b-v2.0.", ["Q2_K", "Q3_K_L", "Q3_K_M", "Q3_K_S", "Q4_0", "Q4_K_M", "Q4_K_S", "Q5_0", "Q5_K_M"]),
        source: "https://huggingface.co/vsevolodl/prometheus-7b-v2.0-GGUF/tree/main (commit d2811a7)",
      },
      {
        repo: "RichardErkhov/prometheus-eval_-_prometheus-7b-v2.0-gguf",
        files: quants("prometheus-7b-v2.0.", ["IQ3_M", "IQ3_S", "IQ3_XS", "IQ4_NL", "IQ4_XS", "Q2_K", "Q3_K", "Q3_K_L", "Q3_K_M", "Q3_K_S", "Q4_0", "Q4_1", "Q4_K", "Q4_K_M", "Q4_K_S"]),
        source: "https://huggingface.co/RichardErkhov/prometheus-eval_-_prometheus-7b-v2.0-gguf/tree/18598543c0d273ae91fb82f4818af63e2fca999e",
      },
      {
        repo: "mav23/prometheus-7b-v2.0-GGUF",
        files: quants("prometheus-7b-v2.0.", ["Q2_K", "Q3_K", "Q3_K_L", "Q3_K_M", "Q3_K_S", "Q4_0", "Q4_1", "Q4_K", "Q5_0"]),
        source: "https://huggingface.co/mav23/prometheus-7b-v2.0-GGUF/tree/84c27ea19552b2029f16a4d32ffe023fe4ca3278",
      },
    ],
    download: { repo: "vsevolodl/prometheus-7b-v2.0-GGUF", quant: "Q4_K_M" },
  },
  {
    name: "prometheus-2-8x7b",
    title: "Prometheus 2 (8x7B)",
    model: { value: "prometheus-eval/prometheus-8x7b-v2.0", source: "https://huggingface.co/vsevolodl/prometheus-8x7b-v2.0-GGUF/tree/fcaa9a024657a18df41b05726e6dedc23d24bb3a" },
    grades: ["absolute", "pairwise"],
    templates: { absolute: "prometheus-absolute", pairwise: "prometheus-pairwise" },
    license: { value: "apache-2.0", source: "https://huggingface.co/vsevolodl/prometheus-8x7b-v2.0-GGUF/tree/fcaa9a024657a18df41b05726e6dedc23d24bb3a" },
    gguf: [
      {
        repo: "vsevolodl/prometheus-8x7b-v2.0-GGUF",
        files: quants("prometheus-8x7b-v2.0.", ["Q2_K", "Q3_K_L", "Q3_K_M", "Q3_K_S", "Q4_0", "Q4_K_M", "Q4_K_S", "Q5_0"]),
        source: "https://huggingface.co/vsevolodl/prometheus-8x7b-v2.0-GGUF/tree/fcaa9a024657a18df41b05726e6dedc23d24bb3a",
      },
      {
        repo: "mradermacher/prometheus-8x7b-v2.0-GGUF",
        files: quants("prometheus-8x7b-v2.0.", ["Q2_K", "Q3_K_L", "Q3_K_M", "Q3_K_S", "Q4_K_M", "Q4_K_S", "Q5_K_M", "Q5_K_S", "Q6_K", "Q8_0"]),
        source: "https://huggingface.co/mradermacher/prometheus-8x7b-v2.0-GGUF/tree/799be577bafee826b0bd862833ba9d047b8837ac",
      },
    ],
    download: { repo: "vsevolodl/prometheus-8x7b-v2.0-GGUF", quant: "Q4_K_M" },
    note: "the Q4_K_M file is 28.4 GB",
  },
  {
    name: "selene-mini",
    title: "Atla Selene Mini (Llama 3.1 8B)",
    model: { value: "AtlaAI/Selene-1-Mini-Llama-3.1-8B", source: "https://huggingface.co/collections/AtlaAI/selene-1-mini-6798ddad0972df3a951aecf1" },
    grades: ["absolute", "pairwise", "binary"],
    templates: { absolute: "selene", pairwise: "selene-pairwise" },
    license: { value: "llama3.1", source: "https://huggingface.co/AtlaAI/Selene-1-Mini-Llama-3.1-8B-Q4_K_M-GGUF/tree/dd712e84027fdd797164426709d1bb480d2936e4" },
    gguf: [
      {
        repo: "AtlaAI/Selene-1-Mini-Llama-3.1-8B-Q4_K_M-GGUF",
        files: { Q4_K_M: "selene-1-mini-llama-3.1-8b-q4_k_m.gguf" },
        source: "https://huggingface.co/AtlaAI/Selene-1-Mini-Llama-3.1-8B-Q4_K_M-GGUF/tree/dd712e84027fdd797164426709d1bb480d2936e4",
      },
      {
        repo: "DevQuasar/AtlaAI.Selene-1-Mini-Llama-3.1-8B-GGUF",
        files: quants("AtlaAI.Selene-1-Mini-Llama-3.1-8B.", ["Q2_K", "Q3_K_M", "Q4_K_M", "Q5_K_M", "Q6_K", "Q8_0", "f16"]),
        source: "https://huggingface.co/DevQuasar/AtlaAI.Selene-1-Mini-Llama-3.1-8B-GGUF/tree/main (commit 63f7a43)",
      },
      {
        repo: "mradermacher/Selene-1-Mini-Llama-3.1-8B-i1-GGUF",
        files: quants("Selene-1-Mini-Llama-3.1-8B.i1-", ["IQ2_M", "IQ3_M", "IQ3_XXS", "IQ4_NL", "IQ4_XS", "Q2_K", "Q2_K_S", "Q3_K_M", "Q4_K_M", "Q4_K_S"]),
        source: "https://huggingface.co/mradermacher/Selene-1-Mini-Llama-3.1-8B-i1-GGUF/tree/eaabd88905d4cc6e80c78400e404ccb35efd5500",
      },
      {
        repo: "bartowski/Selene-1-Mini-Llama-3.1-8B-GGUF",
        files: quants("Selene-1-Mini-Llama-3.1-8B-", ["IQ3_M", "IQ3_XS", "IQ4_XS", "Q6_K"]),
        source: "https://huggingface.co/bartowski/Selene-1-Mini-Llama-3.1-8B-GGUF/blob/82c1f450803c2ebd85500317d1dcc96a1b7f992a/Selene-1-Mini-Llama-3.1-8B-Q6_K.gguf (and the blob pages of IQ3_M at 7a9afee, IQ3_XS at e5c7450, IQ4_XS on main)",
      },
    ],
    download: { repo: "AtlaAI/Selene-1-Mini-Llama-3.1-8B-Q4_K_M-GGUF", quant: "Q4_K_M" },
    note: "binary (Yes/No) grading with --template selene-classification; Atla also publishes AtlaAI/Selene-1-Mini-Llama-3.1-8B-Q8_0-GGUF (listed in the collection), its file name unverified",
  },
  {
    name: "flow-judge",
    title: "Flow Judge v0.1 (Phi-3.5 mini)",
    model: { value: "flowaicom/Flow-Judge-v0.1", source: "https://huggingface.co/flowaicom/Flow-Judge-v0.1-GGUF/tree/main" },
    grades: ["absolute", "binary"],
    templates: { absolute: "flow-judge" },
    license: { value: "apache-2.0", source: "https://huggingface.co/flowaicom/Flow-Judge-v0.1-GGUF/tree/main" },
    gguf: [
      {
        repo: "flowaicom/Flow-Judge-v0.1-GGUF",
        files: { Q4_K_M: "flow-judge-v0.1-Q4_K_M.gguf", BF16: "flow-judge-v0.1-bf16.gguf" },
        source: "https://huggingface.co/flowaicom/Flow-Judge-v0.1-GGUF/tree/main (commit 3ca3f58)",
      },
      {
        repo: "mradermacher/Flow-Judge-v0.1-GGUF",
        files: quants("Flow-Judge-v0.1.", ["IQ3_M", "IQ3_S", "Q2_K", "Q3_K_L", "Q3_K_M", "Q3_K_S", "Q4_K_M", "Q4_K_S", "Q6_K", "Q8_0", "f16"]),
        source: "https://huggingface.co/mradermacher/Flow-Judge-v0.1-GGUF/tree/56ee23c9cfae6fbadc01380ff8deba2e7bfdbfde",
      },
      {
        repo: "QuantFactory/Flow-Judge-v0.1-GGUF",
        files: quants("Flow-Judge-v0.1.", ["Q4_0", "Q4_1", "Q4_K_M", "Q5_K_M", "Q5_K_S", "Q6_K", "Q8_0"]),
        source: "https://huggingface.co/QuantFactory/Flow-Judge-v0.1-GGUF/tree/2d410347f3437bb79f356b9e111343445b3b32ee",
      },
    ],
    download: { repo: "flowaicom/Flow-Judge-v0.1-GGUF", quant: "Q4_K_M" },
    note: "binary and 3-point grading through the preset templates (flow-judge-correctness-binary, …)",
  },
  {
    name: "glider",
    title: "Patronus GLIDER (Phi-3.5 mini)",
    model: { value: "PatronusAI/glider", source: "https://huggingface.co/PatronusAI/glider-gguf/blob/main/README.md (commit 06b6a01)" },
    grades: ["absolute"],
    templates: {},
    license: { value: "cc-by-nc-4.0", source: "https://huggingface.co/PatronusAI/glider-gguf/tree/f95dab477fe4fbd07347d248f44f4e7f5ee29c72" },
    gguf: [
      {
        repo: "PatronusAI/glider-gguf",
        files: { Q4_K_M: "glider_Q4_K_M.gguf", Q5_K_M: "glider_Q5_K_M.gguf", Q8_0: "glider_Q8_0.gguf" },
        source: "https://huggingface.co/PatronusAI/glider-gguf/tree/f95dab477fe4fbd07347d248f44f4e7f5ee29c72",
      },
    ],
    download: { repo: "PatronusAI/glider-gguf", quant: "Q4_K_M" },
    note: "critic has no GLIDER template yet: pass --template <file.yaml> with its prompt; the README also names a BF16 file that the tree page did not show (unverified)",
  },
  {
    name: "skywork-critic-8b",
    title: "Skywork-Critic-Llama-3.1-8B",
    model: { value: "Skywork/Skywork-Critic-Llama-3.1-8B", source: "https://huggingface.co/collections/Skywork/skywork-critic-models-66e2c89c4057ae4fb61b209a" },
    grades: ["pairwise"],
    templates: {},
    license: { value: "other (Skywork community license)", source: "https://huggingface.co/Skywork/Skywork-Critic-Llama-3.1-8B/blob/1177f07c976f7d1d0706f5e5c4bc7efbb0fc4b55/misc/misc_Skywork%20%E6%A8%A1%E5%9E%8B%E7%A4%BE%E5%8C%BA%E8%AE%B8%E5%8F%AF%E5%8D%8F%E8%AE%AE.pdf" },
    gguf: [
      {
        repo: "QuantFactory/Skywork-Critic-Llama-3.1-8B-GGUF",
        files: quants("Skywork-Critic-Llama-3.1-8B.", ["Q4_0", "Q4_1", "Q4_K_M", "Q5_0", "Q5_1", "Q5_K_M"]),
        source: "https://huggingface.co/QuantFactory/Skywork-Critic-Llama-3.1-8B-GGUF/tree/ba6bf44ab1a6cacb43d6d2dc8e048dca4f25cb97",
      },
      {
        repo: "itlwas/Skywork-Critic-Llama-3.1-8B-Q4_K_M-GGUF",
        files: { Q4_K_M: "skywork-critic-llama-3.1-8b-q4_k_m.gguf" },
        source: "https://huggingface.co/itlwas/Skywork-Critic-Llama-3.1-8B-Q4_K_M-GGUF/blob/e2298df94246d60bff0bd768c22ca2d3d1c94db9/skywork-critic-llama-3.1-8b-q4_k_m.gguf",
      },
    ],
    download: { repo: "QuantFactory/Skywork-Critic-Llama-3.1-8B-GGUF", quant: "Q4_K_M" },
    note: "critic has no Skywork-Critic template yet: pass --template <file.yaml> with the prompt of its model card",
  },
  {
    name: "judgelm-7b",
    title: "JudgeLM 7B v1.0",
    model: { value: "BAAI/JudgeLM-7B-v1.0", source: "https://huggingface.co/DevQuasar/BAAI.JudgeLM-7B-v1.0-GGUF/tree/93158cfa1a3d6b8efc2328ae60d4311e3c41bd61" },
    grades: ["pairwise"],
    templates: { pairwise: "judgelm" },
    license: "unverified",
    gguf: [
      {
        repo: "DevQuasar/BAAI.JudgeLM-7B-v1.0-GGUF",
        files: quants("BAAI.JudgeLM-7B-v1.0.", ["Q3_K_M", "Q4_K_M", "Q5_K_M"]),
        source: "https://huggingface.co/DevQuasar/BAAI.JudgeLM-7B-v1.0-GGUF/tree/93158cfa1a3d6b8efc2328ae60d4311e3c41bd61",
      },
    ],
    download: { repo: "DevQuasar/BAAI.JudgeLM-7B-v1.0-GGUF", quant: "Q4_K_M" },
  },
  {
    name: "judgelm-33b",
    title: "JudgeLM 33B v1.0",
    model: { value: "BAAI/JudgeLM-33B-v1.0", source: "https://huggingface.co/mradermacher/JudgeLM-33B-v1.0-GGUF/tree/94dfe47047b6f85e3de4a5e1a56a7939c34b337a" },
    grades: ["pairwise"],
    templates: { pairwise: "judgelm" },
    license: "unverified",
    gguf: [
      {
        repo: "mradermacher/JudgeLM-33B-v1.0-GGUF",
        files: quants("JudgeLM-33B-v1.0.", ["IQ3_M", "IQ3_S", "IQ3_XS", "IQ4_XS", "Q2_K", "Q3_K_L", "Q3_K_M", "Q3_K_S", "Q4_K_M", "Q4_K_S", "Q5_K_M", "Q5_K_S", "Q6_K", "Q8_0"]),
        source: "https://huggingface.co/mradermacher/JudgeLM-33B-v1.0-GGUF/tree/94dfe47047b6f85e3de4a5e1a56a7939c34b337a",
      },
    ],
    download: { repo: "mradermacher/JudgeLM-33B-v1.0-GGUF", quant: "Q4_K_M" },
  },
  {
    name: "autoj-13b",
    title: "Auto-J 13B",
    model: { value: "GAIR-NLP/auto-j (Auto-J 13B)", source: "https://github.com/GAIR-NLP/auto-j/tree/2ae17a3965d933232e9cd50302aa0f176249c83b" },
    grades: ["absolute", "pairwise"],
    templates: { absolute: "autoj", pairwise: "autoj-pairwise" },
    license: "unverified",
    gguf: [],
    note: "no GGUF found (unverified); the authors publish a GPTQ 4-bit build (GAIR/autoj-13b-GPTQ-4bits): serve it (vLLM) and use --model openai:<name> --template autoj",
  },
  {
    name: "pandalm-7b",
    title: "PandaLM 7B",
    model: { value: "WeOpenML/PandaLM (code; the weights' Hugging Face name unverified)", source: "https://github.com/WeOpenML/PandaLM/tree/3871806e72b4832f815ecafd24d3503c73403f48" },
    grades: ["pairwise"],
    templates: { pairwise: "pandalm" },
    license: "unverified",
    gguf: [],
    note: "no GGUF found (unverified; the Panda-7B-v0.1 GGUFs are a different model): serve it and use --model openai:<name> --template pandalm",
  },
];

function quants(prefix: string, tags: string[]): Record<string, string> {
  return Object.fromEntries(tags.map((tag) => [tag, `${prefix}${tag}.gguf`]));
}
