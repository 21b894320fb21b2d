import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import { serve } from "@hono/node-server";
import { createServerApp, type ServerAppOptions } from "./app.js";

export interface StartServerOptions extends ServerAppOptions {
  /** Interface to listen on (default 127.0.0.1: only this machine). */
  host?: string;
  /** Port; 0 picks a free one (default 8080). */
  port?: number;
}

export interface RunningServer {
  /** Base URL, e.g. http://127.0.0.1:8080 (clients add /v1). */
  url: string;
  port: number;
  /** Stops listening and drops open connections; does not dispose the backend. */
  close(): Promise<void>;
}

export function startServer(options: StartServerOptions): Promise<RunningServer> {
  const host = options.host ?? "127.0.0.1";
  const app = createServerApp(options);
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, hostname: host, port: options.port ?? 8080 }) as Server;
    server.once("error", reject);
    server.once("listening", () => {
      server.off("error", reject);
      const { port } = server.address() as AddressInfo;
      const shownHost = host.includes(":") ? `[${host}]` : host;
      resolve({
        url: `http://${shownHost}:${port}`,
        port,
        close: () =>
          new Promise<void>((done, fail) => {
            server.close((error) => (error ? fail(error) : done()));
            // Keep-alive clients (like the OpenAI SDK) would hold close() open otherwise.
            server.closeAllConnections();
          }),
      });
    });
  });
}
