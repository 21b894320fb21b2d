import { describe, expect, it } from "vitest";
import { chooseTestGroups, normalizePrompt, promptGroup, testGroupCount } from "./split.js";

const prompts = Array.from({ length: 200 }, (_, i) => `Question number ${i}?`);

describe("split", () => {
  it("groups prompts that differ only in whitespace", () => {
    expect(normalizePrompt("  What is\n\n2 +\t2? ")).toBe("What is 2 + 2?");
    expect(promptGroup("What is 2+2?")).toBe(promptGroup(" What  is\n2+2?\n"));
    expect(promptGroup("What is 2+2?")).not.toBe(promptGroup("what is 2+2?"));
  });

  it("same seed, same test prompts, whatever the order; another seed, other prompts", () => {
    const groups = prompts.map(promptGroup);
    const a = chooseTestGroups(groups, 0.1, 0);
    const b = chooseTestGroups([...groups].reverse(), 0.1, 0);
    expect(a.size).toBe(20);
    expect([...a].sort()).toEqual([...b].sort());
    const c = chooseTestGroups(groups, 0.1, 1);
    expect(c.size).toBe(20);
    expect([...c].sort()).not.toEqual([...a].sort());
  });

  it("test size: a fraction rounds up, a whole number is a count, train keeps at least one prompt", () => {
    expect(testGroupCount(200, 0.1)).toBe(20);
    expect(testGroupCount(11, 0.1)).toBe(2);
    expect(testGroupCount(10, 0)).toBe(0);
    expect(testGroupCount(10, 3)).toBe(3);
    expect(testGroupCount(3, 5)).toBe(2);
    expect(testGroupCount(2, 0.9)).toBe(1);
    expect(testGroupCount(1, 0.5)).toBe(0);
    expect(() => testGroupCount(10, 1.5)).toThrow(/fraction in \[0, 1\) or a whole number/);
    expect(() => testGroupCount(10, -0.1)).toThrow();
  });
});
