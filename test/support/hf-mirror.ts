import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface HfMirror {
  /** Root URL, for HF_ENDPOINT. */
  url: string;
  /** Requests for files (path without query), in order. */
  fileRequests: string[];
  close(): Promise<void>;
}

/**
 * A local stand-in for the Hugging Face file host: `/<user>/<repo>/resolve/<branch>/<file>` serves
 * the given GGUF with HEAD and byte ranges, as node-llama-cpp's downloader asks for them.
 */
export async function startHfMirror(files: Record<string, string>): Promise<HfMirror> {
  const fileRequests: string[] = [];
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? "").split("?")[0]!;
    if (path === "/") return void res.writeHead(200).end();
    fileRequests.push(path);
    const source = files[path];
    if (!source) return void res.writeHead(404, { "content-type": "text/plain" }).end("Entry not found");
    const data = readFileSync(source);
    const headers = { "content-type": "application/octet-stream", "accept-ranges": "bytes", etag: `"${data.length}"` };
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? "");
    if (range) {
      const start = Number(range[1]);
      const end = range[2] ? Math.min(Number(range[2]), data.length - 1) : data.length - 1;
      res.writeHead(206, { ...headers, "content-length": end - start + 1, "content-range": `bytes ${start}-${end}/${data.length}` });
      res.end(req.method === "HEAD" ? undefined : data.subarray(start, end + 1));
    } else {
      res.writeHead(200, { ...headers, "content-length": data.length });
      res.end(req.method === "HEAD" ? undefined : data);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    fileRequests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
