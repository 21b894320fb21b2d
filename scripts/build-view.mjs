// Bundles critic view's front end (src/view/app) into dist/view-app: index.html, app.js, app.css.
// Everything the page needs is in those three files: no CDN, no fonts, works offline.
import { build } from "esbuild";
import { copyFileSync, mkdirSync } from "node:fs";

const out = new URL("../dist/view-app/", import.meta.url);
mkdirSync(out, { recursive: true });
await build({
  entryPoints: { app: new URL("../src/view/app/main.tsx", import.meta.url).pathname },
  bundle: true,
  format: "esm",
  target: "es2022",
  minify: true,
  sourcemap: false,
  jsx: "automatic",
  jsxImportSource: "preact",
  outdir: out.pathname,
  logLevel: "warning",
});
copyFileSync(new URL("../src/view/app/style.css", import.meta.url), new URL("app.css", out));
copyFileSync(new URL("../src/view/app/index.html", import.meta.url), new URL("index.html", out));
