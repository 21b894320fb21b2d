import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { TEMPLATES_DIR } from "./assets.js";
import { renderPrompt } from "./render.js";
import { loadTemplateFile } from "./template-file.js";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "critic-templates-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function writeTemp(name: string, text: string): string {
  const file = path.join(tmp, name);
  fs.writeFileSync(file, text);
  return file;
}

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error("expected an error");
}

describe("loadTemplateFile", () => {
  it("loads the shipped example and renders it", () => {
    const template = loadTemplateFile(path.join(TEMPLATES_DIR, "example-absolute.yaml"));
    expect(template).toMatchObject({ name: "concise-absolute", mode: "absolute", system: "You are a strict grader.", scale: { min: 1, max: 5 }, output: "result" });
    expect(template.gbnf).toContain('" [RESULT] "');
    const messages = renderPrompt(template, { instruction: "Hi", response: "Hello" }, "[Polite?]");
    expect(messages[1]!.content).toBe(
      'Grade the response to the instruction against the rubric.\nEnd with "[RESULT] n" where n is an integer from 1 to 5.\n\nInstruction:\nHi\n\nResponse:\nHello\n\nRubric:\n[Polite?]',
    );
  });

  it("loads a pairwise template with a no-reference form and literal braces", () => {
    const file = writeTemp(
      "pair.yaml",
      [
        "name: my-pair",
        "mode: pairwise",
        "user: 'Q: {instruction} A: {response_a} B: {response_b} Ref: {reference_answer} {{json}}'",
        "user_no_reference: 'Q: {instruction} A: {response_a} B: {response_b}'",
        "output: pairwise",
      ].join("\n"),
    );
    const template = loadTemplateFile(file);
    expect(template.system).toBeUndefined();
    expect(renderPrompt(template, { instruction: "q", response_a: "a", response_b: "b", reference_answer: "r" })).toEqual([
      { role: "user", content: "Q: q A: a B: b Ref: r {json}" },
    ]);
    expect(renderPrompt(template, { instruction: "q", response_a: "a", response_b: "b" })[0]!.content).toBe("Q: q A: a B: b");
  });

  it("names file, line and field for each problem", () => {
    const file = writeTemp(
      "bad.yaml",
      ["name: bad", "mode: absolute", "user: 'Grade {instruction}'", "output: pairwise", "colour: blue"].join("\n"),
    );
    const message = errorOf(() => loadTemplateFile(file));
    expect(message).toContain(`${file}:5: unknown field "colour"`);
    expect(message).toContain(`${file}:4: field "output": absolute templates use one of result, score, autoj`);
    expect(message).toContain(`field "scale": absolute templates need a scale`);
    expect(message).toContain(`${file}:3: field "user": must contain the placeholder {response}`);
  });

  it("rejects a wrong mode, a missing user text and a bad scale", () => {
    const file = writeTemp("bad2.yaml", ["name: x", "mode: ranking", "scale: {min: 5, max: 1}", "output: result"].join("\n"));
    const message = errorOf(() => loadTemplateFile(file));
    expect(message).toContain(`${file}:2: field "mode": `);
    expect(message).toContain(`field "user": `);
    expect(message).toContain(`${file}:3: field "scale": min must be below max`);
  });

  it("reports unreadable files and YAML syntax errors", () => {
    expect(errorOf(() => loadTemplateFile(path.join(tmp, "absent.yaml")))).toMatch(/absent\.yaml: cannot read template file/);
    const broken = writeTemp("broken.yaml", "name: x\nuser: [unclosed\n");
    expect(errorOf(() => loadTemplateFile(broken))).toMatch(/broken\.yaml:\d+: invalid YAML/);
  });
});
