import { z } from "zod";

// A number is fine where text is expected (a response "4" to "2+2?" may arrive as 4 in JSON).
const text = z.union([z.string(), z.number().transform(String)]);

/**
 * The judge's standard input fields: each must be text when present. Which ones are required
 * depends on the template, and filling the template checks that.
 */
export const judgeRecordSchema = z.looseObject({
  instruction: text.optional(),
  response: text.optional(),
  response_a: text.optional(),
  response_b: text.optional(),
  // A list holds one reference answer per turn of a conversation (MT-Bench multi-turn).
  reference_answer: z.union([text, z.array(text)]).nullish(),
  criteria: text.optional(),
  score1_description: text.optional(),
  score2_description: text.optional(),
  score3_description: text.optional(),
  score4_description: text.optional(),
  score5_description: text.optional(),
});
