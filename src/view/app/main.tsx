/**
 * critic view's front end: a virtualised table of judgments served a page at a time, a detail
 * pane, keyboard labelling, the live meta-eval report and the annotators' agreement.
 */
import { render } from "preact";
import { useCallback, useEffect, useMemo, useRef, useState } from "preact/hooks";
import { api, ApiError, setKey, type Agreement, type Info, type RowSummary } from "./api.js";
import { Detail, verdictText } from "./detail.js";

const ROW_HEIGHT = 58;
const PAGE = 100;

interface Filters {
  q: string;
  score: string;
  winner: string;
  failed: string;
  labelled: string;
  field: string;
  value: string;
  order: string;
  seed: number;
}

const NO_FILTERS: Filters = { q: "", score: "", winner: "", failed: "", labelled: "", field: "", value: "", order: "row", seed: 1 };

const ORDER_NAMES: Record<string, string> = {
  row: "file order",
  score: "score, low first",
  "-score": "score, high first",
  uncertainty: "judge least sure first",
  "disagree-judges": "judges disagree most first",
  "disagree-labels": "judge vs humans, most apart first",
  random: "random (unbiased sample)",
};

interface UndoStep {
  row: number;
  i: number;
  before: { score?: number; winner?: string; note?: string } | null;
}

