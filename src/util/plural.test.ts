import { describe, expect, it } from "vitest";
import { plural } from "./plural.js";

describe("plural", () => {
  it("one is singular; zero, many and fractions are plural; irregular plurals are given", () => {
    expect(plural(1, "judgment")).toBe("1 judgment");
    expect(plural(0, "judgment")).toBe("0 judgments");
    expect(plural(2, "judgment")).toBe("2 judgments");
    expect(plural(1.5, "point")).toBe("1.5 points");
    expect(plural(1, "process", "processes")).toBe("1 process");
    expect(plural(3, "process", "processes")).toBe("3 processes");
  });
});
