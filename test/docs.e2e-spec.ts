/**
 * The project's documents stand alone in a clone: every relative link in a Markdown file resolves to a
 * file of the repository, and none points outside it (the design notes the project grew from are not
 * part of a clone).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { REPO_ROOT } from './support/daemon.js';

const SKIP = new Set(['node_modules', 'dist', '.git', 'data', '.test-tmp', '.bench-out', 'coverage']);

function markdownFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    if (SKIP.has(name)) continue;
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) markdownFiles(full, out);
    else if (name.endsWith('.md')) out.push(full);
  }
  return out;
}

describe('documentation', () => {
  const files = markdownFiles(REPO_ROOT);

  it('finds the documents (README, DEVELOPERS, docs/architecture.md)', () => {
    const names = files.map((f) => path.relative(REPO_ROOT, f));
    expect(names).toEqual(expect.arrayContaining(['README.md', 'DEVELOPERS.md', 'docs/architecture.md', 'config/README.md']));
  });

  it('every relative link resolves inside the repository, and nothing points to ../shared', () => {
    const broken: string[] = [];
    for (const file of files) {
      const text = readFileSync(file, 'utf8');
      const rel = path.relative(REPO_ROOT, file);
      if (text.includes('../shared')) broken.push(`${rel}: mentions ../shared (not in a clone)`);
      for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^(https?:|mailto:|#)/.test(target!)) continue;
        const local = decodeURIComponent(target!.split('#')[0]!);
        const resolved = path.resolve(path.dirname(file), local);
        if (!resolved.startsWith(REPO_ROOT + path.sep) && resolved !== REPO_ROOT) broken.push(`${rel}: ${target} leaves the repository`);
        else if (!existsSync(resolved)) broken.push(`${rel}: ${target} does not exist`);
      }
    }
    expect(broken).toEqual([]);
  });
});
