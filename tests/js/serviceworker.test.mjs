// The demo's Service Worker (www/sw.js) and hit links (www/app.mjs) in headless Chromium, against
// hostile data: a manifest naming another host or a file outside its directory must not make
// the worker fetch or cache anything; what the worker stores stays within its byte budget; a
// hit without a URL is not a link to the page itself.
import assert from 'node:assert/strict';
import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium } from 'playwright-core';
import { startServer } from '../../scripts/serve.mjs';
import {
  CHROMIUM,
  CHROMIUM_ARGS,
  CLI,
  CUT_ARGS,
  LAZY_DISPLAY_ARGS,
  ROOT,
  buildSplit,
  checkPrerequisites,
  copyPkg,
  splitFiles,
  tempDir,
  waitFor,
  writeDocs,
} from './support.mjs';

// Documents whose hits must not link anywhere.
const NO_LINK = [
  { id: 'nolink-empty', title: 'quokkaflux without a link', body: 'quokkaflux', url: '' },
  { id: 'nolink-blank', title: 'quokkaflux with a blank link', body: 'quokkaflux', url: '   ' },
  { id: 'nolink-fragment', title: 'quokkaflux with a fragment link', body: 'quokkaflux', url: '#top' },
  { id: 'link-ok', title: 'quokkaflux with a real link', body: 'quokkaflux', url: 'https://kb.example/q' },
];
const SECRET = 'secret.0123456789abcdef.bin';

test('prerequisites are built, and Chromium is installed', () => {
  checkPrerequisites([CHROMIUM, CLI]);
});

