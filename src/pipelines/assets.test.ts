import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { readRecords } from "../records/read.js";
import { builtinPrincipleNames, builtinQuestionTypeSetNames, findQuestionType, loadPrinciple, loadQuestionTypes } from "./assets.js";
import { accepts, parseAcceptRule } from "./revise.js";
import { classificationReport, cleanQuestion, parseQuestionType } from "./questions.js";

const sharedData = fileURLToPath(new URL("../../../shared/data/", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "critic-assets-"));

describe("principles and question-type sets", () => {
  it("ships the three Distilled Self-Critique principles, each with a full rubric", () => {
    expect(builtinPrincipleNames()).toEqual(["harmlessness", "positive-sentiment", "privacy"]);
    for (const name of builtinPrincipleNames()) {
      const p = loadPrinciple(name);
      expect(p.name).toBe(name);
      expect(p.critiqueRequest.length).toBeGreaterThan(40);
      expect(p.revisionRequest.length).toBeGreaterThan(40);
      expect(Object.keys(p.rubric!).sort()).toEqual(["criteria", "score1_description", "score2_description", "score3_description", "score4_description", "score5_description"]);
    }
  });

  it("reads a principle file and names the file, line and field of a mistake", () => {
    const good = join(dir, "mine.yaml");
    writeFileSync(good, "name: brevity\ncritique_request: What is too long?\nrevision_request: Shorten it.\n");
    expect(loadPrinciple(good)).toEqual({ name: "brevity", critiqueRequest: "What is too long?", revisionRequest: "Shorten it." });
    const bad = join(dir, "bad.yaml");
    writeFileSync(bad, "name: x\ncritique_request: ok\nrevision_request: 3\n");
    expect(() => loadPrinciple(bad)).toThrow(/bad\.yaml:3: field "revision_request"/);
    expect(() => loadPrinciple("nope")).toThrow(/neither a built-in principle \(harmlessness, positive-sentiment, privacy\)/);
  });

  it("ships socratic and walton sets; names and aliases resolve case- and punctuation-blind", () => {
    expect(builtinQuestionTypeSetNames()).toEqual(["socratic", "walton"]);
    const socratic = loadQuestionTypes("socratic");
    expect(socratic.types.map((t) => t.name)).toEqual(["clarity", "assumptions", "reasons_evidence", "implication_consequences", "alternate_viewpoints_perspectives"]);
    expect(findQuestionType(socratic, "Reasons/Evidence")?.name).toBe("reasons_evidence");
    const walton = loadQuestionTypes("walton");
    expect(findQuestionType(walton, "Ad hominem")?.name).toBe("GenericAdHominem");
    expect(findQuestionType(walton, "ERPracticalReasoning")?.name).toBe("PracticalReasoning");
    expect(findQuestionType(walton, "others")).toBeUndefined();
    const clash = join(dir, "clash.yaml");
    writeFileSync(clash, "name: c\ntypes:\n  - {name: a, description: x, aliases: [b]}\n  - {name: b, description: y}\n");
    expect(() => loadQuestionTypes(clash)).toThrow(/"b" also names type "a"/);
  });

  it("walton covers every scheme label of the critical-questions data", async () => {
    const walton = loadQuestionTypes("walton");
    const labels = new Set<string>();
    for (const file of ["sample.json", "validation.json", "test.json"]) {
      for await (const { record } of readRecords(join(sharedData, "critical_questions", file))) {
        for (const s of record.schemes as string[]) labels.add(s);
      }
    }
    expect(labels.size).toBeGreaterThan(20);
    expect([...labels].filter((l) => !findQuestionType(walton, l))).toEqual([]);
  });

  it("socratic covers every SocratiQ label but 'others'", () => {
    const socratic = loadQuestionTypes("socratic");
    const csv = readFileSync(join(sharedData, "socratiq_mturk", "mturk_test.csv"), "utf8");
    const labels = new Set(csv.match(/,(clarity|assumptions|reasons_evidence|implication_consequences|alternate_viewpoints_perspectives|others)\r?$/gm)!.map((m) => m.slice(1).trim()));
    expect([...labels].sort()).toEqual(["alternate_viewpoints_perspectives", "assumptions", "clarity", "implication_consequences", "others", "reasons_evidence"]);
    expect([...labels].filter((l) => !findQuestionType(socratic, l))).toEqual(["others"]);
  });
});

describe("parsing", () => {
  const socratic = loadQuestionTypes("socratic");
  const walton = loadQuestionTypes("walton");

  it("reads a type from exact names, JSON, labels and single mentions; refuses none or several", () => {
    expect(parseQuestionType(socratic, "clarity")).toMatchObject({ ok: true, type: { name: "clarity" } });
    expect(parseQuestionType(socratic, '{"type": "assumptions"}')).toMatchObject({ ok: true, type: { name: "assumptions" } });
    expect(parseQuestionType(socratic, "Type: Reasons and evidence.")).toMatchObject({ ok: true, type: { name: "reasons_evidence" } });
    expect(parseQuestionType(socratic, "This one probes implications of the claim.")).toMatchObject({ ok: true, type: { name: "implication_consequences" } });
    expect(parseQuestionType(walton, "It is circumstantial ad hominem")).toMatchObject({ ok: true, type: { name: "CircumstantialAdHominem" } });
    expect(parseQuestionType(walton, "CauseToEffect")).toMatchObject({ ok: true, type: { name: "CauseToEffect" } });
    expect(parseQuestionType(socratic, "banana")).toEqual({ ok: false, error: "no socratic type named in the output" });
    expect(parseQuestionType(socratic, "clarity or assumptions")).toMatchObject({ ok: false, error: expect.stringMatching(/several types \(clarity, assumptions\)/) });
  });

  it("cleans a generated question to its first line", () => {
    expect(cleanQuestion('\n Question: "Why is that so?"\nBecause...')).toBe("Why is that so?");
  });

  it("parses acceptance rules", () => {
    expect(parseAcceptRule("improved")).toBe("improved");
    expect(parseAcceptRule("min-gain=1.5")).toEqual({ minGain: 1.5 });
    expect(() => parseAcceptRule("min-gain=x")).toThrow(/improved, always or min-gain/);
    expect(accepts("improved", 3, 3)).toBe(false);
    expect(accepts("improved", 3, 4)).toBe(true);
    expect(accepts({ minGain: 2 }, 3, 4)).toBe(false);
    expect(accepts({ minGain: 2 }, 2, 4)).toBe(true);
    expect(accepts("always", 5, 1)).toBe(true);
  });

  it("reports accuracy, kappa, per-type counts; unparsed counts as wrong, outside gold is left out", () => {
    const report = classificationReport(socratic, [
      { gold: "clarity", predicted: "clarity" },
      { gold: "clarity", predicted: "assumptions" },
      { gold: "assumptions", predicted: "assumptions" },
      { gold: "assumptions", predicted: null },
      { gold: "\u0000others", predicted: "clarity" },
      { gold: undefined, predicted: "clarity" },
    ]);
    expect(report).toMatchObject({ items: 6, classified: 5, unclassified: 1, withGold: 4, goldOutsideTypes: 1, correct: 2, accuracy: 0.5 });
    expect(report.perType.clarity).toEqual({ gold: 2, predicted: 3, correct: 1 });
    expect(report.kappa.value).toBeCloseTo(0.4, 5); // 3 parsed pairs: po = 2/3, pe = (2*1 + 1*2)/9
    expect(report.confusion.labels.at(-1)).toBe("(unclassified)");
  });
});