function App() {
  const [info, setInfo] = useState<Info | null>(null);
  const [fatal, setFatal] = useState<string | null>(null);
  const [needKey, setNeedKey] = useState(false);
  const [tab, setTab] = useState<"browse" | "measure" | "agreement">("browse");
  const [filters, setFilters] = useState<Filters>(NO_FILTERS);
  const [gen, setGen] = useState(0);
  const [total, setTotal] = useState<number | null>(null);
  const [pages, setPages] = useState<Map<number, RowSummary[]>>(new Map());
  const [selected, setSelected] = useState(0);
  const [status, setStatus] = useState("");
  const [noteOpen, setNoteOpen] = useState(false);
  const [detailVersion, setDetailVersion] = useState(0);
  const undo = useRef<UndoStep[]>([]);
  const saving = useRef<Promise<unknown>>(Promise.resolve());
  const loading = useRef(new Set<number>());
  const generationRef = useRef(0);
  const startAtNext = useRef(true);
  const loadPageRef = useRef<(page: number) => void>(() => {});

  const loadInfo = useCallback(() => {
    api.info().then((answer) => {
      // Several judges: the records where they disagree most come first.
      if (answer.files.length > 1) setFilters((f) => (f.order === "row" ? { ...f, order: "disagree-judges" } : f));
      if (generationRef.current !== 0 && answer.generation !== generationRef.current) {
        // A label refused for it says so first: that message stays.
        setStatus((s) => (s.startsWith("NOT SAVED") ? s : "a judgments file changed on disk: the view indexed it again and shows the records as they are now"));
        setGen((g) => g + 1);
      }
      generationRef.current = answer.generation;
      setInfo(answer);
    }, (error: unknown) => {
      if (error instanceof ApiError && error.status === 401) setNeedKey(true);
      else setFatal(String((error as Error).message));
    });
  }, []);
  useEffect(loadInfo, [loadInfo]);

  const params = useMemo(() => {
    const p = new URLSearchParams();
    for (const [k, v] of Object.entries(filters)) if (v !== "" && !(k === "order" && v === "row") && !(k === "seed" && filters.order !== "random")) p.set(k, String(v));
    p.set("gen", String(gen));
    return p;
  }, [filters, gen]);

  const loadPage = useCallback(
    (page: number) => {
      if (loading.current.has(page)) return;
      loading.current.add(page);
      const p = new URLSearchParams(params);
      p.set("offset", String(page * PAGE));
      p.set("limit", String(PAGE));
      api.rows(p).then(
        (answer) => {
          loading.current.delete(page);
          // The server indexed a replaced file again: start over from its new info.
          if (answer.generation !== generationRef.current) {
            loadInfo();
            return;
          }
          setTotal(answer.total);
          setPages((old) => new Map(old).set(page, answer.rows));
          // A new query opens at the first record I have not labelled.
          if (answer.next !== undefined && startAtNext.current) {
            startAtNext.current = false;
            selectedRef.current = answer.next;
            setSelected(answer.next);
            if (Math.floor(answer.next / PAGE) !== page) loadPageRef.current(Math.floor(answer.next / PAGE));
          }
        },
        (error: unknown) => {
          loading.current.delete(page);
          setStatus(`error: ${(error as Error).message}`);
          setTotal(0);
        },
      );
    },
    [params],
  );
  loadPageRef.current = loadPage;

  // A new query: start again at the top with the first record selected.
  useEffect(() => {
    if (!info) return;
    loading.current.clear();
    setPages(new Map());
    setTotal(null);
    setSelected(0);
    selectedRef.current = 0;
    startAtNext.current = true;
    loadPage(0);
  }, [info !== null, loadPage]);

  // Keys can come faster than a render: the handler reads the selection and rows from refs.
  const selectedRef = useRef(0);
  const pagesRef = useRef(pages);
  pagesRef.current = pages;
  const rowAt = (i: number): RowSummary | undefined => pagesRef.current.get(Math.floor(i / PAGE))?.[i % PAGE];
  const current = rowAt(selected);

  const move = (to: number) => {
    if (total === null || total === 0) return;
    const i = Math.max(0, Math.min(total - 1, to));
    selectedRef.current = i;
    setSelected(i);
    setNoteOpen(false);
    if (!pagesRef.current.has(Math.floor(i / PAGE))) loadPage(Math.floor(i / PAGE));
  };
  useEffect(() => {
    selectedRef.current = selected;
  }, [selected]);

  const updateRow = (i: number, change: (r: RowSummary) => RowSummary) =>
    setPages((old) => {
      const page = old.get(Math.floor(i / PAGE));
      if (!page) return old;
      const copy = page.slice();
      const r = copy[i % PAGE];
      if (r) copy[i % PAGE] = change(r);
      const next = new Map(old).set(Math.floor(i / PAGE), copy);
      pagesRef.current = next;
      return next;
    });

  /** Saves one label (the whole state: verdict and note); the row shows it at once. */
  const saveLabel = async (i: number, row: RowSummary, state: { score?: number | null; winner?: string | null; note?: string }, remember: boolean) => {
    const mine = row.mine;
    const before = mine ? { ...(mine.score !== undefined ? { score: mine.score } : {}), ...(mine.winner ? { winner: mine.winner } : {}), ...(mine.note ? { note: mine.note } : {}) } : null;
    if (remember) undo.current.push({ row: row.row, i, before });
    try {
      // One label request at a time, in the order they were made: an undo never overtakes its label.
      const request = saving.current.then(() => api.label({ row: row.row, id: row.id, generation: generationRef.current, ...state }));
      saving.current = request.catch(() => undefined);
      const answer = await request;
      const saved = answer.label.score !== undefined || answer.label.winner !== undefined || answer.label.note !== undefined ? answer.label : null;
      const hadVerdict = mine?.score !== undefined || mine?.winner !== undefined;
      const hasVerdict = saved?.score !== undefined || saved?.winner !== undefined;
      updateRow(i, (r) => ({ ...r, mine: saved, labels: r.labels + (hasVerdict ? 1 : 0) - (hadVerdict ? 1 : 0) }));
      setInfo((old) => (old ? { ...old, labelled: answer.labelled } : old));
      setDetailVersion((v) => v + 1);
      setStatus(`saved to ${info?.labelsFile ?? "labels"}: ${saved ? verdictText(saved) : "label removed"}`);
      return true;
    } catch (error) {
      if (remember) undo.current.pop();
      setStatus(`NOT SAVED: ${(error as Error).message}`);
      // The file changed under the page: show the records as they are now.
      if (error instanceof ApiError && error.status === 409) {
        undo.current = [];
        loadInfo();
      }
      return false;
    }
  };

  /** A verdict for the selected record; the next one is selected before the answer comes back. */
  const label = (verdict: { score?: number; winner?: string }) => {
    const i = selectedRef.current;
    const row = rowAt(i);
    if (!row) return;
    const note = row.mine?.note;
    move(i + 1);
    void saveLabel(i, row, { ...verdict, ...(note ? { note } : {}) }, true);
  };

  const saveNote = async (note: string) => {
    const i = selectedRef.current;
    const row = rowAt(i);
    if (!row) return;
    const mine = row.mine;
    await saveLabel(i, row, { ...(mine?.score !== undefined ? { score: mine.score } : {}), ...(mine?.winner ? { winner: mine.winner } : {}), note }, true);
    setNoteOpen(false);
  };

  const undoLast = async () => {
    const step = undo.current.pop();
    if (!step) {
      setStatus("nothing to undo");
      return;
    }
    const row = rowAt(step.i);
    if (!row || row.row !== step.row) {
      setStatus("cannot undo: that record is no longer in the list (refresh)");
      return;
    }
    const target = row;
    move(step.i);
    await saveLabel(step.i, target, step.before ?? { score: null }, false);
  };

  const first = info?.files[0];
  const pairwise = first?.mode === "pairwise";
  const digits = useMemo(() => keyScale(info?.scale.scores ?? []), [info]);

  const onKey = useRef<(event: KeyboardEvent) => void>(() => {});
  onKey.current = (event: KeyboardEvent) => {
    if (tab !== "browse" || event.ctrlKey || event.metaKey || event.altKey) return;
    const target = event.target as HTMLElement;
    if (target.closest("input, textarea, select")) {
      if (event.key === "Escape") target.blur();
      return;
    }
    const key = event.key;
    if (key === "ArrowDown" || key === "j") move(selectedRef.current + 1);
    else if (key === "ArrowUp" || key === "k") move(selectedRef.current - 1);
    else if (key === "u") void undoLast();
    else if (key === "n") setNoteOpen(true);
    else if (pairwise && (key === "a" || key === "b" || key === "t")) label({ winner: key === "a" ? "A" : key === "b" ? "B" : "tie" });
    else if (!pairwise && key in digits) label({ score: digits[key] as number });
    else return;
    event.preventDefault();
  };
  useEffect(() => {
    const listener = (event: KeyboardEvent) => onKey.current(event);
    window.addEventListener("keydown", listener);
    return () => window.removeEventListener("keydown", listener);
  }, []);

  if (needKey) return <KeyPrompt onKey={(key) => { setKey(key); setNeedKey(false); loadInfo(); }} />;
  if (fatal) return <p class="fatal">critic view: {fatal}</p>;
  if (!info) return <p class="loading">Loading…</p>;

  const setFilter = (change: Partial<Filters>) => setFilters((f) => ({ ...f, ...change }));

  return (
    <div class="app">
      <header>
        <h1>critic view</h1>
        <span class="files">{info.files.map((f) => `${f.name} (${f.rows.toLocaleString()} rows)`).join(" · ")}</span>
        <nav>
          {(["browse", "measure", "agreement"] as const).map((t) => (
            <button class={tab === t ? "tab active" : "tab"} onClick={() => setTab(t)}>{t === "browse" ? "Browse & label" : t === "measure" ? "Measure" : "Annotators"}</button>
          ))}
        </nav>
        <span class="who" title={info.labelsFile}>
          {info.annotator}: <b data-testid="mine">{info.labelled.mine}</b> labelled · all annotators {info.labelled.total}
        </span>
      </header>
      {info.warnings.map((w) => <p class="warning" data-testid="warning">{w}</p>)}
      {!pairwise && info.scale.warning && <p class="warning" data-testid="warning">{info.scale.warning}</p>}
      {info.labelProblems.length > 0 && <p class="warning">{info.labelsFile}: {info.labelProblems.length} line(s) could not be read, first line {info.labelProblems[0]!.line}: {info.labelProblems[0]!.reason}</p>}
      {info.files.slice(1).filter((f) => f.matched < first!.rows).map((f) => <p class="warning">{f.name}: {f.matched} of {first!.rows} records matched by {info.alignedBy}</p>)}
      {tab === "browse" && (
        <>
          <Toolbar info={info} filters={filters} setFilter={setFilter} total={total} onRefresh={() => setGen((g) => g + 1)} />
          <main>
            <Table total={total ?? 0} pages={pages} selected={selected} loadPage={loadPage} onSelect={move} info={info} />
            <section class="detail" aria-label="record">
              {current ? (
                <Detail
                  key={current.row}
                  row={current}
                  info={info}
                  version={detailVersion}
                  digits={digits}
                  scale={info.scale}
                  noteOpen={noteOpen}
                  onLabel={label}
                  onNote={(note) => void saveNote(note)}
                  onCloseNote={() => setNoteOpen(false)}
                  onOpenNote={() => setNoteOpen(true)}
                />
              ) : (
                <p class="empty">{total === 0 ? "No record matches these filters." : "Loading…"}</p>
              )}
            </section>
          </main>
          <footer>
            <span class="keys">{pairwise ? "a / b / t" : `${Object.keys(digits).join(" ")}`} label and go on · ↑↓ or j k move · n note · u undo</span>
            <span class="status" role="status">{status}</span>
          </footer>
        </>
      )}
      {tab === "measure" && <Measure info={info} />}
      {tab === "agreement" && <Annotators info={info} />}
    </div>
  );
}

