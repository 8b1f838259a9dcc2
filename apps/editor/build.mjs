// Builds the editor into dist/ with Vite, unless its sources are unchanged since the last build
// (a content hash of src/, index.html, the shared ops file and the lock is kept in dist/.source-hash).
import { createHash } from 'node:crypto';
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
