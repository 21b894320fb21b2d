import { accessSync, constants, existsSync, statSync } from "node:fs";
import { dirname } from "node:path";

/** What a file-system error code means, in words a person can act on. */
const MEANINGS: Record<string, string> = {
  ENOSPC: "the disk is full",
  EDQUOT: "the disk quota is used up",
  EROFS: "the file system is read-only",
  EACCES: "permission denied",
  EPERM: "permission denied",
  ENOENT: "no such file or folder",
  ENOTDIR: "a part of the path is a file, not a folder",
  EEXIST: "a file already exists where a folder is needed",
  EISDIR: "it is a folder, not a file",
  EIO: "the device reported an input/output error",
  EMFILE: "too many open files",
  SQLITE_FULL: "the disk is full",
  SQLITE_READONLY: "it is read-only (check the permissions of the file and its folder)",
  SQLITE_CANTOPEN: "the file cannot be opened (does its folder exist, and may critic write there?)",
  SQLITE_NOTADB: "it is not a SQLite database",
  SQLITE_CORRUPT: "the database is damaged",
  SQLITE_IOERR: "the device reported an input/output error",
  SQLITE_PERM: "permission denied",
};

/**
 * "cannot write out.jsonl: the disk is full (ENOSPC)": the path, what was being done and what
 * went wrong, for an error from fs (which names only the system call) or SQLite.
 */
export function fileErrorMessage(action: string, path: string, error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  // SQLite's extended codes (SQLITE_IOERR_WRITE, SQLITE_READONLY_DBMOVED) mean what their base code means.
  const meaning = code ? MEANINGS[code] ?? MEANINGS[code.split("_").slice(0, 2).join("_")] : undefined;
  const detail = meaning ? `${meaning} (${code})` : error instanceof Error ? error.message : String(error);
  return `cannot ${action} ${path}: ${detail}`;
}

/**
 * Whether `path` may be written: an existing file and its folder (SQLite writes -wal and -shm files
 * beside a database), or else the nearest existing folder above it.
 */
export function writable(path: string): boolean {
  let at = path;
  while (!existsSync(at) && dirname(at) !== at) at = dirname(at);
  if (!canWrite(at)) return false;
  return at === path && statSync(path).isFile() ? canWrite(dirname(path)) : true;
}

function canWrite(path: string): boolean {
  try {
    accessSync(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}
