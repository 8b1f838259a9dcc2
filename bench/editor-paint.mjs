// Editor first paint (issue 10's "first contentful paint under 1 s"): starts the daemon on its embedded
// defaults, opens the built-in editor RUNS times in Debian's headless Chromium (a fresh browser context each
// time, so nothing is cached) and reports the browser's own first-contentful-paint and load-event times:
// median and worst. A figure, not a test: CI's load would decide a timed assertion.
// Run after `npm run build`: node bench/editor-paint.mjs  (knobs: RUNS (10), CHROMIUM_PATH (/usr/bin/chromium))
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { ROOT, loadavg, startDaemon } from './targets.js';

const RUNS = Number(process.env.RUNS ?? 10);
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
if (!existsSync(CHROMIUM)) {
  console.error(`no Chromium at ${CHROMIUM}: apt-get install -y chromium, or set CHROMIUM_PATH`);
  process.exit(2);
}
const outDir = join(ROOT, '.bench-out', `editor-paint-${Date.now()}`);
mkdirSync(outDir, { recursive: true });

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const daemon = await startDaemon({ name: 'editor-paint', outDir });
const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });
try {
  const fcp = [];
  const load = [];
  for (let i = 0; i < RUNS; i++) {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(daemon.base + '/', { waitUntil: 'load' });
    await page.waitForSelector('[data-testid=login]');
    const t = await page.evaluate(() => ({
      fcp: performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? Number.NaN,
      load: performance.getEntriesByType('navigation')[0]?.loadEventEnd ?? Number.NaN,
    }));
    fcp.push(t.fcp);
    load.push(t.load);
    await context.close();
  }
  const row = (name, xs) => `| ${name} | ${Math.round(median(xs))} ms | ${Math.round(Math.max(...xs))} ms |`;
  console.log(`\neditor first paint, ${RUNS} cold loads, load average ${loadavg()}\n`);
  console.log('| measure | median | worst |\n|---|---|---|');
  console.log(row('first contentful paint', fcp));
  console.log(row('load event end', load));
} finally {
  await browser.close();
  await daemon.stop();
}
