/**
 * The README's "A first workflow" section, run as written against a real daemon: every command of its
 * sh block is executed by bash (curl and `npm run -s anchorflow`), and each `# → <status> <json>` line
 * under a command is checked against what it answered (`…` stands for any value, `,…` for more
 * fields). `X=…` lines take the `id` of the previous answer. If the README and the program drift
 * apart, this fails.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { adminKey } from './support/cli.js';
import { REPO_ROOT, startDaemon, type Daemon } from './support/daemon.js';

interface Step {
  command: string;
  /** `# → <status> <json>` under it */
  expect?: { status: number; body: unknown };
  /** `NAME=…` after it: NAME takes the answer's id */
  assigns?: string;
}

/** The sh block of the section, cut into commands (a command ends where quotes balance and no `\` follows). */
export function tourSteps(readme: string): Step[] {
  const section = readme.split(/^## A first workflow$/m)[1]?.split(/^## /m)[0];
  if (!section) throw new Error('README.md has no "## A first workflow" section');
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1];
  if (!block) throw new Error('the "A first workflow" section has no sh block');
  const steps: Step[] = [];
  let current = '';
  for (const line of block.split('\n')) {
    if (current === '') {
      const expectation = /^# → (\d+) (.*)$/.exec(line);
      if (expectation) {
        steps[steps.length - 1]!.expect = { status: Number(expectation[1]), body: looseJson(expectation[2]!) };
        continue;
      }
      const assign = /^([A-Z_]+)=…/.exec(line);
      if (assign) {
        steps[steps.length - 1]!.assigns = assign[1]!;
        continue;
      }
      if (line.trim() === '' || line.startsWith('#')) continue;
    }
    current += (current ? '\n' : '') + line;
    const quotes = (current.match(/'/g) ?? []).length;
    if (quotes % 2 === 0 && !line.endsWith('\\')) {
      steps.push({ command: current });
      current = '';
    }
  }
  return steps;
}

const ANY = Symbol('any');

/** The README's abbreviated JSON: `"…"` and `[…]` are any value, `,…` drops the rest of an object. */
function looseJson(text: string): unknown {
  const json = text.replace(/\[…\]/g, '"…"').replace(/,…\}/g, '}');
  return JSON.parse(json, (_k, v) => (v === '…' ? ANY : v));
}

function matches(actual: unknown, expected: unknown, where = '$'): string[] {
  if (expected === ANY) return actual === undefined ? [`${where} is missing`] : [];
  if (expected !== null && typeof expected === 'object' && !Array.isArray(expected)) {
    if (actual === null || typeof actual !== 'object') return [`${where} is not an object: ${JSON.stringify(actual)}`];
    return Object.entries(expected).flatMap(([k, v]) => matches((actual as Record<string, unknown>)[k], v, `${where}.${k}`));
  }
  return JSON.stringify(actual) === JSON.stringify(expected) ? [] : [`${where}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`];
}

function bash(command: string, env: Record<string, string>, cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', command], { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const ADMIN = adminKey();
let daemon: Daemon;
let cwd: string;

beforeAll(async () => {
  daemon = await startDaemon({ name: 'readme', env: { ANCHORFLOW_ADMIN_KEY: ADMIN } });
  // inside the repository: `npm run` finds package.json from here (the README's commands run from a clone)
  mkdirSync(path.join(REPO_ROOT, '.test-tmp'), { recursive: true });
  cwd = mkdtempSync(path.join(REPO_ROOT, '.test-tmp', 'readme-'));
});

afterAll(async () => {
  await daemon?.stop().catch(() => daemon.kill());
  if (cwd) rmSync(cwd, { recursive: true, force: true });
});

describe('README quick tour', () => {
  it('runs every command of "A first workflow" as written and gets the answers it shows', async () => {
    const steps = tourSteps(readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8'));
    expect(steps.filter((s) => s.expect).length).toBeGreaterThanOrEqual(5);
    const env: Record<string, string> = { ANCHORFLOW_URL: daemon.url, ANCHORFLOW_API_KEY: ADMIN };
    for (const step of steps) {
      const curl = step.command.startsWith('curl ');
      // a read ("a moment later") may be asked again until the execution got there, within a deadline
      const deadline = Date.now() + (step.command.includes('a moment later') ? 10_000 : 0);
      for (;;) {
        // curl prints only the body: have it add the status on a last line
        // (before a trailing comment)
        const run = await bash(curl ? step.command.replace(/(\s+#[^'"\n]*)?$/, (comment) => ` -w '\\n%{http_code}'${comment}`) : step.command, env, cwd);
        let status = run.code;
        let body = run.stdout;
        if (curl) {
          const cut = run.stdout.lastIndexOf('\n');
          status = Number(run.stdout.slice(cut + 1));
          body = run.stdout.slice(0, cut);
        }
        const context = `\n$ ${step.command}\n${run.stdout}${run.stderr}`;
        if (!step.expect) {
          expect({ ok: run.code === 0, context }).toEqual({ ok: true, context });
          break;
        }
        let parsed: Record<string, unknown>;
        try {
          parsed = JSON.parse(body.trim() || 'null') as Record<string, unknown>;
        } catch {
          throw new Error(`not JSON: ${context}`);
        }
        const mismatches = [...(status === step.expect.status ? [] : [`status ${status}, README says ${step.expect.status}`]), ...matches(parsed, step.expect.body)];
        if (mismatches.length && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 200));
          continue;
        }
        expect({ mismatches, context }).toEqual({ mismatches: [], context });
        if (step.assigns) env[step.assigns] = String(parsed.id);
        break;
      }
    }
    // the export wrote a clean, importable file (no npm banner)
    expect(JSON.parse(readFileSync(path.join(cwd, 'invoice.workflow.json'), 'utf8'))).toMatchObject({ name: 'Invoice → decide → notify' });
  });
});
