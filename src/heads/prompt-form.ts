/**
 * The prompt a trained head must see is the one it was trained on. `critic export -f classify|regress`
 * writes the judge prompt as one text (system prompt at the head of the user message, or PHUDGE's
 * prompt form) and train.py wraps that text in the base model's chat template as one user turn; the
 * package's judge.json `template_options` records which. This turns the template's rendered messages
 * into that same single user turn, so a package judges with its training prompts.
 */
import type { ChatMessage } from "../backends/types.js";
import { phudgePrompt } from "../templates/phudge.js";

export function trainedPromptForm(options: Record<string, unknown> | undefined): ((messages: ChatMessage[]) => ChatMessage[]) | undefined {
  if (!options) return undefined;
  if (options.chat_template === false) {
    throw new Error("this judge package was trained without a chat template (template_options.chat_template: false); critic renders prompts through the model's chat template, so it cannot judge with it as trained");
  }
  if (options.prompt_form === "phudge") {
    return (messages) => {
      const user = messages.filter((m) => m.role === "user").map((m) => m.content).join("\n\n");
      // At inference PHUDGE keeps the rubric and the reference answer wherever the record has them.
      const form = phudgePrompt(user, { rubric: true, reference: true });
      return [{ role: "user", content: `${form.system}\n\n${form.user}` }];
    };
  }
  if (options.prompt_form !== undefined) throw new Error(`judge package template_options.prompt_form "${String(options.prompt_form)}" is not one critic knows (phudge)`);
  if (options.system_in_user === true) {
    return (messages) => [{ role: "user", content: messages.map((m) => m.content).join("\n\n") }];
  }
  return undefined;
}
