// Copies the browser builds of the front-end packages from node_modules into the Python
// package's static folder (git-ignored), where the app serves them at /static/vendor/.
// Run by scripts/_setup after `npm ci`; `stamp` records which lockfile produced the copy.
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const target = join(here, "..", "src", "radiator", "web", "ui", "static", "vendor");
const files = {
  "uplot/dist/uPlot.iife.min.js": "uPlot.iife.min.js",
  "uplot/dist/uPlot.min.css": "uPlot.min.css",
  "uplot/LICENSE": "uPlot.LICENSE.txt",
  "htmx.org/dist/htmx.min.js": "htmx.min.js",
  "htmx.org/LICENSE": "htmx.LICENSE.txt",
};

rmSync(target, { recursive: true, force: true });
mkdirSync(target, { recursive: true });
for (const [source, name] of Object.entries(files)) {
  copyFileSync(join(here, "node_modules", source), join(target, name));
}
const stamp = process.argv[2] || "";
writeFileSync(join(target, ".stamp"), stamp + "\n");
const lock = JSON.parse(readFileSync(join(here, "package-lock.json"), "utf8"));
const versions = Object.entries(lock.packages)
  .filter(([path]) => path.startsWith("node_modules/"))
  .map(([path, info]) => `${path.slice("node_modules/".length)} ${info.version}`);
console.log(`vendored into ${target}: ${versions.join(", ")}`);
