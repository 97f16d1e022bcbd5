// The wasm package in headless Chromium: the golden queries in a test page, then the demo page
// (www/) driven like a person would. Chromium is a required runtime: without it these fail.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { cp, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium } from 'playwright-core';
import { loadNode } from '../../js/node.mjs';
import { startServer } from '../../scripts/serve.mjs';
import {
  FIXTURE,
  PKG_DIR,
  ROOT,
  assertMatchesGolden,
  caseName,
  checkPrerequisites,
  copyPkg,
  loadGolden,
  requirePath,
  requirePkg,
  tempDir,
} from './support.mjs';

const CHROMIUM = process.env.EDGEKB_CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

let golden = null;
let goldenError = null;
try {
  golden = await loadGolden();
} catch (err) {
  goldenError = err;
}

// Collects what a page reports on its own: uncaught errors and console errors/warnings.
function watchPage(page) {
  const problems = [];
  page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => {
    // Chromium logs every HTTP error status as "Failed to load resource" without the URL: those
    // are reported (with the URL) by the response listener below instead.
    if (/^Failed to load resource/.test(msg.text())) return;
    if (msg.type() === 'error' || msg.type() === 'warning') problems.push(`console.${msg.type()}: ${msg.text()}`);
  });
  page.on('response', (res) => {
    if (res.status() >= 400) problems.push(`HTTP ${res.status()} ${new URL(res.url()).pathname}`);
  });
  page.on('requestfailed', (req) => problems.push(`request failed: ${req.url()} ${req.failure()?.errorText}`));
  return problems;
}

test('prerequisites are built, and Chromium is installed', () => {
  checkPrerequisites([CHROMIUM]);
  if (goldenError) throw goldenError;
});

