/**
 * The HTTP client of the judge's hot call: Node's own http on keep-alive agents. Judge requests are
 * small JSON round trips; both the built-in fetch's WHATWG streams and the OpenAI SDK's per-request
 * machinery cost more CPU than the call itself against a fast local server (bench/judge-vs-bare.ts).
 */
import http from "node:http";
import https from "node:https";

type Agents = Record<"http:" | "https:", http.Agent>;

export function createAgents(maxSockets: number): Agents {
  return { "http:": new http.Agent({ keepAlive: true, maxSockets }), "https:": new https.Agent({ keepAlive: true, maxSockets }) };
}

interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/**
 * One request on the keep-alive agents, the response body read whole. Network errors reject with
 * the socket's error (or the signal's reason); HTTP errors resolve with their status.
 */
function send(agents: Agents, url: URL, method: string, headers: Record<string, string>, body: string, signal?: AbortSignal): Promise<RawResponse> {
  return new Promise<RawResponse>((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason ?? new DOMException("This operation was aborted", "AbortError"));
      return;
    }
    const agent = agents[url.protocol as keyof Agents];
    if (!agent) {
      reject(new TypeError(`unsupported protocol ${url.protocol}`));
      return;
    }
    const request = (url.protocol === "https:" ? https : http).request(url, { method, headers, agent });
    // One listener on the caller's signal (cheaper than handing the signal to http.request).
    const fail = (error: unknown) => {
      signal?.removeEventListener("abort", onAbort);
      reject(signal?.aborted ? signal.reason : error);
    };
    const onAbort = () => request.destroy(signal?.reason instanceof Error ? signal.reason : new DOMException("This operation was aborted", "AbortError"));
    signal?.addEventListener("abort", onAbort, { once: true });
    request.on("response", (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("error", fail);
      response.on("aborted", () => fail(new Error("the response was cut off")));
      response.on("end", () => {
        signal?.removeEventListener("abort", onAbort);
        resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) });
      });
    });
    request.on("error", fail);
    request.end(body);
  });
}

export interface JsonResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

/**
 * One JSON POST on the keep-alive agents: the judge's hot call. It skips the SDK's per-request
 * machinery (header objects, eagerly formatted debug logs, a web Response), which took about a
 * third of critic's CPU per judgment against a fast server (bench/judge-vs-bare.ts).
 */
export async function postJson(agents: Agents, url: URL, headers: Record<string, string>, body: string, signal?: AbortSignal): Promise<JsonResponse> {
  const raw = await send(agents, url, "POST", { ...headers, "content-type": "application/json", "content-length": String(Buffer.byteLength(body)) }, body, signal);
  return { status: raw.status, headers: raw.headers, text: raw.body.toString("utf8") };
}
