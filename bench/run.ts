/**
 * `npm run bench`: every bench/*.bench.ts in turn; each figure is printed with the baseline
 * measured in the same run, as a ratio. `npm run bench -- core` runs only matching files.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { formatRow, type BenchRow } from "./report.js";

const dir = import.meta.dirname;
const filter = process.argv.slice(2);
const files = readdirSync(dir)
  .filter((f) => f.endsWith(".bench.ts"))
  .filter((f) => filter.length === 0 || filter.some((word) => f.includes(word)))
  .sort();

const rows: BenchRow[] = [];
for (const file of files) {
  console.log(`\n## ${file}`);
  const mod = (await import(pathToFileURL(join(dir, file)).href)) as { run(report: (row: BenchRow) => void): Promise<void> };
  await mod.run((row) => {
    rows.push(row);
    console.log(formatRow(row));
  });
}
console.log(`\n${rows.length} figures from ${files.length} benchmark files`);
process.exit(0);
