import type { Command } from "commander";
import { findJudge, JUDGES, judgeDownload, judgeSuggestion, type CatalogJudge } from "../judges/index.js";
import { getTemplate } from "../templates/index.js";

export function registerJudges(program: Command): void {
  program
    .command("judges")
    .description("the judges --model knows by name: what each grades, scale, template, GGUF files, license, and the source of each fact")
    .argument("[name]", "show one judge")
    .option("--json", "the catalogue as JSON")
    .action((name: string | undefined, opts: { json?: boolean }) => {
      const judges = name === undefined ? JUDGES : [findJudge(name) ?? unknownJudge(name)];
      if (opts.json) return void process.stdout.write(`${JSON.stringify(judges.map(withResolved), null, 2)}\n`);
      process.stdout.write(`${judges.map(describeJudge).join("\n")}`);
      if (name === undefined) process.stdout.write("\nUse one with --model <name>: its GGUF is downloaded once into the models folder ($CRITIC_MODELS_DIR), its template is the default.\n");
    });
}

function unknownJudge(name: string): never {
  throw new Error(`unknown judge "${name}"; known: ${JUDGES.map((j) => j.name).join(", ")}${judgeSuggestion(name)}`);
}

/** The catalogue entry with what it resolves to: the download URI and each template's scale. */
function withResolved(judge: CatalogJudge): CatalogJudge & { downloads?: string; scales: Record<string, string> } {
  return { ...judge, ...(judge.download ? { downloads: judgeDownload(judge).uri } : {}), scales: scalesOf(judge) };
}

function scalesOf(judge: CatalogJudge): Record<string, string> {
  const scales: Record<string, string> = {};
  for (const name of Object.values(judge.templates)) {
    const template = getTemplate(name);
    scales[name] = template.scale ? `${template.scale.min}-${template.scale.max}` : "winner";
  }
  return scales;
}

function describeJudge(judge: CatalogJudge): string {
  const scales = scalesOf(judge);
  const templates = Object.entries(judge.templates).map(([mode, name]) => `${mode}: ${name} (${scales[name!] === "winner" ? "a winner" : `score ${scales[name!]}`})`);
  const lines = [
    `${judge.name}  ${judge.title}`,
    `  grades     ${judge.grades.join(", ")}`,
    `  template   ${templates.length > 0 ? templates.join("; ") : "none built in yet: pass --template"}`,
    `  rubric     ${judge.rubric ?? "the record's criteria, or --rubric"}`,
    `  --model    ${judge.download ? `downloads ${judgeDownload(judge).uri}` : "no GGUF known: serve it and use openai:<name>"}`,
    `  model      ${judge.model.value}`,
    `             source: ${judge.model.source}`,
    `  license    ${judge.license === "unverified" ? "unverified" : judge.license.value}`,
    ...(judge.license === "unverified" ? [] : [`             source: ${judge.license.source}`]),
    ...(judge.gguf.length === 0 ? ["  gguf       none found (unverified)"] : []),
    ...judge.gguf.flatMap((g, i) => [
      `  ${i === 0 ? "gguf" : "    "}       ${g.repo}: ${Object.keys(g.files).join(" ")}`,
      `             source: ${g.source}`,
    ]),
    ...(judge.note ? [`  note       ${judge.note}`] : []),
  ];
  return `${lines.join("\n")}\n`;
}
