import { describe, expect, it } from "vitest";
import { parseModelSpec } from "../backends/spec.js";
import { builtinTemplateNames, getTemplate } from "../templates/index.js";
import { catalogDefaults, findJudge, JUDGES, judgeDownload } from "./index.js";

describe("the judge catalogue", () => {
  it("has unique names, every template built in and of its mode, every fact with a source", () => {
    expect(new Set(JUDGES.map((j) => j.name)).size).toBe(JUDGES.length);
    for (const judge of JUDGES) {
      for (const [mode, name] of Object.entries(judge.templates)) {
        expect(builtinTemplateNames(), `${judge.name}: ${name}`).toContain(name);
        expect(getTemplate(name!).mode).toBe(mode);
      }
      expect(judge.model.source).toMatch(/^https:\/\/(huggingface\.co|github\.com)\//);
      if (judge.license !== "unverified") expect(judge.license.source).toMatch(/^https:\/\/huggingface\.co\//);
      for (const repo of judge.gguf) {
        expect(repo.source).toMatch(new RegExp(`^https://huggingface\\.co/${repo.repo.replace(/[.]/g, "\\.")}/`));
        expect(Object.keys(repo.files).length).toBeGreaterThan(0);
        for (const file of Object.values(repo.files)) expect(file).toMatch(/\.gguf$/);
      }
      // Judges without a GGUF say so, and what to do instead.
      if (judge.gguf.length === 0) expect(judge.note).toMatch(/no GGUF found/);
    }
  });

  it("resolves a judge's name to its GGUF file on Hugging Face", () => {
    for (const judge of JUDGES.filter((j) => j.download)) {
      const { uri, repo, file } = judgeDownload(judge);
      expect(Object.values(judge.gguf.find((g) => g.repo === repo)?.files ?? {})).toContain(file);
      expect(parseModelSpec(judge.name)).toEqual(parseModelSpec(uri));
    }
    expect(parseModelSpec("selene-mini")).toEqual({
      kind: "embedded",
      hf: { user: "AtlaAI", repo: "Selene-1-Mini-Llama-3.1-8B-Q4_K_M-GGUF", file: "selene-1-mini-llama-3.1-8b-q4_k_m.gguf" },
      uri: "hf:AtlaAI/Selene-1-Mini-Llama-3.1-8B-Q4_K_M-GGUF/selene-1-mini-llama-3.1-8b-q4_k_m.gguf",
    });
  });

  it("says why a judge without a known GGUF cannot be downloaded, and suggests close names", () => {
    expect(() => parseModelSpec("autoj-13b")).toThrow(/no known GGUF to download: no GGUF found .*--model openai:<name> --template autoj/);
    expect(() => parseModelSpec("flow-judg")).toThrow(/did you mean "flow-judge"\?/);
  });

  it("gives a run the judge's template for the mode, and leaves the user's template and rubric alone", () => {
    expect(catalogDefaults({ model: "selene-mini" })).toEqual({ template: "selene" });
    expect(catalogDefaults({ model: "selene-mini", mode: "pairwise" })).toEqual({ template: "selene-pairwise" });
    expect(catalogDefaults({ model: "judgelm-7b" })).toEqual({ template: "judgelm" });
    expect(catalogDefaults({ model: "selene-mini", template: "prometheus", rubric: "helpfulness" })).toEqual({});
    expect(catalogDefaults({ model: "./judge.gguf" })).toEqual({});
    expect(catalogDefaults({ model: ["prometheus-2-7b", "prometheus-2-8x7b"] })).toEqual({ template: "prometheus-absolute" });
    expect(() => catalogDefaults({ model: ["prometheus-2-7b", "selene-mini"] })).toThrow(/use different templates \(prometheus-absolute, selene\).*pass --template/);
    expect(() => catalogDefaults({ model: "glider" })).toThrow(/"glider" .* has no built-in template in critic .*pass --template/);
    expect(() => catalogDefaults({ model: "judgelm-7b", mode: "absolute" })).toThrow(/does not grade absolute/);
    expect(findJudge("nope")).toBeUndefined();
  });
});
