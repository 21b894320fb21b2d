import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAgents, postJson } from "./http-client.js";

describe("postJson", () => {
  let server: Server;
  let url: string;
  const agents = createAgents(4);
  const sockets = new Set<number>();

  beforeAll(async () => {
    server = createServer((req, res) => {
      sockets.add(req.socket.remotePort ?? 0);
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", () => {
        if (req.url === "/hang") return;
        res.writeHead(req.url === "/limited" ? 429 : 200, { "content-type": "application/json", "retry-after": "2", "set-cookie": ["a=1", "b=2"] });
        res.end(JSON.stringify({ method: req.method, auth: req.headers.authorization, type: req.headers["content-type"], length: req.headers["content-length"], body }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("posts JSON with its headers and returns status, headers and text; an HTTP error is a status, not a rejection", async () => {
    const body = '{"x":"é"}';
    const ok = await postJson(agents, new URL(`${url}/echo`), { authorization: "Bearer k" }, body);
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.text)).toEqual({ method: "POST", auth: "Bearer k", type: "application/json", length: String(Buffer.byteLength(body)), body });
    const limited = await postJson(agents, new URL(`${url}/limited`), {}, "{}");
    expect(limited.status).toBe(429);
    expect(limited.headers["retry-after"]).toBe("2");
    expect(limited.headers["set-cookie"]).toEqual(["a=1", "b=2"]);
  });

  it("keeps connections alive between calls", async () => {
    sockets.clear();
    for (let i = 0; i < 5; i++) await postJson(agents, new URL(`${url}/echo`), {}, "{}");
    expect(sockets.size).toBe(1);
  });

  it("rejects with the signal's reason when aborted, and with the socket's error when the connection fails", async () => {
    const controller = new AbortController();
    const pending = postJson(agents, new URL(`${url}/hang`), {}, "{}", controller.signal);
    setTimeout(() => controller.abort(new DOMException("stop", "AbortError")), 20);
    await expect(pending).rejects.toMatchObject({ name: "AbortError" });
    await expect(postJson(agents, new URL("http://127.0.0.1:1/"), {}, "{}")).rejects.toMatchObject({ code: "ECONNREFUSED" });
  });
});
