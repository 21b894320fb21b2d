import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import { serve } from "@hono/node-server";
import { createViewApp, type ViewAppOptions } from "./api.js";
import { openWorkspace, type WorkspaceOptions } from "./workspace.js";
import { labelFileWarnings } from "../records/labels.js";
import type { LabelScale } from "./scale.js";

export interface StartViewOptions extends WorkspaceOptions, Omit<ViewAppOptions, "workspace" | "allowedHosts"> {
  /** Interface to listen on (default 127.0.0.1: only this machine). */
  host?: string;
  /** Port; 0 picks a free one (default 4173). */
  port?: number;
}

export interface RunningView {
  url: string;
  port: number;
  labelsFile: string;
  /** The scale humans label on, and where it came from (scores; a pairwise first file has winners instead). */
  scale: LabelScale;
  pairwise: boolean;
  /** What the user must know before labelling: records that share an id, damaged label lines. */
  warnings: string[];
  /** Stops listening and removes the index's temporary files. */
  close(): Promise<void>;
}

const LOOPBACK = new Set(["127.0.0.1", "localhost", "::1"]);

/** Indexes the files, then serves the app; a host other than loopback needs an API key. */
export async function startView(options: StartViewOptions): Promise<RunningView> {
  const host = options.host ?? "127.0.0.1";
  if (!LOOPBACK.has(host) && !options.apiKey) {
    throw new Error(`view: --host ${host} lets other machines read and label these judgments: set an API key (--api-key or $CRITIC_API_KEY)`);
  }
  const workspace = await openWorkspace(options);
  const shownHost = host.includes(":") ? `[${host}]` : host;
  const app = createViewApp({ ...options, workspace, allowedHosts: [shownHost] });
  try {
    const server = await new Promise<Server>((resolve, reject) => {
      const s = serve({ fetch: app.fetch, hostname: host, port: options.port ?? 4173 }) as Server;
      s.once("error", reject);
      s.once("listening", () => {
        s.off("error", reject);
        resolve(s);
      });
    });
    const { port } = server.address() as AddressInfo;
    return {
      url: `http://${shownHost === "0.0.0.0" ? "127.0.0.1" : shownHost}:${port}/`,
      port,
      labelsFile: workspace.labels.file,
      scale: workspace.scale,
      pairwise: workspace.indexes[0]?.mode === "pairwise",
      warnings: [...workspace.warnings, ...labelFileWarnings(workspace.labels)],
      close: () =>
        new Promise<void>((done, fail) => {
          server.close((error) => {
            workspace.dispose();
            if (error) fail(error);
            else done();
          });
          server.closeAllConnections();
        }),
    };
  } catch (error) {
    workspace.dispose();
    throw error;
  }
}