/** Keys that give a score: the digits of the scale (0 for 10 on a 1-10 scale); scores without a key get a button only. */
function keyScale(scale: number[]): Record<string, number> {
  const keys: Record<string, number> = {};
  const hasZero = scale.includes(0);
  for (const s of scale) {
    if (Number.isInteger(s) && s >= 0 && s <= 9) keys[String(s)] = s;
    else if (s === 10 && !hasZero) keys["0"] = s;
  }
  return keys;
}

function KeyPrompt({ onKey }: { onKey: (key: string) => void }) {
  const [value, setValue] = useState("");
  return (
    <form class="key" onSubmit={(e) => { e.preventDefault(); onKey(value); }}>
      <label>This view needs its API key <input type="password" value={value} onInput={(e) => setValue((e.target as HTMLInputElement).value)} autofocus /></label>
      <button type="submit">Open</button>
    </form>
  );
}

function Toolbar({ info, filters, setFilter, total, onRefresh }: { info: Info; filters: Filters; setFilter: (f: Partial<Filters>) => void; total: number | null; onRefresh: () => void }) {
  const first = info.files[0]!;
  const [q, setQ] = useState(filters.q);
  const category = first.categories.find((c) => c.name === filters.field);
  const orders = info.orders.filter((o) => (o !== "disagree-judges" || info.files.length > 1) && (o !== "uncertainty" || info.files.some((f) => f.hasDistribution)));
  return (
    <div class="toolbar">
      <form onSubmit={(e) => { e.preventDefault(); setFilter({ q }); }}>
        <input type="search" name="q" placeholder="Search text (Enter)" value={q} onInput={(e) => setQ((e.target as HTMLInputElement).value)} />
      </form>
      {first.mode === "pairwise" ? (
        <select name="winner" value={filters.winner} onChange={(e) => setFilter({ winner: (e.target as HTMLSelectElement).value })}>
          <option value="">any winner</option>
          <option value="A">A wins</option>
          <option value="B">B wins</option>
          <option value="tie">tie</option>
        </select>
      ) : (
        <select name="score" value={filters.score} onChange={(e) => setFilter({ score: (e.target as HTMLSelectElement).value })}>
          <option value="">any score</option>
          {info.scale.scores.map((s) => <option value={String(s)}>score {s}</option>)}
        </select>
      )}
      <select name="failed" value={filters.failed} onChange={(e) => setFilter({ failed: (e.target as HTMLSelectElement).value })}>
        <option value="">failed or not</option>
        <option value="1">failed only</option>
        <option value="0">not failed</option>
      </select>
      <select name="labelled" value={filters.labelled} onChange={(e) => setFilter({ labelled: (e.target as HTMLSelectElement).value })}>
        <option value="">labelled or not</option>
        <option value="0">not labelled by me</option>
        <option value="1">labelled by me</option>
      </select>
      {first.categories.length > 0 && (
        <select name="field" value={filters.field} onChange={(e) => { const field = (e.target as HTMLSelectElement).value; setFilter({ field, value: first.categories.find((c) => c.name === field)?.values[0] ?? "" }); }}>
          <option value="">any field</option>
          {first.categories.map((c) => <option value={c.name}>{c.name}</option>)}
        </select>
      )}
      {category && (
        <select name="value" value={filters.value} onChange={(e) => setFilter({ value: (e.target as HTMLSelectElement).value })}>
          {category.values.map((v) => <option value={v}>{v}</option>)}
        </select>
      )}
      <select name="order" value={filters.order} onChange={(e) => setFilter({ order: (e.target as HTMLSelectElement).value })} title="queue: what to label first">
        {orders.map((o) => <option value={o}>{ORDER_NAMES[o] ?? o}</option>)}
      </select>
      {filters.order === "random" && <button onClick={() => setFilter({ seed: filters.seed + 1 })}>reshuffle</button>}
      <button onClick={onRefresh} title="run the query again (the list stays put while you label)">refresh</button>
      <span class="count" data-testid="count">{total === null ? "…" : `${total.toLocaleString()} of ${first.rows.toLocaleString()}`}</span>
    </div>
  );
}

