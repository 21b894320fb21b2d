import { z } from "zod";
import { grammarFor } from "./grammars.js";
import { placeholdersIn } from "./render.js";
import type { JudgeTemplate } from "./types.js";
import { readYamlFile } from "./yaml-file.js";

const scaleSchema = z
  .strictObject({ min: z.int(), max: z.int() })
  .refine((scale) => scale.min < scale.max, { message: "min must be below max" });

const ABSOLUTE_OUTPUTS = ["result", "score", "autoj", "mt-bench", "selene", "selene-classification", "flow-judge"] as const;
const PAIRWISE_OUTPUTS = ["pairwise", "mt-bench-pairwise", "arena-hard", "arena-hard-v0.1", "selene-pairwise", "autoj-pairwise", "judgelm", "pandalm", "alpaca-eval", "alpaca-eval-logprob", "rm-r1"] as const;

const templateFileSchema = z
  .strictObject({
    name: z.string().trim().min(1, "must be non-empty text"),
    mode: z.enum(["absolute", "pairwise"]),
    system: z.string().optional(),
    user: z.string().trim().min(1, "must be non-empty text"),
    user_no_reference: z.string().optional(),
    scale: scaleSchema.optional(),
    output: z.enum([...ABSOLUTE_OUTPUTS, ...PAIRWISE_OUTPUTS]),
    /** Upper bound on feedback characters in the output grammar. */
    max_feedback_chars: z.int().positive().optional(),
  })
  .superRefine((file, ctx) => {
    const userTexts = [file.user, file.user_no_reference ?? file.user];
    const needs = (names: string[], field: "user" | "user_no_reference", text: string) => {
      const used = placeholdersIn(text).map((name) => name.toLowerCase());
      for (const name of names) {
        if (!used.includes(name)) ctx.addIssue({ code: "custom", path: [field], message: `must contain the placeholder {${name}}` });
      }
    };
    if (file.mode === "absolute") {
      if (!(ABSOLUTE_OUTPUTS as readonly string[]).includes(file.output)) {
        ctx.addIssue({ code: "custom", path: ["output"], message: `absolute templates use one of ${ABSOLUTE_OUTPUTS.join(", ")}` });
      }
      if (!file.scale) ctx.addIssue({ code: "custom", path: ["scale"], message: "absolute templates need a scale {min, max}" });
      needs(["response"], "user", userTexts[0]!);
      if (file.user_no_reference !== undefined) needs(["response"], "user_no_reference", userTexts[1]!);
    } else {
      if (!(PAIRWISE_OUTPUTS as readonly string[]).includes(file.output)) {
        ctx.addIssue({ code: "custom", path: ["output"], message: `pairwise templates use one of ${PAIRWISE_OUTPUTS.join(", ")}` });
      }
      if (file.scale) ctx.addIssue({ code: "custom", path: ["scale"], message: "pairwise templates have no scale" });
      needs(["response_a", "response_b"], "user", userTexts[0]!);
      if (file.user_no_reference !== undefined) needs(["response_a", "response_b"], "user_no_reference", userTexts[1]!);
    }
  });

/**
 * A custom template from a YAML file:
 * name, mode (absolute|pairwise), system?, user, user_no_reference?, scale {min,max} (absolute),
 * output (absolute: result|score|autoj|mt-bench; pairwise: pairwise|mt-bench-pairwise|arena-hard|arena-hard-v0.1), max_feedback_chars?.
 */
export function loadTemplateFile(file: string): JudgeTemplate {
  const parsed = readYamlFile(file, templateFileSchema, "template");
  const template: JudgeTemplate = {
    name: parsed.name,
    mode: parsed.mode,
    user: parsed.user,
    output: parsed.output,
    gbnf: grammarFor(parsed.output, { scale: parsed.scale, maxFeedbackChars: parsed.max_feedback_chars }),
    ...(parsed.max_feedback_chars !== undefined ? { maxFeedbackChars: parsed.max_feedback_chars } : {}),
  };
  if (parsed.system !== undefined) template.system = parsed.system;
  if (parsed.user_no_reference !== undefined) template.userNoReference = parsed.user_no_reference;
  if (parsed.scale) template.scale = parsed.scale;
  return template;
}
