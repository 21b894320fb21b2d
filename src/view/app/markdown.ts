/**
 * Markdown of records (instructions, responses, feedback) as HTML that can never run anything:
 * markdown-it with raw HTML off escapes every tag a record holds, and its link check refuses
 * javascript:, vbscript: and data: URLs other than images.
 */
import MarkdownIt from "markdown-it";

const md = new MarkdownIt({ html: false, linkify: true, breaks: true });

// Links open outside the app and tell the target nothing.
const defaultLinkOpen = md.renderer.rules.link_open ?? ((tokens, idx, options, _env, self) => self.renderToken(tokens, idx, options));
md.renderer.rules.link_open = (tokens, idx, options, env, self) => {
  const token = tokens[idx]!;
  token.attrSet("target", "_blank");
  token.attrSet("rel", "noopener noreferrer nofollow");
  return defaultLinkOpen(tokens, idx, options, env, self);
};
// Images from a record would make the browser fetch a URL a record chose: shown as links instead.
md.renderer.rules.image = (tokens, idx) => {
  const token = tokens[idx]!;
  const src = md.utils.escapeHtml(String(token.attrGet("src") ?? ""));
  return `<a href="${src}" target="_blank" rel="noopener noreferrer nofollow">[image: ${md.utils.escapeHtml(token.content || src)}]</a>`;
};

export function renderMarkdown(text: string): string {
  return md.render(text);
}