describe('the Service Worker and the page against hostile data', { timeout: 180_000 }, () => {
  let tmp;
  let server;
  let evil;
  let browser;
  let sample;

  before(async () => {
    tmp = await tempDir('sw');
    await cp(join(ROOT, 'www'), tmp.dir, { recursive: true });
    await copyPkg(join(tmp.dir, 'pkg'));
    const docs = await writeDocs(join(tmp.dir, 'docs.jsonl'), NO_LINK);
    sample = await buildSplit(docs, join(tmp.dir, 'kb', 'sample'), [...CUT_ARGS, ...LAZY_DISPLAY_ARGS]);
    // Another origin (another port of 127.0.0.1), standing for https://evil.example.
    const evilRoot = join(tmp.dir, 'evil-root');
    await mkdir(evilRoot);
    await writeFile(join(evilRoot, 'x.bin'), 'evil\n');
    evil = await startServer({ root: evilRoot });
    // A file outside the hostile manifests' directories, which `../` names would reach.
    await writeFile(join(tmp.dir, 'kb', SECRET), 'not to be fetched\n');
    const hostile = {
      'evil-host': { dictionary: `${evil.url}x.bin`, postings: 'https://evil.example/x' },
      'evil-parent': { dictionary: `../${SECRET}`, postings: `../../kb/${SECRET}` },
      'evil-absolute': { dictionary: `/kb/${SECRET}`, display: `//evil.example/x` },
    };
    for (const [dir, names] of Object.entries(hostile)) {
      const m = structuredClone(sample);
      for (const [key, name] of Object.entries(names)) m[key].name = name;
      await mkdir(join(tmp.dir, 'kb', dir), { recursive: true });
      await writeFile(join(tmp.dir, 'kb', dir, 'manifest.json'), JSON.stringify(m));
    }
    // A valid copy: the control that shows the worker did process manifests.
    await cp(join(tmp.dir, 'kb', 'sample'), join(tmp.dir, 'kb', 'copy'), { recursive: true });
    server = await startServer({ root: tmp.dir });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 60_000 });
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    await evil?.close();
    await tmp?.cleanup();
  });

  const cachedUrls = (page) => page.evaluate(async () => (await (await caches.open('edgekb-data')).keys()).map((r) => r.url));

  async function controlledPage(context, path = '') {
    const page = await context.newPage();
    await page.goto(server.url + path);
    await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 15_000 });
    return page;
  }

  test('a manifest naming another host or a file outside its directory makes the worker fetch and cache nothing', async () => {
    const context = await browser.newContext();
    try {
      const page = await controlledPage(context);
      server.resetStats();
      evil.resetStats();
      // The page (or a script injected into it) asks for the hostile manifests; the worker sees
      // them as it sees the real one. Then the valid copy, as a control.
      const statuses = await page.evaluate(async () => {
        const out = [];
        for (const dir of ['evil-host', 'evil-parent', 'evil-absolute', 'copy']) {
          out.push((await fetch(`./kb/${dir}/manifest.json`)).status);
        }
        return out;
      });
      assert.deepEqual(statuses, [200, 200, 200, 200], 'the manifests reach the page unchanged');
      const copyDictionary = new URL(`kb/copy/${sample.dictionary.name}`, server.url).href;
      await page.waitForFunction(async (url) => Boolean(await (await caches.open('edgekb-data')).match(url)), copyDictionary, {
        timeout: 15_000,
        polling: 50,
      });
      await page.waitForTimeout(500);
      assert.equal(evil.stats().requests, 0, 'requests that reached the other origin');
      const log = server.stats().log.map((l) => l.pathname);
      assert.deepEqual(
        log.filter((p) => p.includes('secret')),
        [],
        'requests the hostile manifests caused on this origin',
      );
      const cached = await cachedUrls(page);
      const outside = cached.filter((u) => /evil|secret/.test(u));
      assert.deepEqual(outside, [], 'cached entries from the hostile manifests');
      assert.ok(cached.includes(new URL('kb/copy/manifest.json', server.url).href), `the control manifest is cached: ${cached}`);
    } finally {
      await context.close();
    }
  });

  test('what the worker stores stays within its budget, and a file past it is not downloaded', async () => {
    const files = Object.values(splitFiles(sample)).map((name) => ({ name, size: [sample.dictionary, sample.postings, sample.positions, sample.store, sample.terms, sample.display, sample.norms].find((e) => e.name === name).size }));
    const manifestBytes = (await readFile(join(tmp.dir, 'kb', 'sample', 'manifest.json'))).length;
    const total = files.reduce((n, f) => n + f.size, 0) + manifestBytes;
    const budget = Math.floor(total / 2);
    // A page of its own registers the worker with the lower budget.
    await writeFile(
      join(tmp.dir, 'budget.html'),
      `<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><script>navigator.serviceWorker.register('./sw.js?budget=${budget}');</script>\n`,
    );
    const context = await browser.newContext();
    try {
      const page = await controlledPage(context, 'budget.html');
      // Ranges of every file, as searches would ask: each one the worker may fill in the background.
      server.resetStats();
      await page.evaluate(async (names) => {
        for (const name of names) {
          const r = await fetch(`./kb/sample/${name}`, { headers: { Range: 'bytes=0-99' } });
          await r.arrayBuffer();
        }
      }, files.map((f) => f.name));
      // The background fills run one at a time: wait until the cache stops changing.
      let previous = '';
      await waitFor(
        async () => {
          const now = (await cachedUrls(page)).sort().join(' ');
          const stable = now === previous;
          previous = now;
          return stable;
        },
        { timeoutMs: 15_000, intervalMs: 500, what: 'the worker to finish filling' },
      );
      const held = await page.evaluate(async () => {
        const cache = await caches.open('edgekb-data');
        let n = 0;
        for (const r of await cache.keys()) n += Number((await cache.match(r)).headers.get('Content-Length'));
        return n;
      });
      assert.ok(held > 0 && held <= budget, `the worker holds ${held} bytes, budget ${budget}`);
      const cached = new Set(await cachedUrls(page));
      const missing = files.filter((f) => !cached.has(new URL(`kb/sample/${f.name}`, server.url).href));
      assert.ok(missing.length > 0, 'some file did not fit');
      const whole = server.stats().log.filter((l) => !l.range && l.pathname.endsWith('.bin')).map((l) => l.pathname.split('/').pop());
      for (const f of missing) assert.ok(!whole.includes(f.name), `${f.name} was downloaded whole although it does not fit`);
    } finally {
      await context.close();
    }
  });

  test('a hit without a URL is no link to the page itself', async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(server.url);
      await page.locator('html[data-state="ready"]').waitFor({ state: 'attached', timeout: 30_000 });
      await page.locator('#q').pressSequentially('quokkaflux', { delay: 15 });
      await page.locator('#results[data-query="quokkaflux"] li.hit').first().waitFor({ timeout: 15_000 });
      const hits = await page.$$eval('#results li.hit', (items) =>
        items.map((li) => [li.dataset.id, li.querySelector('a.title')?.getAttribute('href') ?? null]),
      );
      assert.deepEqual(
        hits.sort(),
        [
          ['link-ok', 'https://kb.example/q'],
          ['nolink-blank', null],
          ['nolink-empty', null],
          ['nolink-fragment', null],
        ],
      );
    } finally {
      await context.close();
    }
  });
});
