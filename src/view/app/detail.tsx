/** The detail pane: the label bar, each judge's verdict side by side, the record, and how the verdict was reached. */
import { useEffect, useRef, useState } from "preact/hooks";
import { api, type HumanLabel, type Info, type RecordDetail, type RecordFile, type RowSummary } from "./api.js";
import { renderMarkdown } from "./markdown.js";

export function verdictText(label: Pick<HumanLabel, "score" | "winner" | "note">): string {
  const verdict = label.winner !== undefined ? (label.winner === "tie" ? "tie" : `${label.winner} wins`) : label.score !== undefined ? String(label.score) : "";
  return label.note ? `${verdict}${verdict ? " " : ""}✎` : verdict;
}

interface DetailProps {
  row: RowSummary;
  info: Info;
  version: number;
  digits: Record<string, number>;
  scale: Info["scale"];
  noteOpen: boolean;
  onLabel: (verdict: { score?: number; winner?: string }) => void;
  onNote: (note: string) => void;
  onOpenNote: () => void;
  onCloseNote: () => void;
}

export function Detail({ row, info, version, digits, scale, noteOpen, onLabel, onNote, onOpenNote, onCloseNote }: DetailProps) {
  const [detail, setDetail] = useState<RecordDetail | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    api.record(row.row).then((d) => live && setDetail(d), (e: unknown) => live && setError((e as Error).message));
    return () => {
      live = false;
    };
  }, [row.row, version]);
  const pairwise = info.files[0]!.mode === "pairwise";
  const mine = row.mine;
  const others = (detail?.labels ?? []).filter((l) => l.annotator !== info.annotator);
  const record = detail?.files[0]?.record;
  return (
    <div>
      <div class="labelbar">
        <span class="rowid">id {row.id} · line {row.line}</span>
        <span>your label:</span>
        {pairwise
          ? (["A", "B", "tie"] as const).map((w) => (
              <button class={mine?.winner === w ? "choice on" : "choice"} onClick={() => onLabel({ winner: w })}>{w === "tie" ? "tie (t)" : `${w} (${w.toLowerCase()})`}</button>
            ))
          : scale.scores.map((score) => {
              const key = Object.keys(digits).find((k) => digits[k] === score);
              return <button class={mine?.score === score ? "choice on" : "choice"} onClick={() => onLabel({ score })} title={key !== undefined ? `key ${key}` : "no key: click"}>{score}</button>;
            })}
        <button class="choice" onClick={onOpenNote}>note (n)</button>
        {!pairwise && <span class="scale" data-testid="scale-source">scale {scale.scores[0]}–{scale.scores[scale.scores.length - 1]}, from {scale.source}</span>}
        {others.length > 0 && <span class="others">others: {others.map((l) => `${l.annotator} ${verdictText(l)}`).join(", ")}</span>}
      </div>
      {noteOpen && <NoteEditor initial={mine?.note ?? ""} onSave={onNote} onCancel={onCloseNote} />}
      {mine?.note && !noteOpen && <p class="note">✎ {mine.note}</p>}
      {error && <p class="warning">{error}</p>}
      {detail && (
        <>
          <div class="judges" style={{ gridTemplateColumns: `repeat(${detail.files.length}, minmax(0, 1fr))` }}>
            {detail.files.map((f) => <JudgeCard file={f} pairwise={pairwise} />)}
          </div>
          {record && !record.unreadable && <RecordView record={record} />}
          {record?.unreadable !== undefined && <pre class="raw">{record.unreadable}</pre>}
          {detail.files.map((f) => f.record && !f.record.unreadable && <HowJudged file={f} several={detail.files.length > 1} />)}
        </>
      )}
    </div>
  );
}

function NoteEditor({ initial, onSave, onCancel }: { initial: string; onSave: (note: string) => void; onCancel: () => void }) {
  const [text, setText] = useState(initial);
  const box = useRef<HTMLTextAreaElement>(null);
  useEffect(() => box.current?.focus(), []);
  return (
    <form class="noteeditor" onSubmit={(e) => { e.preventDefault(); onSave(text); }}>
      <textarea
        name="note"
        ref={box}
        value={text}
        placeholder="Why? (a note makes a correction usable as training data) Enter saves, Shift+Enter a new line, Esc cancels"
        onInput={(e) => setText((e.target as HTMLTextAreaElement).value)}
        onKeyDown={(e) => {
          if (e.key === "Enter" && !e.shiftKey) {
            e.preventDefault();
            onSave(text);
          } else if (e.key === "Escape") onCancel();
        }}
      />
    </form>
  );
}