function Table({ total, pages, selected, loadPage, onSelect, info }: { total: number; pages: Map<number, RowSummary[]>; selected: number; loadPage: (p: number) => void; onSelect: (i: number) => void; info: Info }) {
  const box = useRef<HTMLDivElement>(null);
  const [scroll, setScroll] = useState(0);
  const [height, setHeight] = useState(600);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const observer = new ResizeObserver(() => setHeight(el.clientHeight));
    observer.observe(el);
    return () => observer.disconnect();
  }, []);
  // Keep the selected row in sight.
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const top = selected * ROW_HEIGHT;
    if (top < el.scrollTop) el.scrollTop = top;
    else if (top + ROW_HEIGHT > el.scrollTop + el.clientHeight) el.scrollTop = top + ROW_HEIGHT - el.clientHeight;
  }, [selected]);
  const start = Math.max(0, Math.floor(scroll / ROW_HEIGHT) - 5);
  const end = Math.min(total, Math.ceil((scroll + height) / ROW_HEIGHT) + 5);
  useEffect(() => {
    for (let p = Math.floor(start / PAGE); p <= Math.floor(Math.max(start, end - 1) / PAGE); p++) if (!pages.has(p) && end > 0) loadPage(p);
  }, [start, end, pages, loadPage]);
  const pairwise = info.files[0]!.mode === "pairwise";
  const items = [];
  for (let i = start; i < end; i++) {
    const r = pages.get(Math.floor(i / PAGE))?.[i % PAGE];
    items.push(
      <div class={`row${i === selected ? " selected" : ""}`} style={{ top: `${i * ROW_HEIGHT}px`, height: `${ROW_HEIGHT}px` }} onClick={() => onSelect(i)} data-row={r?.row} role="row" aria-selected={i === selected}>
        {r ? (
          <>
            <span class="c-id" title={`line ${r.line}`}>{r.id}</span>
            <span class="c-text"><span class="prompt">{r.prompt}</span><span class="response">{pairwise ? `A: ${r.response} | B: ${r.responseB ?? ""}` : r.response}</span></span>
            {r.verdicts.map((v, j) => <span class={`c-verdict${v?.failed ? " failed" : ""}`} title={info.files[j]!.name}>{v ? (v.failed ? "failed" : pairwise ? v.winner ?? "–" : v.score ?? "–") : "·"}</span>)}
            <span class="c-mine" data-testid="mine-label">{r.mine ? verdictText(r.mine) : ""}</span>
          </>
        ) : (
          <span class="c-text">…</span>
        )}
      </div>,
    );
  }
  return (
    <section class="table" aria-label="judgments">
      <div class="thead">
        <span class="c-id">id</span>
        <span class="c-text">{pairwise ? "prompt · response A | B" : "prompt · response"}</span>
        {info.files.map((f) => <span class="c-verdict" title={f.file}>{f.short}</span>)}
        <span class="c-mine">me</span>
      </div>
      <div class="tbody" ref={box} onScroll={(e) => setScroll((e.target as HTMLDivElement).scrollTop)}>
        <div class="spacer" style={{ height: `${total * ROW_HEIGHT}px` }}>{items}</div>
      </div>
    </section>
  );
}