describe('wasm package in headless Chromium', { timeout: 180_000 }, () => {
  let browser;

  before(async () => {
    assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: Chromium is a required test runtime (apt-get install chromium)`);
    requirePkg();
    requirePath(FIXTURE);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 60_000 });
  });

  after(async () => {
    await browser?.close();
  });

  describe('golden queries in a test page', () => {
    let server;
    let page;
    let state;
    let problems;

    before(async () => {
      if (goldenError) throw goldenError;
      server = await startServer({ root: ROOT });
      page = await browser.newPage();
      problems = watchPage(page);
      await page.goto(server.url + 'tests/js/browser.html');
      await page.waitForFunction(() => window.__edgekb?.done === true, null, { timeout: 60_000 });
      state = await page.evaluate(() => window.__edgekb);
    });

    after(async () => {
      await page?.close();
      await server?.close();
    });

    test('the page loaded the package and the index without errors', () => {
      assert.equal(state.error, undefined, `page failed: ${JSON.stringify(state.error)}`);
      assert.deepEqual(problems, []);
      const stats = server.stats().byPath;
      assert.ok(stats['/pkg/edgekb_bg.wasm']?.requests >= 1, 'init() fetched pkg/edgekb_bg.wasm');
    });

    test('docCount is the same in the page as in Node', async () => {
      const { KnowledgeBase } = await loadNode();
      const kb = KnowledgeBase.fromBytes(await readFile(FIXTURE));
      assert.equal(state.docCount, kb.docCount);
      assert.equal(state.openDocCount, kb.docCount, 'KnowledgeBase.open() in the page');
    });

    test('fromBytes on truncated bytes throws an EdgekbError in the page', () => {
      const e = state.truncatedError;
      assert.ok(e, 'fromBytes accepted 16 bytes');
      assert.equal(e.isTrap, false, `trapped: ${e.message}`);
      assert.equal(e.isError, true);
      assert.equal(e.name, 'EdgekbError');
      assert.equal(typeof e.code, 'string');
    });

    test('an already-aborted signal rejects open() with an AbortError in the page', () => {
      assert.ok(state.abortError, 'open() with an aborted signal resolved');
      assert.equal(state.abortError.name, 'AbortError', JSON.stringify(state.abortError));
    });

    describe('golden cases', () => {
      for (const [i, c] of (golden?.cases ?? []).entries()) {
        test(caseName(c, i), () => {
          const entry = state.results?.[i];
          assert.ok(entry, `no result for case ${i}`);
          assert.equal(entry.query, c.query, 'the page ran the same query');
          assert.equal(entry.error, undefined, `search threw: ${JSON.stringify(entry.error)}`);
          assert.equal(entry.plain, true, 'the result is made of plain objects');
          assertMatchesGolden(entry.result, c.expect, caseName(c, i));
        });
      }
    });
  });

  describe('the demo page (www/)', () => {
    const QUERY = 'strategy game';
    let server;
    let tmp;

    before(async () => {
      requirePath(join(PKG_DIR, 'edgekb.js'));
      tmp = await tempDir('demo');
      await cp(join(ROOT, 'www'), tmp.dir, { recursive: true });
      await copyPkg(join(tmp.dir, 'pkg'));
      await mkdir(join(tmp.dir, 'kb'), { recursive: true });
      await cp(FIXTURE, join(tmp.dir, 'kb', 'sample.ekb'));
      server = await startServer({ root: tmp.dir });
    });

    after(async () => {
      await server?.close();
      await tmp?.cleanup();
    });

    test(`typing "${QUERY}" shows the same first hit as Node`, async () => {
      const { KnowledgeBase } = await loadNode();
      const kb = KnowledgeBase.fromBytes(await readFile(FIXTURE));
      const expected = kb.search(QUERY, { limit: 20 });
      assert.ok(expected.hits.length > 0, `"${QUERY}" finds nothing in the fixture`);

      const page = await browser.newPage();
      const problems = watchPage(page);
      try {
        await page.goto(server.url);
        // The page marks itself ready (and enables the input) once the engine and the index are
        // loaded; pressSequentially does not wait for an enabled input by itself.
        await page.locator('html[data-state="ready"]').waitFor({ state: 'attached', timeout: 30_000 });
        await page.locator('#q').pressSequentially(QUERY, { delay: 15 });
        assert.equal(await page.locator('#q').inputValue(), QUERY);
        // #results carries the query it shows, so this waits for the final (debounced) search.
        const first = page.locator(`#results[data-query="${QUERY}"] li.hit`).first();
        await first.waitFor({ timeout: 15_000 });

        const rendered = await page.$$eval('#results li.hit', (items) =>
          items.map((li) => ({
            id: li.querySelector('.id')?.textContent,
            title: li.querySelector('.title')?.textContent,
            href: li.querySelector('a.title')?.getAttribute('href') ?? null,
            score: li.querySelector('.score')?.textContent,
          })),
        );
        assert.equal(rendered.length, expected.hits.length, 'number of rendered hits');
        assert.equal(rendered[0].id, expected.hits[0].id, 'first hit id');
        assert.equal(rendered[0].title, expected.hits[0].title || expected.hits[0].id, 'first hit title');
        assert.deepEqual(
          rendered.map((r) => r.id),
          expected.hits.map((h) => h.id),
          'all hits in order',
        );

        const status = await page.locator('#status').textContent();
        assert.match(status, /^\d[\d,]* results? in \d+(\.\d)? ms/, `status line: ${status}`);
        assert.ok(status.startsWith(`${expected.total.toLocaleString('en')} result`), `status shows the total ${expected.total}: ${status}`);
        assert.deepEqual(problems, []);
      } finally {
        await page.close();
      }
    });

    test('a missing index shows a load error in the status line', async () => {
      const page = await browser.newPage();
      const problems = watchPage(page);
      server.setFault(({ pathname }) => (pathname === '/kb/sample.ekb' ? { status: 404, body: 'gone' } : undefined));
      try {
        await page.goto(server.url);
        await page.locator('html[data-state="error"]').waitFor({ state: 'attached', timeout: 30_000 });
        const status = page.locator('#status');
        assert.match(await status.textContent(), /Could not load the knowledge base/);
        assert.equal(await status.getAttribute('class'), 'error');
        assert.equal(await page.locator('#q').isDisabled(), true);
        // the 404 itself is the only console noise allowed
        assert.deepEqual(problems, ['HTTP 404 /kb/sample.ekb']);
      } finally {
        server.setFault(null);
        await page.close();
      }
    });
  });
});
