// Builds the editor into dist/ with Vite, unless its sources are unchanged since the last build
// (a content hash of src/, index.html, the shared ops file and the lock is kept in dist/.source-hash).
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const inputs = [path.join(here, 'src'), path.join(here, 'index.html'), path.join(here, 'vite.config.ts'), path.join(here, 'package.json'), path.join(here, '../daemon/src/editor/workflow-ops.ts')];

function files(p) {
  if (!existsSync(p)) return [];
  if (statSync(p).isDirectory()) return readdirSync(p).sort().flatMap((f) => files(path.join(p, f)));
  return [p];
}

const hash = createHash('sha256');
for (const f of inputs.flatMap(files)) hash.update(path.relative(here, f)).update(readFileSync(f));
const digest = hash.digest('hex');
const stamp = path.join(here, 'dist/.source-hash');
if (!process.argv.includes('--force') && existsSync(stamp) && readFileSync(stamp, 'utf8') === digest && existsSync(path.join(here, 'dist/index.html'))) {
  console.log('editor: dist/ is up to date');
} else {
  const { build } = await import('vite');
  const t0 = Date.now();
  await build({ configFile: path.join(here, 'vite.config.ts') });
  writeFileSync(stamp, digest);
  console.log(`editor: built dist/ in ${Date.now() - t0} ms`);
}

// the budget: under 350 KB gzipped, everything the page loads
const BUDGET = 350 * 1024;
const assets = files(path.join(here, 'dist')).filter((f) => /\.(js|css|html)$/.test(f));
const gz = assets.reduce((sum, f) => sum + gzipSync(readFileSync(f), { level: 9 }).length, 0);
if (gz > BUDGET) {
  console.error(`editor: the bundle is ${(gz / 1024).toFixed(1)} KB gzipped, over the ${BUDGET / 1024} KB budget`);
  process.exit(1);
}
if (!process.argv.includes('--quiet')) console.log(`editor: ${(gz / 1024).toFixed(1)} KB gzipped (budget ${BUDGET / 1024} KB)`);
