import { describe, expect, it } from "vitest";
import { builtinTemplateNames } from "../templates/index.js";
import { buildProgram } from "./main.js";

describe("--template help", () => {
  it("names every built-in template of the registry (Flow Judge's presets as one pattern), in judge and bench run", () => {
    const program = buildProgram();
    const bench = program.commands.find((c) => c.name() === "bench")!;
    for (const command of [program.commands.find((c) => c.name() === "judge")!, bench.commands.find((c) => c.name() === "run")!]) {
      const help = command.options.find((o) => o.long === "--template")!.description;
      for (const name of builtinTemplateNames()) {
        if (name.startsWith("flow-judge-")) continue;
        expect(help.split(" | "), `${command.name()}: ${name}`).toContain(name);
      }
      expect(help).toContain("flow-judge-<metric>-<scale>");
    }
  });
});
