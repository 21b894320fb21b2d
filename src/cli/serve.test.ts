import { Command } from "commander";
import { ensureTinyModel, TINY_MODEL_THREADS } from "../gguf/tiny-model.js";
import { afterEach, describe, expect, it, vi } from "vitest";
import { registerServe, startServe } from "./serve.js";

const tinyModelPath = (): Promise<string> => ensureTinyModel();

describe("critic serve", () => {
  afterEach(() => {
    vi.restoreAllMocks();
    vi.unstubAllEnvs();
  });

  it("starts from the command line, takes its key from the environment, never logs it, and stops on SIGTERM", async () => {
    const key = "secret-key-9f8e7d";
    vi.stubEnv("CRITIC_API_KEY", key);
    const logged: string[] = [];
    vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
      logged.push(String(chunk));
      return true;
    });
    const program = new Command().exitOverride();
    registerServe(program);
    const args = ["serve", "--model", await tinyModelPath(), "--port", "0", "--parallel", "1", "--threads", String(TINY_MODEL_THREADS), "--no-gpu", "--model-name", "judge"];
    const running = program.parseAsync(args, { from: "user" });

    let url: string | undefined;
    for (let i = 0; i < 600 && !url; i++) {
      url = /serving "judge" at (http:\/\/127\.0\.0\.1:\d+)\/v1/.exec(logged.join(""))?.[1];
      if (!url) await new Promise((r) => setTimeout(r, 50));
    }
    expect(url).toBeDefined();
    expect(logged.join("")).toContain("API key required");

    const models = await fetch(`${url}/v1/models`, { headers: { authorization: `Bearer ${key}` } });
    expect(models.status).toBe(200);
    expect(((await models.json()) as { data: Array<{ id: string }> }).data[0]!.id).toBe("judge");
    expect((await fetch(`${url}/v1/models`)).status).toBe(401);

    process.emit("SIGTERM");
    await running;
    expect(logged.join("")).toContain("SIGTERM: stopping the server");
    expect(logged.join("")).not.toContain(key);
    await expect(fetch(`${url}/health`)).rejects.toThrow();
  });

  it("refuses server model specs and a missing model", async () => {
    const base = { host: "127.0.0.1", port: 0, gpu: false, loraScale: 1 };
    await expect(startServe({ ...base, model: "openai:gpt-4o" }, () => {})).rejects.toThrow(/runs a GGUF model itself/);
    vi.stubEnv("CRITIC_MODEL", "");
    await expect(startServe(base, () => {})).rejects.toThrow(/no model: pass --model/);
  });
});
