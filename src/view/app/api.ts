import type { LabelView, RowSummary, VerdictSummary } from "../types.js";

export type { RowSummary };
export type HumanLabel = LabelView;
export type Verdict = VerdictSummary;

/** The view's API client: JSON over fetch, with the key (when the server wants one) as a bearer token. */
export interface FileInfo {
  name: string;
  /** The shortest name that tells the files apart (table columns). */
  short: string;
  file: string;
  rows: number;
  mode: "absolute" | "pairwise";
  hasDistribution: boolean;
  duplicates: number;
  unreadable: number;
  categories: Array<{ name: string; values: string[] }>;
  matched: number;
}

export interface Labelled {
  mine: number;
  total: number;
  byAnnotator: Record<string, number>;
}

export interface Info {
  files: FileInfo[];
  alignedBy: "id" | "row";
  generation: number;
  scale: { scores: number[]; source: string; warning?: string };
  warnings: string[];
  measureCommand: string[];
  annotator: string;
  labelsFile: string;
  labelProblems: Array<{ line: number; reason: string }>;
  labelled: Labelled;
  orders: string[];
}

export interface ChatMessage {
  role: string;
  content: string;
}

export interface RecordFile {
  name: string;
  row: number | null;
  line: number | null;
  record: (Record<string, unknown> & { unreadable?: string }) | null;
  prompt?: { messages: ChatMessage[] } | { error: string } | null;
}

export interface RecordDetail {
  row: number;
  id: string;
  files: RecordFile[];
  labels: HumanLabel[];
}

export interface Agreement {
  names: string[];
  pairs: Array<Record<string, unknown> & { a: string; b: string }>;
  fleiss: { value: number | null; reason?: string; items: number; raters: number };
}

export class ApiError extends Error {
  constructor(message: string, readonly status: number) {
    super(message);
  }
}

const KEY = "critic-view-key";

export function setKey(key: string): void {
  sessionStorage.setItem(KEY, key);
}

async function call<T>(path: string, init: RequestInit = {}): Promise<T> {
  const key = sessionStorage.getItem(KEY);
  const headers: Record<string, string> = { ...(init.headers as Record<string, string> | undefined) };
  if (key) headers.Authorization = `Bearer ${key}`;
  const response = await fetch(path, { ...init, headers });
  const body = (await response.json().catch(() => ({ error: `${response.status} ${response.statusText}` }))) as T & { error?: string };
  if (!response.ok) throw new ApiError(body.error ?? `${response.status} ${response.statusText}`, response.status);
  return body;
}

export const api = {
  info: () => call<Info>("/api/info"),
  rows: (params: URLSearchParams) => call<{ total: number; offset: number; generation: number; next?: number; rows: RowSummary[] }>(`/api/rows?${params}`),
  record: (row: number) => call<RecordDetail>(`/api/record/${row}`),
  label: (body: { row: number; id: string; generation: number; score?: number | null; winner?: string | null; note?: string }) =>
    call<{ label: HumanLabel; labelled: Labelled }>("/api/labels", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) }),
  agreement: () => call<{ agreement: Agreement | null }>("/api/agreement"),
  measure: () => call<{ html: string; notes: string[] }>("/api/measure"),
};
