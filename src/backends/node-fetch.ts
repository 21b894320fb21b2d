import http from "node:http";
import https from "node:https";

/**
 * A `fetch` for the OpenAI SDK on Node's own http client with keep-alive agents. Judge requests
 * are small JSON round trips; the WHATWG-streams machinery of the built-in fetch cost about
 * twice the CPU per call here (bench/judge-overhead.ts), which caps judgments per second
 * against a fast local server. Buffers the response body, which non-streamed calls need anyway.
 */
export function createNodeFetch(maxSockets: number, agents: Agents = createAgents(maxSockets)): typeof fetch {
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

type Agents = Record<"http:" | "https:", http.Agent>;

export function createAgents(maxSockets: number): Agents {
  return { "http:": new http.Agent({ keepAlive: true, maxSockets }), "https:": new https.Agent({ keepAlive: true, maxSockets }) };
}

export interface JsonResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

/**
 * One JSON POST on the keep-alive agents, the body read whole: the judge's hot call. It skips the
 * SDK's per-request machinery (header objects, eagerly formatted debug logs, a web Response),
 * which took about a third of critic's CPU per judgment against a fast server (bench/judge-vs-bare.ts).
 * Network errors reject with the socket's error; HTTP errors resolve with their status.
 */
export function postJson(agents: Agents, url: URL, headers: Record<string, string>, body: string, signal?: AbortSignal): Promise<JsonResponse> {
  return new Promise<JsonResponse>((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason ?? new DOMException("This operation was aborted", "AbortError"));
      return;
    }
    const agent = agents[url.protocol as keyof Agents];
    if (!agent) {
      reject(new TypeError(`unsupported protocol ${url.protocol}`));
      return;
    }
    const request = (url.protocol === "https:" ? https : http).request(url, {
      method: "POST",
      headers: { ...headers, "content-type": "application/json", "content-length": String(Buffer.byteLength(body)) },
      agent,
      ...(signal ? { signal } : {}),
    });
    request.on("response", (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("error", reject);
      response.on("end", () => resolve({ status: response.statusCode ?? 0, headers: response.headers, text: Buffer.concat(chunks).toString("utf8") }));
    });
    request.on("error", (error) => reject(signal?.aborted ? (signal.reason ?? error) : error));
    request.end(body);
  });
}

function headersObject(headers: HeadersInit | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!headers) return out;
  new Headers(headers).forEach((value, name) => (out[name] = value));
  return out;
}