function Markdown({ text }: { text: string }) {
  // Safe by construction: markdown-it with HTML off escapes everything a record holds.
  return <div class="md" dangerouslySetInnerHTML={{ __html: renderMarkdown(text) }} />;
}

function Distribution({ dist, own }: { dist: Record<string, number>; own: string }) {
  return (
    <div class="dist" aria-label="distribution">
      {Object.entries(dist).map(([k, p]) => (
        <div class={k === own ? "bar own" : "bar"} title={`${k}: ${(p * 100).toFixed(1)}%`}>
          <span class="k">{k}</span>
          <span class="fill" style={{ width: `${Math.max(1, p * 100)}%` }} />
          <span class="p">{(p * 100).toFixed(1)}%</span>
        </div>
      ))}
    </div>
  );
}

interface SwapView {
  original?: string | null;
  swapped?: string | null;
  consistent?: boolean;
  swappedFeedback?: string;
  swappedRaw?: string;
}

function JudgeCard({ file, pairwise }: { file: RecordFile; pairwise: boolean }) {
  const r = file.record;
  if (!r) return <div class="judge missing"><h3>{file.name}</h3><p>no judgment of this record in this file</p></div>;
  if (r.unreadable !== undefined) return <div class="judge failed"><h3>{file.name}</h3><p>line {file.line} is not JSON</p></div>;
  const error = typeof r.error === "string" ? r.error : undefined;
  const verdict = pairwise ? (typeof r.winner === "string" ? r.winner : null) : typeof r.score === "number" ? r.score : null;
  const dist = (pairwise ? r.winner_distribution : r.score_distribution) as Record<string, number> | undefined;
  const judge = r.judge as { samples?: Array<{ swap?: SwapView; feedback?: string }> } | undefined;
  const swaps = (judge?.samples ?? []).map((s) => s.swap).filter((s): s is SwapView => s !== undefined && s !== null);
  return (
    <div class={error ? "judge failed" : "judge"}>
      <h3>{file.name}</h3>
      <p class="verdict" data-testid="verdict">
        {error ? <>failed: {error}</> : verdict === null ? "no verdict" : pairwise ? (verdict === "tie" ? "tie" : `${verdict} wins`) : <>score <b>{verdict}</b>{typeof r.score_expected === "number" ? ` (expected ${r.score_expected.toFixed(2)})` : ""}</>}
        {typeof r.verdict === "string" ? ` · ${r.verdict}` : ""}
      </p>
      {dist && typeof dist === "object" && <Distribution dist={dist} own={String(verdict)} />}
      {typeof r.feedback === "string" && r.feedback !== "" && <Markdown text={r.feedback} />}
      {swaps.length > 0 && (
        <div class="swaps">
          <h4>Both orders (--swap)</h4>
          {swaps.map((s, k) => (
            <div class={s.consistent ? "swap" : "swap flipped"}>
              <p>sample {k + 1}: as given → {s.original ?? "–"}, swapped → {s.swapped ?? "–"} {s.consistent ? "(consistent)" : "(the order changed the verdict)"}</p>
              <div class="orders">
                <div><h5>A then B</h5><Markdown text={judge?.samples?.[k]?.feedback ?? ""} /></div>
                <div>
                  <h5>B then A</h5>
                  {s.swappedFeedback !== undefined ? (
                    <>
                      <p class="muted" data-testid="swap-note">The judge saw B first, as its “A”: A and B below are the record's own.</p>
                      <Markdown text={inRecordTerms(s.swappedFeedback)} />
                    </>
                  ) : <p>not graded</p>}
                </div>
              </div>
            </div>
          ))}
        </div>
      )}
    </div>
  );
}

/**
 * Feedback written on the swapped order, with A and B named as in the record: the judge's
 * "Response A" was the record's B. Names of the two sides (Response/Assistant/Answer/Output A,
 * [[A]]) are swapped; a lone "A" in prose is left alone (it may be the article).
 */
