import type { Grader, ParsedOutput } from "../judge/types.js";
import { getParser } from "../parse/index.js";
import { jsonSchemaFor } from "./grammars.js";
import { renderPrompt, type RenderOptions } from "./render.js";
import type { JudgeTemplate, Rubric } from "./types.js";

/** Binds a template (and optional rubric) into the Grader the judge engine runs. */
export function createGrader(template: JudgeTemplate, rubric?: Rubric | string, options: RenderOptions = {}): Grader {
  const parser = getParser(template.output, template.scale);
  return {
    mode: template.mode,
    template: template.name,
    buildMessages: (record) => renderPrompt(template, record, rubric, options),
    constraint: {
      gbnf: template.gbnf,
      jsonSchema: template.output === "autoj" ? undefined : jsonSchemaFor(template.output, template.scale),
    },
    parse: (text): ParsedOutput => parser(text),
  };
}
