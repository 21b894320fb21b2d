import { describe, expect, it } from "vitest";
import { parseModelSpec } from "./spec.js";

describe("parseModelSpec", () => {
  it("reads local GGUF paths", () => {
    expect(parseModelSpec("./judge.gguf")).toEqual({ kind: "embedded", path: "./judge.gguf" });
    expect(parseModelSpec("/models/prometheus-7b.Q4_K_M.gguf")).toEqual({ kind: "embedded", path: "/models/prometheus-7b.Q4_K_M.gguf" });
    expect(parseModelSpec("../up/x.GGUF")).toEqual({ kind: "embedded", path: "../up/x.GGUF" });
    expect(parseModelSpec("judge.gguf")).toEqual({ kind: "embedded", path: "judge.gguf" });
  });

  it("reads Hugging Face repos, quants and files", () => {
    expect(parseModelSpec("hf:prometheus-eval/prometheus-7b-v2.0-GGUF")).toEqual({
      kind: "embedded",
      hf: { user: "prometheus-eval", repo: "prometheus-7b-v2.0-GGUF" },
      uri: "hf:prometheus-eval/prometheus-7b-v2.0-GGUF",
    });
    expect(parseModelSpec("hf:bartowski/Qwen2.5-0.5B-Instruct-GGUF:Q4_K_M")).toEqual({
      kind: "embedded",
      hf: { user: "bartowski", repo: "Qwen2.5-0.5B-Instruct-GGUF", quant: "Q4_K_M" },
      uri: "hf:bartowski/Qwen2.5-0.5B-Instruct-GGUF:Q4_K_M",
    });
    expect(parseModelSpec("hf:user/repo/sub/model.Q8_0.gguf")).toEqual({
      kind: "embedded",
      hf: { user: "user", repo: "repo", file: "sub/model.Q8_0.gguf" },
      uri: "hf:user/repo/sub/model.Q8_0.gguf",
    });
  });

  it("reads server models, keeping colons and slashes in the name", () => {
    expect(parseModelSpec("openai:gpt-4o-mini")).toEqual({ kind: "openai", model: "gpt-4o-mini" });
    expect(parseModelSpec("openai:meta-llama/Llama-3.1-8B-Instruct")).toEqual({ kind: "openai", model: "meta-llama/Llama-3.1-8B-Instruct" });
    expect(parseModelSpec("ollama:llama3.1:8b")).toEqual({ kind: "ollama", model: "llama3.1:8b" });
  });

  it.each([
    ["", "empty"],
    ["openai:", 'no model name after "openai:"'],
    ["ollama:  ", 'no model name after "ollama:"'],
    ["hf:justauser", "hf:<user>/<repo>"],
    ["hf:user/repo:", "hf:<user>/<repo>:<quant>"],
    ["hf:user/repo/readme.md", '"readme.md" is not a .gguf file'],
    ["hf:user/repo/../x.gguf", "hf:<user>/<repo>/<file.gguf>"],
    ["vllm:mistral", 'unknown prefix "vllm:"'],
    ["./model.bin", "a local model must be a .gguf file"],
    ["gpt-4o", "neither a .gguf path, a known prefix nor a judge's name"],
  ])("rejects %j with a message naming the problem and the accepted forms", (spec, why) => {
    let message = "";
    try {
      parseModelSpec(spec);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain(why);
    expect(message).toContain("Accepted forms");
    expect(message).toContain("hf:<user>/<repo>[:<quant>]");
    expect(message).toContain("ollama:<model>");
  });
});
