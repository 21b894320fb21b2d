/**
 * critic view in a real Chromium: load, filter, open a record, label by keyboard, undo, notes,
 * reload, two annotators, the live report, safe rendering of hostile records, a 200k-row file.
 */
import { copyFileSync, mkdtempSync, readFileSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hasChromium, launchChromium, noChromiumReason } from "../../test/support/browser.js";
import { readJsonl, writeJsonl } from "../../test/support/jsonl.js";
import { writeGeneratedJudgments, writeMtBenchJudgments } from "../../test/support/view-data.js";
import { startView, type RunningView } from "./start.js";

if (!hasChromium) console.warn(`critic view browser tests skipped: ${noChromiumReason}`);

const SCREENSHOT = fileURLToPath(new URL("../../assets/critic-view.png", import.meta.url));

describe.skipIf(!hasChromium)("critic view in Chromium", () => {
  let dir: string;
  let browser: Browser;
  const views: RunningView[] = [];
  let judge1: Array<Record<string, unknown>>;
  let files: string[];
  let labels: string;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "critic-view-browser-"));
    files = [path.join(dir, "gpt4-sample1.jsonl"), path.join(dir, "gpt4-sample2.jsonl")];
    judge1 = writeMtBenchJudgments(files[0]!, 0);
    writeMtBenchJudgments(files[1]!, 1);
    labels = path.join(dir, "labels.jsonl");
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    for (const v of views) await v.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function open(options: { files?: string[]; annotator?: string; labels?: string } = {}): Promise<{ page: Page; view: RunningView; errors: string[] }> {
    const view = await startView({ files: options.files ?? files, labels: options.labels ?? labels, annotator: options.annotator ?? "ana", port: 0 });
    views.push(view);
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(view.url);
    await page.locator(".row.selected").waitFor();
    return { page, view, errors };
  }

  const selectedRow = (page: Page) => page.locator(".row.selected").getAttribute("data-row");
  const labelLines = () => readJsonl<{ id: string; score?: number | null; winner?: string; note?: string; annotator: string }>(labels);

  it("loads with the first record selected, filters, and opens a record", async () => {
    const { page, errors } = await open();
    // Two judges: the records where they disagree most come first, and the first is selected.
    const judge2 = readJsonl(files[1]!);
    const gaps = judge1.map((r, i) => Math.abs((r.score as number) - (judge2[i]!.score as number)));
    const top = gaps.indexOf(Math.max(...gaps));
    await expect.poll(() => selectedRow(page)).toBe(String(top));
    expect(await page.locator("select[name=order]").inputValue()).toBe("disagree-judges");
    await page.selectOption("select[name=order]", "row");
    await expect.poll(() => selectedRow(page)).toBe("0");
    await expect.poll(() => page.locator(".rowid").textContent()).toContain(`id ${judge1[0]!.id}`);
    await expect.poll(() => page.getByTestId("count").textContent()).toBe("320 of 320");

    const fives = judge1.filter((r) => r.score === 5).length;
    await page.selectOption("select[name=score]", "5");
    await expect.poll(() => page.getByTestId("count").textContent()).toBe(`${fives} of 320`);
    // Every visible verdict of the first judge is a 5.
    const shown = await page.locator(".row .c-verdict:nth-of-type(3)").allTextContents();
    expect(shown.length).toBeGreaterThan(0);
    expect(new Set(shown)).toEqual(new Set(["5"]));
    await page.selectOption("select[name=score]", "");

    const lines = readFileSync(files[0]!, "utf8").split("\n").filter(Boolean);
    const limericks = lines.filter((l) => l.toLowerCase().includes("limerick")).length;
    expect(limericks).toBeGreaterThan(0);
    await page.fill("input[name=q]", "Limerick");
    await page.press("input[name=q]", "Enter");
    await expect.poll(() => page.getByTestId("count").textContent()).toBe(`${limericks} of 320`);
    await page.fill("input[name=q]", "");
    await page.press("input[name=q]", "Enter");
    await expect.poll(() => page.getByTestId("count").textContent()).toBe("320 of 320");

    await page.locator('.row[data-row="3"]').click();
    await expect.poll(() => page.locator(".rowid").textContent()).toContain(`id ${judge1[3]!.id}`);
    const feedback = String(judge1[3]!.feedback).slice(0, 60);
    await expect.poll(() => page.locator(".judge").first().textContent()).toContain(feedback);
    await expect.poll(() => page.locator(".judge").count()).toBe(2);
    expect(errors).toEqual([]);
    await page.close();
  });

  it("labels three records by keyboard, undoes, takes a note, and shows them after a reload", async () => {
    const { page } = await open();
    await page.selectOption("select[name=order]", "row");
    await expect.poll(() => selectedRow(page)).toBe("0");
    await page.keyboard.press("4");
    await expect.poll(() => selectedRow(page)).toBe("1");
    await page.keyboard.press("2");
    await expect.poll(() => selectedRow(page)).toBe("2");
    await page.keyboard.press("5");
    await expect.poll(() => selectedRow(page)).toBe("3");
    // The next record is selected before a label's answer comes back: wait for the third line on disk.
    await expect.poll(() => labelLines().length).toBe(3);
    let written = labelLines();
    expect(written.map((l) => [l.id, l.score, l.annotator])).toEqual([
      [judge1[0]!.id, 4, "ana"],
      [judge1[1]!.id, 2, "ana"],
      [judge1[2]!.id, 5, "ana"],
    ]);

    // A note on record 3 (no verdict yet), then two undos: the note goes, then record 2's label.
    await page.keyboard.press("n");
    await page.locator("textarea[name=note]").fill("the limerick drops the battery and software points");
    await page.keyboard.press("Enter");
    await expect.poll(() => labelLines().length).toBe(4);
    await expect.poll(() => page.locator("textarea[name=note]").count()).toBe(0);
    await expect.poll(() => page.locator(".note").textContent()).toContain("drops the battery");
    expect(labelLines()[3]).toMatchObject({ id: judge1[3]!.id, note: "the limerick drops the battery and software points" });
    await page.keyboard.press("u");
    await expect.poll(() => labelLines().length).toBe(5);
    await page.keyboard.press("u");
    await expect.poll(() => labelLines().length).toBe(6);
    await expect.poll(() => selectedRow(page)).toBe("2");
    written = labelLines();
    expect(written[4]).toMatchObject({ id: judge1[3]!.id, score: null });
    expect(written[4]!.note).toBeUndefined();
    expect(written[5]).toMatchObject({ id: judge1[2]!.id, score: null });

    await page.reload();
    await page.locator(".row.selected").waitFor();
    await page.selectOption("select[name=order]", "row");
    // The queue opens at the next record I have not labelled, not at the top.
    await expect.poll(() => selectedRow(page)).toBe("2");
    await expect.poll(() => page.locator('.row[data-row="0"] .c-mine').textContent()).toBe("4");
    await expect.poll(() => page.locator('.row[data-row="1"] .c-mine').textContent()).toBe("2");
    expect(await page.locator('.row[data-row="2"] .c-mine').textContent()).toBe("");
    expect(await page.getByTestId("mine").textContent()).toBe("2");
    // The queue of records not yet labelled by me starts after the two labelled ones.
    await page.selectOption("select[name=labelled]", "0");
    await expect.poll(() => page.getByTestId("count").textContent()).toBe("318 of 320");
    expect(await selectedRow(page)).toBe("2");
    await page.close();
  });

  it("two annotators on one labels file: agreement and the live report", async () => {
    const { page } = await open({ annotator: "bo" });
    await page.selectOption("select[name=order]", "row");
    await expect.poll(() => selectedRow(page)).toBe("0");
    await page.keyboard.press("4");
    await page.keyboard.press("3");
    await page.keyboard.press("5");
    await expect.poll(() => labelLines().filter((l) => l.annotator === "bo").length).toBe(3);
    await page.getByRole("button", { name: "Annotators" }).click();
    // ana labelled records 0 and 1, bo 0, 1 and 2: two records in common.
    await expect.poll(() => page.getByTestId("fleiss").textContent()).toContain("over 2 records");
    await expect.poll(() => page.locator(".annotators").textContent()).toContain("ana · bo");

    await page.getByRole("button", { name: "Measure" }).click();
    const report = page.frameLocator("iframe[title='meta-eval report']").locator("body");
    await expect.poll(() => report.textContent(), { timeout: 60_000 }).toContain("Pearson");
    expect(await report.textContent()).toContain("gpt4-sample2");
    // The command shown beside it is one the CLI takes: with its required -o.
    expect(await page.getByTestId("measure-command").textContent()).toBe(`critic meta-eval ${files.join(" ")} --gold-file ${labels} -o ${path.join(dir, "meta-eval-report")}`);
    // The report runs no script: its frame is sandboxed.
    expect(await page.locator("iframe[title='meta-eval report']").getAttribute("sandbox")).toBe("");

    // The judges disagree most on the first records of that queue.
    await page.getByRole("button", { name: "Browse & label" }).click();
    await page.selectOption("select[name=order]", "disagree-judges");
    await page.locator(".row.selected").waitFor();
    await expect.poll(() => page.locator(".row").first().getAttribute("data-row")).not.toBeNull();
    const first = await page.locator(".row").first().locator(".c-verdict").allTextContents();
    const spread = Math.abs(Number(first[0]) - Number(first[1]));
    const maxSpread = Math.max(...judge1.map((r, i) => Math.abs((r.score as number) - (readJsonl(files[1]!)[i]!.score as number))));
    expect(spread).toBe(maxSpread);
    await page.screenshot({ path: path.join(dir, "view.png") });
    if (process.env.CRITIC_UPDATE_SCREENSHOT === "1") copyFileSync(path.join(dir, "view.png"), SCREENSHOT);
    await page.close();
  });

  it("renders markdown and never runs HTML or script from a record; pairwise shows both --swap orders", async () => {
    const file = path.join(dir, "hostile.jsonl");
    writeJsonl(file, [
      {
        id: "x1",
        instruction: "Say hi <script>window.__pwned = 1</script>",
        response_a: "**bold** <img src=x onerror=\"window.__pwned = 2\"> [click](javascript:window.__pwned=3)\n\n```js\nalert(1)\n```",
        response_b: "<iframe src=\"https://example.com\"></iframe> plain",
        winner: "A",
        feedback: "A is better <b onmouseover=\"window.__pwned=4\">x</b>",
        judge: {
          backend: "openai", model: "m", template: "prometheus-pairwise", raw: "A is better [RESULT] A",
          samples: [{ feedback: "A first: A is better", winner: "tie", swap: { original: "A", swapped: "B", consistent: false, swappedFeedback: "B first: the other one is better. Response A is more accurate than Response B [[A]]" } }],
        },
      },
    ]);
    const { page, errors } = await open({ files: [file], labels: path.join(dir, "hostile.labels.jsonl") });
    await expect.poll(() => page.locator(".detail .md strong").first().textContent()).toBe("bold");
    expect(await page.locator(".detail img, .detail iframe, .detail script, .detail b[onmouseover]").count()).toBe(0);
    expect(await page.locator(".detail .md pre code").first().textContent()).toContain("alert(1)");
    expect(await page.locator('.detail a[href^="javascript"]').count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(await page.locator(".detail").textContent()).toContain('<img src=x onerror="window.__pwned = 2">');
    await expect.poll(() => page.locator(".swaps").textContent()).toContain("B first: the other one is better");
    expect(await page.locator(".swaps").textContent()).toContain("A first: A is better");
    // The swapped order's feedback names the responses as the record does: the judge's "A" was the record's B.
    expect(await page.locator(".swaps").textContent()).toContain("Response B is more accurate than Response A [[B]]");
    expect(await page.getByTestId("swap-note").textContent()).toContain("A and B below are the record's own");
    await page.keyboard.press("b");
    await expect.poll(() => readJsonl(path.join(dir, "hostile.labels.jsonl")).length).toBe(1);
    expect(readJsonl(path.join(dir, "hostile.labels.jsonl"))[0]).toMatchObject({ id: "x1", winner: "B", annotator: "ana" });
    expect(errors).toEqual([]);
    await page.close();
  });

  it("labels on the template's whole scale, keeps records that share an id apart, names judges apart, and notices a replaced file", async () => {
    // A Prometheus judge that only said 3 and 4, "a" twice; a second judge with distributions.
    const judged = (id: string, score: number, extra: Record<string, unknown> = {}) => ({
      id, task: ["math", "code"][score % 2], instruction: `question ${id}`, response: `answer ${id}`, feedback: `feedback ${id}`, score, latency_s: score / 7,
      judge: { backend: "openai", model: "m", template: "prometheus-absolute", raw: "", samples: [] }, ...extra,
    });
    const ids = ["a", "a", "b", "c"];
    const seven = path.join(dir, "judgments-prometheus-7b.jsonl");
    const thirteen = path.join(dir, "judgments-prometheus-13b.jsonl");
    writeJsonl(seven, ids.map((id, i) => judged(id, [3, 4, 4, 3][i]!)));
    writeJsonl(thirteen, ids.map((id, i) => judged(id, 4, { score_distribution: { "4": [0.9, 0.5, 0.6, 0.95][i], "5": 1 - [0.9, 0.5, 0.6, 0.95][i]! } })));
    const scaleLabels = path.join(dir, "scale.labels.jsonl");
    const { page, errors } = await open({ files: [seven, thirteen], labels: scaleLabels });
    await page.selectOption("select[name=order]", "row");
    await expect.poll(() => selectedRow(page)).toBe("0");
    expect(await page.locator(".thead .c-verdict").allTextContents()).toEqual(["7b", "13b"]);
    expect(await page.locator(".thead .c-verdict").first().getAttribute("title")).toBe(seven);
    expect(await page.locator("select[name=order] option").allTextContents()).toContain("judge least sure first");
    expect(await page.locator("select[name=field] option").allTextContents()).toEqual(["any field", "task"]);
    await expect.poll(() => page.getByTestId("warning").first().textContent()).toContain('"a" on lines 1, 2');
    expect(await page.locator(".labelbar .choice").allTextContents()).toEqual(["1", "2", "3", "4", "5", "note (n)"]);
    expect(await page.getByTestId("scale-source").textContent()).toBe("scale 1–5, from template prometheus-absolute");
    await page.screenshot({ path: path.join(dir, "scale.png") });

    // A score the judge never gave, on the first "a": the second keeps no label.
    await page.keyboard.press("1");
    await expect.poll(() => readJsonl(scaleLabels).length).toBe(1);
    expect(readJsonl(scaleLabels)[0]).toMatchObject({ id: "a@line1", score: 1 });
    await expect.poll(() => page.locator('.row[data-row="0"] .c-mine').textContent()).toBe("1");
    expect(await page.locator('.row[data-row="1"] .c-mine').textContent()).toBe("");

    // The judge is run again to the same file: the next label is refused and the page shows the new records.
    const rerun = path.join(dir, "rerun.tmp.jsonl");
    writeJsonl(rerun, ["x", "y", "z"].map((id) => judged(id, 2)));
    renameSync(rerun, seven);
    await page.keyboard.press("5");
    await expect.poll(() => page.getByRole("status").textContent()).toContain("NOT SAVED");
    expect(readJsonl(scaleLabels)).toHaveLength(1);
    await expect.poll(() => page.locator('.row[data-row="0"] .c-id').textContent()).toBe("x");
    expect(errors).toEqual([]);
    await page.close();
  });

  it("opens a 200,000-row file and pages through it from the server", async () => {
    const big = path.join(dir, "big.jsonl");
    await writeGeneratedJudgments(big, 200_000);
    const { page, view } = await open({ files: [big], labels: path.join(dir, "big.labels.jsonl") });
    await expect.poll(() => page.getByTestId("count").textContent()).toBe("200,000 of 200,000");
    // The browser holds a page of rows, not the file.
    expect(await page.locator(".row").count()).toBeLessThan(200);
    await page.locator(".tbody").evaluate((el) => (el.scrollTop = el.scrollHeight));
    await expect.poll(() => page.locator('.row[data-row="199999"]').count()).toBe(1);
    await expect.poll(() => page.locator('.row[data-row="199999"] .c-id').textContent()).toBe("r199999");
    await page.selectOption("select[name=failed]", "1");
    await expect.poll(() => page.getByTestId("count").textContent()).toBe("4,000 of 200,000");
    const response = await page.request.get(`${view.url}api/rows?failed=1&offset=3999&limit=5`);
    const body = (await response.json()) as { total: number; rows: Array<{ id: string }> };
    expect(body.total).toBe(4000);
    expect(body.rows.map((r) => r.id)).toEqual(["r199999"]);
    await page.close();
  });
});
