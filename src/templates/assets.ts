import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The package's assets/ folder: the nearest one above this module, which sits at src/templates/
 * (tests), dist/templates/ (compiled) or build/src/templates/ (benchmarks).
 */
function findAssets(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = path.join(dir, "assets");
    if (existsSync(path.join(candidate, "rubrics"))) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error("critic: the package's assets/ folder was not found");
    dir = parent;
  }
}

export const ASSETS_DIR = findAssets();
export const RUBRICS_DIR = path.join(ASSETS_DIR, "rubrics");
export const TEMPLATES_DIR = path.join(ASSETS_DIR, "templates");
