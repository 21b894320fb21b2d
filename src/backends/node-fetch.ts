import http from "node:http";
import https from "node:https";

/**
 * A `fetch` for the OpenAI SDK on Node's own http client with keep-alive agents. Judge requests
 * are small JSON round trips; the WHATWG-streams machinery of the built-in fetch cost about
 * twice the CPU per call here (bench/judge-overhead.ts), which caps judgments per second
 * against a fast local server. Buffers the response body, which non-streamed calls need anyway.
 */
export function createNodeFetch(maxSockets: number): typeof fetch {
  const agents = {
    "http:": new http.Agent({ keepAlive: true, maxSockets }),
    "https:": new https.Agent({ keepAlive: true, maxSockets }),
  };
  return (input, init = {}) =>
    new Promise<Response>((resolve, reject) => {
      const url = new URL(input instanceof Request ? input.url : String(input));
      const agent = agents[url.protocol as keyof typeof agents];
      if (!agent) {
        reject(new TypeError(`unsupported protocol ${url.protocol}`));
        return;
      }
      const signal = init.signal ?? undefined;
      if (signal?.aborted) {
        reject(signal.reason ?? new DOMException("This operation was aborted", "AbortError"));
        return;
      }
      const request = (url.protocol === "https:" ? https : http).request(url, {
        method: init.method ?? "GET",
        headers: headersObject(init.headers),
        agent,
        ...(signal ? { signal } : {}),
      });
      request.on("response", (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("error", reject);
        response.on("end", () => {
          const status = response.statusCode ?? 0;
          const headers = new Headers();
          for (const [name, value] of Object.entries(response.headers)) {
            if (Array.isArray(value)) for (const v of value) headers.append(name, v);
            else if (value !== undefined) headers.set(name, value);
          }
          const empty = status === 204 || status === 304 || init.method === "HEAD";
          resolve(new Response(empty ? null : Buffer.concat(chunks), { status, statusText: response.statusMessage ?? "", headers }));
        });
      });
      request.on("error", (error) => reject(signal?.aborted ? (signal.reason ?? error) : new TypeError("fetch failed", { cause: error })));
      const body = init.body;
      if (body === undefined || body === null) request.end();
      else if (typeof body === "string" || body instanceof Uint8Array) request.end(body);
      else {
        reject(new TypeError("node fetch: only string and byte bodies are supported"));
        request.destroy();
      }
    });
}

function headersObject(headers: HeadersInit | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!headers) return out;
  new Headers(headers).forEach((value, name) => (out[name] = value));
  return out;
}
