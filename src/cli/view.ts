import { spawn } from "node:child_process";
import { userInfo } from "node:os";
import type { Command } from "commander";
import { startView, type RunningView } from "../view/start.js";
import { InvalidArgumentError } from "commander";
import { parseScale } from "../view/scale.js";
import { wholeNumber } from "./options.js";
import { plural } from "../util/plural.js";

export interface ViewCliOptions {
  labels?: string;
  annotator?: string;
  host: string;
  port: number;
  apiKey?: string;
  open: boolean;
  scale?: number[];
}

export function registerView(program: Command): void {
  program
    .command("view")
    .description("browse judgments, compare judges and label records in a local web app; labels feed meta-eval and export")
    .argument("<files...>", "judgment files (.jsonl, .json, .csv, .parquet); several = several judges on the same records, lined up by id (else by row)")
    .option("--labels <file>", "labels file to read and append to (default: <first file>.labels.jsonl beside it)")
    .option("--annotator <name>", "who is labelling (default: your user name)")
    .option("--host <host>", "interface to listen on (another than loopback needs an API key)", "127.0.0.1")
    .option("--port <n>", "port (0 picks a free one)", wholeNumber, 4173)
    .option("--scale <min-max>", "the score scale humans label on, e.g. 1-10 (default: the judgments' template's scale, else the keys of score_distribution)", scaleOption)
    .option("--api-key <key>", "require this key (prefer $CRITIC_API_KEY: a flag shows up in the process list)")
    .option("--no-open", "do not open a browser")
    .action(async (files: string[], opts: ViewCliOptions) => {
      const running = await startViewCli(files, opts, (line) => process.stderr.write(`${line}\n`));
      if (opts.open) openBrowser(running.url);
      await new Promise<void>((resolve) => {
        const stop = () => {
          process.off("SIGINT", stop);
          process.off("SIGTERM", stop);
          resolve();
        };
        process.on("SIGINT", stop);
        process.on("SIGTERM", stop);
      });
      process.stderr.write("\nstopping the view (every label is already on disk)\n");
      await running.close();
    });
}

/** Indexes the files and starts the app; the CLI action and tests share this. */
export async function startViewCli(files: string[], opts: ViewCliOptions, log: (line: string) => void): Promise<RunningView> {
  const apiKey = opts.apiKey ?? process.env.CRITIC_API_KEY;
  if (apiKey !== undefined && apiKey.trim() === "") throw new Error("the API key is empty; unset CRITIC_API_KEY or give a key");
  const annotator = opts.annotator ?? (process.env.USER || safeUserName() || "annotator");
  const running = await startView({
    files,
    annotator,
    host: opts.host,
    port: opts.port,
    ...(opts.labels !== undefined ? { labels: opts.labels } : {}),
    ...(opts.scale !== undefined ? { scale: opts.scale } : {}),
    ...(apiKey !== undefined ? { apiKey } : {}),
    onIndexed: (file, rows, seconds) => log(`indexed ${file}: ${plural(rows, "row")} in ${seconds.toFixed(1)}s`),
  });
  log(`labels: ${running.labelsFile} (annotator ${annotator})`);
  if (!running.pairwise) log(`label scale: ${running.scale.scores[0]}-${running.scale.scores[running.scale.scores.length - 1]}, from ${running.scale.source}`);
  for (const warning of [...(running.scale.warning && !running.pairwise ? [running.scale.warning] : []), ...running.warnings]) log(`warning: ${warning}`);
  log(`critic view at ${running.url}${apiKey !== undefined ? " (API key required)" : ""}; Ctrl-C to stop`);
  return running;
}

function scaleOption(value: string): number[] {
  try {
    return parseScale(value);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

function safeUserName(): string | undefined {
  try {
    return userInfo().username;
  } catch {
    return undefined;
  }
}

/** Opens the URL in the desktop's browser; where there is none, the printed URL is enough. */
function openBrowser(url: string): void {
  const command = process.platform === "darwin" ? "open" : process.platform === "win32" ? "explorer" : "xdg-open";
  const child = spawn(command, [url], { stdio: "ignore", detached: true });
  child.on("error", () => {});
  child.unref();
}
