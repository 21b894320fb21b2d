import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createNodeFetch } from "./node-fetch.js";

describe("createNodeFetch", () => {
  let server: Server;
  let url: string;
  const fetch = createNodeFetch(4);

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", () => {
        if (req.url === "/empty") return res.writeHead(204).end();
        if (req.url === "/hang") return;
        res.writeHead(429, { "content-type": "application/json", "retry-after": "2", "set-cookie": ["a=1", "b=2"] });
        res.end(JSON.stringify({ method: req.method, auth: req.headers.authorization, body }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("sends method, headers and body, and returns status, headers and body", async () => {
    const response = await fetch(`${url}/echo`, { method: "POST", headers: new Headers({ authorization: "Bearer k" }), body: '{"x":1}' });
    expect(response.status).toBe(429);
    expect(response.headers.get("retry-after")).toBe("2");
    expect(response.headers.get("set-cookie")).toBe("a=1, b=2");
    expect(await response.json()).toEqual({ method: "POST", auth: "Bearer k", body: '{"x":1}' });
  });

  it("gives a 204 an empty body", async () => {
    const response = await fetch(`${url}/empty`);
    expect(response.status).toBe(204);
    expect(await response.text()).toBe("");
  });

  it("rejects with the signal's reason when aborted, and with a TypeError when the connection fails", async () => {
    const controller = new AbortController();
    const pending = fetch(`${url}/hang`, { signal: controller.signal });
    setTimeout(() => controller.abort(new DOMException("stop", "AbortError")), 20);
    await expect(pending).rejects.toMatchObject({ name: "AbortError" });
    await expect(fetch("http://127.0.0.1:1/")).rejects.toMatchObject({ name: "TypeError", cause: { code: "ECONNREFUSED" } });
  });
});