function Measure({ info }: { info: Info }) {
  const [state, setState] = useState<{ html?: string; error?: string; busy: boolean }>({ busy: false });
  const run = () => {
    setState({ busy: true });
    api.measure().then((r) => setState({ html: r.html, busy: false }), (e: unknown) => setState({ error: (e as Error).message, busy: false }));
  };
  useEffect(run, []);
  return (
    <section class="measure">
      <p>
        The meta-eval report of {info.files.map((f) => f.name).join(", ")} against the {info.labelled.total} labels in {info.labelsFile} so far (the same as{" "}
        <code data-testid="measure-command">{info.measureCommand.map(shellQuote).join(" ")}</code>). <button onClick={run} disabled={state.busy}>{state.busy ? "measuring…" : "measure again"}</button>
      </p>
      {state.error && <p class="warning">{state.error}</p>}
      {state.html && <iframe title="meta-eval report" sandbox="" srcdoc={state.html} />}
    </section>
  );
}

/** A word as a POSIX shell reads it back: quoted when it holds anything but safe characters. */
function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, "'\\''")}'`;
}

function Annotators({ info }: { info: Info }) {
  const [agreement, setAgreement] = useState<Agreement | null | undefined>(undefined);
  useEffect(() => {
    api.agreement().then((r) => setAgreement(r.agreement), () => setAgreement(null));
  }, []);
  const fmt = (m: unknown) => {
    const v = m as { value: number | null; reason?: string } | undefined;
    return v === undefined ? "" : v.value === null ? `n/a (${v.reason ?? ""})` : v.value.toFixed(3);
  };
  return (
    <section class="annotators">
      <table>
        <thead><tr><th>annotator</th><th>labels</th></tr></thead>
        <tbody>{Object.entries(info.labelled.byAnnotator).map(([name, n]) => <tr><td>{name}{name === info.annotator ? " (you)" : ""}</td><td>{n}</td></tr>)}</tbody>
      </table>
      {agreement === undefined ? <p>Loading…</p> : agreement === null ? (
        <p>Agreement needs two annotators on the same records: start another <code>critic view … --annotator NAME</code> on the same labels file.</p>
      ) : (
        <>
          <p data-testid="fleiss">Fleiss' κ over {agreement.fleiss.items} records every annotator labelled: <b>{fmt(agreement.fleiss)}</b></p>
          <table>
            <thead><tr><th>pair</th><th>records</th>{Object.keys(agreement.pairs[0]?.metrics ?? {}).map((m) => <th>{m}</th>)}</tr></thead>
            <tbody>
              {agreement.pairs.map((p) => (
                <tr><td>{p.a} · {p.b}</td><td>{String(p.n)}</td>{Object.values(p.metrics as Record<string, unknown>).map((m) => <td>{fmt(m)}</td>)}</tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}

render(<App />, document.getElementById("app")!);
