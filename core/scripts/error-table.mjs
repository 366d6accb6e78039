// Writes the error catalogue (core/src/error-catalogue.ts, through core/dist) into CONTRIBUTING.md
// between its error-table markers. Run `npm run build` first; `npm run errors:table` does both.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { errorCatalogueTable } from '../dist/errors.js';

const file = fileURLToPath(new URL('../../CONTRIBUTING.md', import.meta.url));
const START = '<!-- error-table:start -->';
const END = '<!-- error-table:end -->';
const text = readFileSync(file, 'utf8');
const from = text.indexOf(START);
const to = text.indexOf(END);
if (from < 0 || to < from) {
  console.error(`CONTRIBUTING.md has no ${START} … ${END} section to write the table into`);
  process.exit(1);
}
writeFileSync(file, `${text.slice(0, from + START.length)}\n${errorCatalogueTable()}\n${text.slice(to)}`);
console.log(`CONTRIBUTING.md: error table written (${errorCatalogueTable().split('\n').length - 2} codes)`);