export function inRecordTerms(text: string): string {
  return text
    .replace(/\b([Rr]esponse|[Aa]ssistant|[Aa]nswer|[Oo]utput|[Mm]odel|[Cc]andidate)(\s+)([AB])\b/g, (_m, word: string, space: string, side: string) => `${word}${space}${swapSide(side)}`)
    .replace(/\[\[([AB])\]\]/g, (_m, side: string) => `[[${swapSide(side)}]]`);
}

function swapSide(side: string): string {
  return side === "A" ? "B" : "A";
}

const SHOWN = ["instruction", "prompt", "question", "input", "response", "response_a", "response_b", "reference_answer", "criteria"];

function RecordView({ record }: { record: Record<string, unknown> }) {
  const messages = [record.messages, record.messages_a, record.messages_b].filter(Array.isArray) as Array<Array<{ role?: string; content?: unknown }>>;
  const pair = typeof record.response_a === "string" && typeof record.response_b === "string";
  return (
    <div class="record">
      {SHOWN.filter((f) => typeof record[f] === "string" && !(pair && (f === "response_a" || f === "response_b"))).map((f) => (
        <div class="field"><h4>{f}</h4><Markdown text={record[f] as string} /></div>
      ))}
      {pair && (
        <div class="pair">
          <div class="field"><h4>response_a</h4><Markdown text={record.response_a as string} /></div>
          <div class="field"><h4>response_b</h4><Markdown text={record.response_b as string} /></div>
        </div>
      )}
      {messages.map((conversation, k) => (
        <div class="field">
          <h4>{["messages", "messages_a", "messages_b"].filter((f) => Array.isArray(record[f]))[k]}</h4>
          {conversation.map((m) => <div class={`msg ${m.role ?? ""}`}><b>{m.role}</b><Markdown text={typeof m.content === "string" ? m.content : JSON.stringify(m.content)} /></div>)}
        </div>
      ))}
    </div>
  );
}

function HowJudged({ file, several }: { file: RecordFile; several: boolean }) {
  const r = file.record as Record<string, unknown>;
  const judge = r.judge as Record<string, unknown> | undefined;
  const samples = (judge?.samples as Array<Record<string, unknown>> | undefined) ?? [];
  const tokens = judge?.tokens as { prompt?: number; completion?: number } | undefined;
  return (
    <details class="how">
      <summary>How {several ? `${file.name} ` : ""}judged: {String(judge?.model ?? "?")} ({String(judge?.backend ?? "?")}), template {String(judge?.template ?? "?")}{tokens ? `, ${tokens.prompt ?? 0}+${tokens.completion ?? 0} tokens` : ""}{typeof judge?.latencyMs === "number" ? `, ${Math.round(judge.latencyMs)} ms` : ""}{judge?.cached ? ", from the run store" : ""}{typeof judge?.cost_usd === "number" ? `, $${judge.cost_usd.toFixed(5)}` : ""}</summary>
      {file.prompt && "messages" in file.prompt ? (
        <div class="prompt-msgs">
          <h4>prompt (rendered again from the recorded template and rubric)</h4>
          {file.prompt.messages.map((m) => <div class={`msg ${m.role}`}><b>{m.role}</b><pre>{m.content}</pre></div>)}
        </div>
      ) : file.prompt ? <p class="muted">prompt not shown: {file.prompt.error}</p> : null}
      <h4>raw output</h4>
      <pre class="raw">{typeof judge?.raw === "string" ? judge.raw : "(none)"}</pre>
      {samples.length > 0 && (
        <>
          <h4>samples ({samples.length})</h4>
          {samples.map((s, k) => (
            <div class="sample">
              <p>#{k + 1}: {s.error ? `failed: ${String(s.error)}` : s.winner !== undefined ? `winner ${String(s.winner)}` : `score ${String(s.score)}`}</p>
              {typeof s.raw === "string" && <pre class="raw">{s.raw}</pre>}
              {Array.isArray(s.failures) && s.failures.map((f: { raw?: string; error?: string }, n: number) => (
                <div class="retry"><p>retry {n + 1} failed: {f.error}</p><pre class="raw">{f.raw}</pre></div>
              ))}
            </div>
          ))}
        </>
      )}
      <h4>the whole record</h4>
      <pre class="raw">{JSON.stringify(r, null, 2)}</pre>
    </details>
  );
}
