import path from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The package's assets/ folder. This module sits at src/templates/ (tests) or dist/templates/
 * (compiled); both are two levels below the package root.
 */
export const ASSETS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../assets");
export const RUBRICS_DIR = path.join(ASSETS_DIR, "rubrics");
export const TEMPLATES_DIR = path.join(ASSETS_DIR, "templates");
