// The wasm package in headless Chromium: the golden queries in a test page (single-file and split
// indexes), split-index behaviour driven with page.evaluate (fetch plan, aborts, retries), then
// the demo page (www/) driven like a person would, online and offline (its Service Worker).
// Chromium is a required runtime: without it these fail.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { cp, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium } from 'playwright-core';
import { loadNode } from '../../js/node.mjs';
import { startServer } from '../../scripts/serve.mjs';
import {
  CHROMIUM,
  CHROMIUM_ARGS,
  CLI,
  DOCS_JSONL,
  FIXTURE,
  FIXTURE_URL_PATH,
  PKG_DIR,
  ROOT,
  assertMatchesGolden,
  buildSplit,
  CUT_ARGS,
  LAZY_DISPLAY_ARGS,
  caseName,
  caseOptions,
  checkPrerequisites,
  copyPkg,
  tryLoadGolden,
  requestsFor,
  requirePath,
  requirePkg,
  splitFiles,
  tempDir,
  waitFor,
} from './support.mjs';


const { golden, goldenError } = await tryLoadGolden();

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
  checkPrerequisites([CHROMIUM, CLI]);
  if (goldenError) throw goldenError;
});

describe('wasm package in headless Chromium', { timeout: 180_000 }, () => {
  let browser;
  let splitTmp;
  let splitDir;
  let cutDir;
  let files;

  before(async () => {
    assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: Chromium is a required test runtime (apt-get install chromium)`);
    requirePkg();
    requirePath(FIXTURE);
    requirePath(CLI);
    splitTmp = await tempDir('chromium-split');
    splitDir = join(splitTmp.dir, 'split');
    files = splitFiles(await buildSplit(DOCS_JSONL, splitDir, LAZY_DISPLAY_ARGS));
    cutDir = join(splitTmp.dir, 'cut');
    await buildSplit(DOCS_JSONL, cutDir, CUT_ARGS);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 60_000 });
  });

  after(async () => {
    await browser?.close();
    await splitTmp?.cleanup();
  });

  // The golden test page (tests/js/browser.html) run over the split index in `dir`, served at
  // `mount`: the server, the page, what the page recorded, and the page's errors.
  async function goldenPage(mount, dir) {
    if (goldenError) throw goldenError;
    const server = await startServer({ root: ROOT, mounts: { [mount]: dir } });
    const page = await browser.newPage();
    const problems = watchPage(page);
    await page.goto(`${server.url}tests/js/browser.html?fixture=${FIXTURE_URL_PATH}&split=${mount}manifest.json`);
    await page.waitForFunction(() => window.__edgekb?.done === true, null, { timeout: 60_000 });
    const state = await page.evaluate(() => window.__edgekb);
    return { server, page, state, problems };
  }

  // Registers the hooks that load goldenPage(mount, dir()) before a describe's tests and close
  // it after; its fields are filled in by then.
  function useGoldenPage(mount, dir) {
    const ctx = {};
    before(async () => {
      Object.assign(ctx, await goldenPage(mount, dir()));
    });
    after(async () => {
      await ctx.page?.close();
      await ctx.server?.close();
    });
    return ctx;
  }

  // One test per golden case, against what the page recorded for the split index it opened.
  function splitGoldenCases(ctx) {
    for (const [i, c] of (golden?.cases ?? []).entries()) {
      test(caseName(c, i), () => {
        const entry = ctx.state.splitResults?.[i];
        assert.ok(entry, `no split result for case ${i}`);
        assert.equal(entry.query, c.query, 'the page ran the same query');
        assert.equal(entry.error, undefined, `search threw: ${JSON.stringify(entry.error)}`);
        assert.equal(entry.plain, true, 'the result is made of plain objects');
        assertMatchesGolden(entry.result, c.expect, caseName(c, i));
      });
    }
  }

  describe('golden queries over a cut dictionary in a test page', () => {
    const ctx = useGoldenPage('/cut/', () => cutDir);

    test('the cut index opened in the page, and parts came in ranges', () => {
      assert.equal(ctx.state.splitError, undefined, `open() failed: ${JSON.stringify(ctx.state.splitError)}`);
      assert.deepEqual(ctx.problems, []);
      const log = ctx.server.stats().log.filter((l) => l.pathname.startsWith('/cut/terms.'));
      assert.ok(log.length > 0, 'no dictionary part was fetched');
      for (const l of log) assert.match(l.range ?? '', /^bytes=\d+-\d+$/);
    });
    splitGoldenCases(ctx);
  });

  describe('golden queries in a test page', () => {
    const ctx = useGoldenPage('/split/', () => splitDir);

    test('the page loaded the package and the index without errors', () => {
      assert.equal(ctx.state.error, undefined, `page failed: ${JSON.stringify(ctx.state.error)}`);
      assert.deepEqual(ctx.problems, []);
      const stats = ctx.server.stats().byPath;
      assert.ok(stats['/pkg/edgekb_bg.wasm']?.requests >= 1, 'init() fetched pkg/edgekb_bg.wasm');
    });

    test('docCount is the same in the page as in Node', async () => {
      const { KnowledgeBase } = await loadNode();
      const kb = KnowledgeBase.fromBytes(await readFile(FIXTURE));
      assert.equal(ctx.state.docCount, kb.docCount);
      assert.equal(ctx.state.openDocCount, kb.docCount, 'KnowledgeBase.open() in the page');
    });

    test('fromBytes on truncated bytes throws an EdgekbError in the page', () => {
      const e = ctx.state.truncatedError;
      assert.ok(e, 'fromBytes accepted 16 bytes');
      assert.equal(e.isTrap, false, `trapped: ${e.message}`);
      assert.equal(e.isError, true);
      assert.equal(e.name, 'EdgekbError');
      assert.equal(typeof e.code, 'string');
    });

    test('an already-aborted signal rejects open() with an AbortError in the page', () => {
      assert.ok(ctx.state.abortError, 'open() with an aborted signal resolved');
      assert.equal(ctx.state.abortError.name, 'AbortError', JSON.stringify(ctx.state.abortError));
    });

    describe('golden cases', () => {
      for (const [i, c] of (golden?.cases ?? []).entries()) {
        test(caseName(c, i), () => {
          const entry = ctx.state.results?.[i];
          assert.ok(entry, `no result for case ${i}`);
          assert.equal(entry.query, c.query, 'the page ran the same query');
          assert.equal(entry.error, undefined, `search threw: ${JSON.stringify(entry.error)}`);
          assert.equal(entry.promise, true, 'search() returned a Promise');
          assert.equal(entry.plain, true, 'the result is made of plain objects');
          assertMatchesGolden(entry.result, c.expect, caseName(c, i));
        });
      }
    });

    describe('golden cases over a split index', () => {
      test('the split index opened in the page', () => {
        assert.equal(ctx.state.splitError, undefined, `open() failed: ${JSON.stringify(ctx.state.splitError)}`);
        assert.equal(ctx.state.splitDocCount, ctx.state.docCount);
        assert.equal(ctx.state.splitStats?.split, true);
        const byPath = ctx.server.stats().byPath;
        // The dictionary came once, under its fixed name, holding the manifest (layout 6).
        assert.equal(byPath['/split/manifest.json']?.requests, undefined);
        assert.equal(byPath['/split/dictionary.bin']?.requests, 1);
        assert.equal(byPath['/split/' + files.dictionary]?.requests, undefined);
      });
      splitGoldenCases(ctx);
    });
  });

  describe('split index in a page: fetch plan, aborts, retries', () => {
    let server;
    let page;
    const MANIFEST = '/split/manifest.json';
    const isFile = (name) => (ctx) => ctx.pathname === '/split/' + name;
    const log = () => server.stats().log;

    // Opens a fresh split index in the page as window.kb (options as given) and resets the
    // server's counters.
    async function openInPage(options = {}) {
      const stats = await page.evaluate(
        async ({ url, options }) => {
          window.kb = await window.__edgekbModule.KnowledgeBase.open(url, options);
          return window.kb.stats();
        },
        { url: MANIFEST, options },
      );
      server.resetStats();
      return stats;
    }
    // Runs kb.search in the page; resolves to {ok: result} or {error: {name, code, message, isDom}}.
    const searchInPage = (query, options = {}) =>
      page.evaluate(
        async ({ query, options }) => {
          try {
            return { ok: await window.kb.search(query, options) };
          } catch (e) {
            return { error: { name: e?.name, code: e?.code, message: e?.message, isDom: e instanceof DOMException } };
          }
        },
        { query, options },
      );
    const statsInPage = () => page.evaluate(() => window.kb.stats());

    before(async () => {
      server = await startServer({ root: ROOT, mounts: { '/split/': splitDir } });
      page = await browser.newPage();
      await page.goto(`${server.url}tests/js/browser.html?fixture=${FIXTURE_URL_PATH}`);
      await page.waitForFunction(() => window.__edgekb?.done === true, null, { timeout: 60_000 });
      assert.equal(await page.evaluate(() => window.__edgekb.error), undefined);
    });

    after(async () => {
      await page?.close();
      await server?.close();
    });

    test('open() makes 1 request; a one-term query 1 postings + 1 hit-display range request (206); again: none; an unknown word: none', async () => {
      server.resetStats();
      const opened = await openInPage();
      assert.equal(opened.requests, 1);
      const first = await searchInPage('tmux ');
      assert.equal(first.error, undefined, JSON.stringify(first.error));
      assert.ok(first.ok.hits.some((h) => h.id === 'tmux'));
      assert.deepEqual(log().map((l) => l.pathname).sort(), ['/split/' + files.postings, '/split/' + files.display].sort());
      for (const l of log()) {
        assert.match(l.range ?? '', /^bytes=\d+-\d+$/, `${l.pathname} asked for with Range`);
        assert.equal(l.status, 206, `${l.pathname} answered 206`);
      }
      const s1 = await statsInPage();
      assert.equal(s1.requests, 3);
      assert.equal(s1.bytesFetched - opened.bytesFetched, server.stats().bytes);
      // The query's own wire cost: postings, then hit display, in two round trips.
      assert.deepEqual(s1.last, { requests: 2, bytes: server.stats().bytes, roundTrips: 2 });
      assert.equal(s1.roundTrips - opened.roundTrips, 2);
      server.resetStats();
      assert.deepEqual((await searchInPage('tmux ')).ok, first.ok);
      assert.deepEqual((await searchInPage('xylophonequux')).ok, { total: 0, hits: [] });
      assert.equal(server.stats().requests, 0, 'no request for a repeated query or an unknown word');
      const s2 = await statsInPage();
      assert.equal(s2.requests, 3);
      assert.deepEqual(s2.last, { requests: 0, bytes: 0, roundTrips: 0 }, 'a cached query costs nothing');
    });

    test('abort: a delayed search rejects promptly with an AbortError DOMException; Chromium closes the connection', async () => {
      await openInPage();
      server.setFault((ctx) => (isFile(files.postings)(ctx) ? { delayMs: 2000 } : undefined));
      try {
        await page.evaluate(() => {
          window.ac = new AbortController();
          window.pending = window.kb.search('tmux ', { signal: window.ac.signal }).then(
            (r) => ({ ok: r }),
            (e) => ({ error: { name: e?.name, isDom: e instanceof DOMException } }),
          );
        });
        await waitFor(() => requestsFor(log(), files.postings).length === 1, { timeoutMs: 2000, intervalMs: 5, what: 'the postings request' });
        const r = await page.evaluate(async () => {
          const t0 = performance.now();
          window.ac.abort();
          const v = await window.pending;
          return { ...v, ms: performance.now() - t0 };
        });
        assert.equal(r.error?.name, 'AbortError', JSON.stringify(r));
        assert.equal(r.error.isDom, true);
        assert.ok(r.ms < 500, `rejected ${r.ms} ms after abort()`);
        await waitFor(() => server.stats().clientAborts === 1, { timeoutMs: 1500, intervalMs: 10, what: 'the server to see the connection closed' });
        await waitFor(async () => (await statsInPage()).inFlight === 0, { timeoutMs: 1000, intervalMs: 10, what: 'inFlight 0' });
      } finally {
        server.setFault(null);
      }
    });

    test('a shared fetch survives when one of its two searches aborts', async () => {
      await openInPage();
      server.setFault((ctx) => (isFile(files.postings)(ctx) ? { delayMs: 400 } : undefined));
      try {
        await page.evaluate(() => {
          window.ac = new AbortController();
          const settle = (p) => p.then((r) => ({ ok: r }), (e) => ({ error: { name: e?.name, message: e?.message } }));
          window.a = settle(window.kb.search('tmux ', { signal: window.ac.signal }));
          window.b = settle(window.kb.search('tmux '));
        });
        await waitFor(() => requestsFor(log(), files.postings).length === 1, { timeoutMs: 2000, intervalMs: 5, what: 'the postings request' });
        const [a, b] = await page.evaluate(async () => {
          window.ac.abort();
          return Promise.all([window.a, window.b]);
        });
        assert.equal(a.error?.name, 'AbortError', JSON.stringify(a));
        assert.equal(b.error, undefined, JSON.stringify(b));
        assert.ok(b.ok.hits.some((h) => h.id === 'tmux'));
        assert.equal(requestsFor(log(), files.postings).length, 1, 'one postings request');
        assert.equal(server.stats().clientAborts, 0);
      } finally {
        server.setFault(null);
      }
    });

    test('an already-aborted signal rejects without any request', async () => {
      await openInPage();
      const r = await page.evaluate(async () => {
        const ac = new AbortController();
        ac.abort();
        try {
          await window.kb.search('tmux ', { signal: ac.signal });
          return { resolved: true };
        } catch (e) {
          return { name: e?.name };
        }
      });
      assert.equal(r.name, 'AbortError');
      assert.equal(server.stats().requests, 0);
    });

    test('1,000 abort cycles leave nothing in flight and do not grow wasm memory', async (t) => {
      await openInPage();
      server.setFault((ctx) => (isFile(files.postings)(ctx) ? { delayMs: 2000 } : undefined));
      try {
        const r = await page.evaluate(async () => {
          const { wasm } = window.__edgekbModule;
          const sizes = {};
          let other = 0;
          const settle = async () => {
            const t0 = performance.now();
            while (window.kb.stats().inFlight !== 0 && performance.now() - t0 < 3000) await new Promise((ok) => setTimeout(ok, 5));
          };
          for (let i = 1; i <= 1000; i++) {
            const ac = new AbortController();
            const p = window.kb.search('tmux ', { signal: ac.signal });
            if (i % 4 === 1) await null;
            else if (i % 4 === 2) for (let k = 0; k < 6; k++) await null;
            else if (i % 4 === 3) await new Promise((ok) => setTimeout(ok, 0));
            ac.abort();
            try {
              await p;
              other += 1;
            } catch (e) {
              if (e?.name !== 'AbortError') return { error: String(e?.message ?? e) };
            }
            if (i === 200 || i === 1000) {
              await settle();
              sizes[i] = wasm.memory.buffer.byteLength;
            }
          }
          return { sizes, other, stats: window.kb.stats() };
        });
        assert.equal(r.error, undefined, r.error);
        t.diagnostic(`wasm memory at cycle 200: ${r.sizes[200]} bytes, at cycle 1000: ${r.sizes[1000]} bytes; stats(): requests ${r.stats.requests}, aborted ${r.stats.aborted}; server saw ${server.stats().requests} requests`);
        assert.equal(r.other, 0, 'no aborted search resolved');
        assert.equal(r.stats.inFlight, 0);
        assert.equal(r.stats.bytesHeld, 0);
        assert.ok(r.sizes[1000] - r.sizes[200] <= 65536, `wasm memory grew from ${r.sizes[200]} to ${r.sizes[1000]}`);
        await waitFor(() => server.stats().log.every((l) => l.clientAborted), { timeoutMs: 5000, intervalMs: 20, what: 'every request the server saw to be closed by Chromium' });
      } finally {
        server.setFault(null);
      }
    });

    test('faults: a 500 is retried; corrupted bytes end in ChecksumMismatch, then the same query succeeds; a 404 is not retried', async () => {
      const c = golden.cases[0];
      const FAST = { timeoutMs: 1000, retries: 2, backoffMs: 5 };
      await openInPage(FAST);
      server.setFault((ctx) => (isFile(files.postings)(ctx) && ctx.requestNumber === 1 ? { status: 500 } : undefined));
      const retried = await searchInPage(c.query, caseOptions(c));
      assert.equal(retried.error, undefined, JSON.stringify(retried.error));
      assertMatchesGolden(retried.ok, c.expect, c.query);
      assert.ok((await statsInPage()).retries >= 1);

      await openInPage(FAST);
      server.setFault((ctx) => (isFile(files.postings)(ctx) ? { corrupt: true } : undefined));
      const bad = await searchInPage(c.query, caseOptions(c));
      assert.equal(bad.error?.name, 'EdgekbError', JSON.stringify(bad));
      assert.equal(bad.error.code, 'ChecksumMismatch');
      assert.equal(requestsFor(log(), files.postings).length, FAST.retries + 1);
      server.setFault(null);
      const good = await searchInPage(c.query, caseOptions(c));
      assertMatchesGolden(good.ok, c.expect, 'after the fault is gone');

      await openInPage(FAST);
      server.setFault((ctx) => (isFile(files.display)(ctx) ? { status: 404 } : undefined));
      const missing = await searchInPage(c.query, caseOptions(c));
      assert.equal(missing.error?.code, 'HttpStatus', JSON.stringify(missing));
      const again = await searchInPage(c.query, caseOptions(c));
      assert.equal(again.error?.code, 'HttpStatus');
      assert.equal(requestsFor(log(), files.display).length, 1, 'not retried, not requested again');
      server.setFault(null);
    });

    test('a host without Range support gives the golden results', async () => {
      await openInPage();
      server.setFault(() => ({ ignoreRange: true }));
      try {
        for (const [i, c] of golden.cases.entries()) {
          const r = await searchInPage(c.query, caseOptions(c) ?? {});
          assert.equal(r.error, undefined, JSON.stringify(r.error));
          assertMatchesGolden(r.ok, c.expect, `no Range: ${caseName(c, i)}`);
        }
        assert.ok(log().length > 0 && log().every((l) => l.status === 200));
      } finally {
        server.setFault(null);
      }
    });
  });

  describe('the demo page (www/)', () => {
    const QUERY = 'strategy game';
    const MANIFEST_PATH = '/kb/sample/manifest.json';
    let server;
    let tmp;
    let sampleFiles;

    before(async () => {
      requirePath(join(PKG_DIR, 'edgekb.js'));
      tmp = await tempDir('demo');
      await cp(join(ROOT, 'www'), tmp.dir, { recursive: true });
      await copyPkg(join(tmp.dir, 'pkg'));
      // what `./build.sh demo` does: a split sample index in kb/sample/, its dictionary cut
      // into parts (as the demo's 5,000-document sample is) so the Service Worker must keep those
      // (and its hit-display data in a pack, as the demo's 5,000 documents' is).
      sampleFiles = splitFiles(await buildSplit(DOCS_JSONL, join(tmp.dir, 'kb', 'sample'), [...CUT_ARGS, ...LAZY_DISPLAY_ARGS]));
      server = await startServer({ root: tmp.dir });
    });

    after(async () => {
      await server?.close();
      await tmp?.cleanup();
    });

    const abortedDataRequest = /^request failed: http:\/\/127\.0\.0\.1:\d+\/kb\/sample\/[a-z]+\.[0-9a-f]{16}\.bin net::ERR_ABORTED$/;
    const renderedHits = (page) =>
      page.$$eval('#results li.hit', (items) =>
        items.map((li) => ({
          id: li.querySelector('.id')?.textContent,
          title: li.querySelector('.title')?.textContent,
          href: li.querySelector('a.title')?.getAttribute('href') ?? null,
          score: li.querySelector('.score')?.textContent,
        })),
      );

    async function expectedFor(query) {
      const { KnowledgeBase } = await loadNode();
      const kb = KnowledgeBase.fromBytes(await readFile(FIXTURE));
      const expected = await kb.search(query, { limit: 20 });
      assert.ok(expected.hits.length > 0, `"${query}" finds nothing in the fixture`);
      return expected;
    }

    test(`typing "${QUERY}" shows the same first hit as Node`, async () => {
      const expected = await expectedFor(QUERY);

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

        const rendered = await renderedHits(page);
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
        const stats = await page.locator('#stats').textContent();
        assert.match(stats, /^\d+ requests? · \d+(\.\d)? (B|KB|MB) fetched · \d+(\.\d)? (B|KB|MB) cached$/, `stats line: ${stats}`);
        const kbStats = await page.evaluate(() => window.__kb.stats());
        assert.equal(kbStats.split, true, 'the demo opened a split index');
        assert.ok(stats.startsWith(`${kbStats.requests} request`), `stats line shows the requests (${kbStats.requests}): ${stats}`);
        const byPath = server.stats().byPath;
        assert.equal(byPath[MANIFEST_PATH]?.requests >= 1, true, 'the page fetched kb/sample/manifest.json');
        // A keystroke aborts the search still running, and with it its range requests: Chromium
        // reports those as failed (net::ERR_ABORTED). Nothing else may show up.
        assert.deepEqual(problems.filter((p) => !abortedDataRequest.test(p)), []);
      } finally {
        await page.close();
      }
    });

    test('a new keystroke aborts the search in flight; only the last query is shown, without errors', async () => {
      const expected = await expectedFor(QUERY);
      const page = await browser.newPage();
      const problems = watchPage(page);
      try {
        await page.goto(server.url);
        await page.locator('html[data-state="ready"]').waitFor({ state: 'attached', timeout: 30_000 });
        // Slow data: every search takes ~300 ms; keystrokes come every 150 ms (past the debounce),
        // so each new one finds the previous search still running.
        server.setFault((ctx) => (/\/kb\/sample\/(postings|store|positions)\./.test(ctx.pathname) ? { delayMs: 300 } : undefined));
        await page.locator('#q').pressSequentially(QUERY, { delay: 150 });
        await page.locator(`#results[data-query="${QUERY}"] li.hit`).first().waitFor({ timeout: 15_000 });
        const rendered = await renderedHits(page);
        assert.deepEqual(rendered.map((r) => r.id), expected.hits.map((h) => h.id), 'the final query\'s hits');
        const counts = await page.evaluate(() => window.__searches);
        assert.ok(counts.aborted > 0, `searches aborted by newer keystrokes: ${JSON.stringify(counts)}`);
        assert.equal(counts.failed, 0, `no search failed: ${JSON.stringify(counts)}`);
        assert.equal(await page.locator('#status').evaluate((el) => el.classList.contains('error')), false, 'the status line shows no error');
        assert.match(await page.locator('#status').textContent(), /^\d[\d,]* results? in /);
        // Aborted fetches show up as failed requests (net::ERR_ABORTED); nothing else may.
        assert.deepEqual(problems.filter((p) => !abortedDataRequest.test(p)), []);
      } finally {
        server.setFault(null);
        await page.close();
      }
    });

    test('after one visit (and kb.prefetch()), search works offline through the Service Worker', async () => {
      const expected = await expectedFor(QUERY);
      const context = await browser.newContext();
      const page = await context.newPage();
      try {
        await page.goto(server.url);
        await page.locator('html[data-state="ready"]').waitFor({ state: 'attached', timeout: 30_000 });
        // The worker installs (caching the page, the engine, the manifest and its dictionary)
        // and takes control of the page.
        await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 15_000 });
        await page.locator('#q').pressSequentially(QUERY, { delay: 15 });
        await page.locator(`#results[data-query="${QUERY}"] li.hit`).first().waitFor({ timeout: 15_000 });
        const held = await page.evaluate(() => window.__kb.prefetch());
        assert.ok(held > 0, 'prefetch() cached the data');
        // Wait for the worker to hold every file whole.
        const wanted = ['manifest.json', ...Object.values(sampleFiles)].map((f) => `kb/sample/${f}`);
        await page.waitForFunction(
          async (paths) => {
            const cache = await caches.open('edgekb-data');
            const found = await Promise.all(paths.map((p) => cache.match(new URL(p, location.href).href)));
            return found.every(Boolean);
          },
          wanted,
          { timeout: 15_000, polling: 100 },
        );
        // A second online visit stores the manifest again; the worker must keep every file it
        // names (dictionary parts included), not only the ones it knew of.
        server.resetStats();
        await page.reload();
        await page.locator('html[data-state="ready"]').waitFor({ state: 'attached', timeout: 30_000 });
        await waitFor(() => server.stats().log.some((l) => l.pathname === MANIFEST_PATH && l.status === 200), { timeoutMs: 10_000, what: 'the manifest fetched again' });
        await new Promise((r) => setTimeout(r, 1000)); // the worker's storeManifest runs after the response
        const kept = await page.evaluate(async (paths) => {
          const cache = await caches.open('edgekb-data');
          const found = await Promise.all(paths.map(async (p) => [p, Boolean(await cache.match(new URL(p, location.href).href))]));
          return found.filter(([, ok]) => !ok).map(([p]) => p);
        }, wanted);
        assert.deepEqual(kept, [], 'files dropped from the offline cache by a second visit');

        // Offline: the browser has no network, and the server resets any connection that still
        // reaches it.
        await context.setOffline(true);
        server.setFault(() => ({ reset: true }));
        server.resetStats();
        await page.reload();
        await page.locator('html[data-state="ready"]').waitFor({ state: 'attached', timeout: 30_000 });
        // The reloaded URL carries ?q=; wait for that search, then type a new query.
        await page.locator('#q').fill('');
        await page.locator('#q').pressSequentially('terminal multiplexer', { delay: 15 });
        await page.locator('#results[data-query="terminal multiplexer"] li.hit').first().waitFor({ timeout: 15_000 });
        const ids = (await renderedHits(page)).map((r) => r.id);
        assert.ok(ids.includes('tmux'), `offline hits: ${ids}`);
        await page.locator('#q').fill(QUERY);
        await page.locator(`#results[data-query="${QUERY}"] li.hit`).first().waitFor({ timeout: 15_000 });
        assert.deepEqual((await renderedHits(page)).map((r) => r.id), expected.hits.map((h) => h.id), 'offline, the same hits');
        const answered = server.stats().log.filter((l) => l.status !== 0);
        assert.deepEqual(answered, [], 'the server answered nothing while offline');
      } finally {
        server.setFault(null);
        await context.setOffline(false).catch(() => {});
        await context.close();
      }
    });

    test('the Service Worker does not keep a file damaged in transit', async () => {
      const context = await browser.newContext();
      const page = await context.newPage();
      // Whole-file downloads of the hit-display pack (the worker's background fill) arrive damaged; the
      // engine's own range requests are fine.
      server.setFault((ctx) => (ctx.pathname === `/kb/sample/${sampleFiles.display}` && !ctx.headers.range ? { corrupt: true } : undefined));
      try {
        await page.goto(server.url);
        await page.locator('html[data-state="ready"]').waitFor({ state: 'attached', timeout: 30_000 });
        await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 15_000 });
        await page.locator('#q').pressSequentially(QUERY, { delay: 15 });
        await page.locator(`#results[data-query="${QUERY}"] li.hit`).first().waitFor({ timeout: 15_000 });
        const href = (name) => new URL(`kb/sample/${name}`, server.url).href;
        await page.waitForFunction(
          async (url) => Boolean(await (await caches.open('edgekb-data')).match(url)),
          href(sampleFiles.postings),
          { timeout: 15_000, polling: 100 },
        );
        await waitFor(() => server.stats().log.some((l) => l.pathname.endsWith(sampleFiles.display) && !l.range && l.status === 200 && l.bytes > 0), {
          timeoutMs: 5000,
          intervalMs: 20,
          what: 'the worker to download the hit-display file whole',
        });
        await page.waitForTimeout(300);
        const held = await page.evaluate(async (url) => Boolean(await (await caches.open('edgekb-data')).match(url)), href(sampleFiles.display));
        assert.equal(held, false, 'the damaged hit-display file is not cached');
      } finally {
        server.setFault(null);
        await context.close();
      }
    });

    test('a missing index shows a load error in the status line', async () => {
      const page = await browser.newPage();
      const problems = watchPage(page);
      // The index's two mutable files: the dictionary under its fixed name, which the engine
      // opens the index from, and the manifest it falls back to.
      const ALIAS_PATH = MANIFEST_PATH.replace(/manifest\.json$/, 'dictionary.bin');
      const gone = [ALIAS_PATH, MANIFEST_PATH];
      server.setFault(({ pathname }) => (gone.includes(pathname) ? { status: 404, body: 'gone' } : undefined));
      try {
        await page.goto(server.url);
        await page.locator('html[data-state="error"]').waitFor({ state: 'attached', timeout: 30_000 });
        const status = page.locator('#status');
        assert.match(await status.textContent(), /Could not load the knowledge base/);
        assert.equal(await status.getAttribute('class'), 'error');
        assert.equal(await page.locator('#q').isDisabled(), true);
        // the 404s themselves are the only console noise allowed (the engine cancels the body of
        // an error response, which Chromium reports as a failed request for that same URL)
        const cancelledBody = new RegExp(`^request failed: ${server.url}(${gone.map((p) => p.slice(1).replace(/\./g, '\\.')).join('|')}) net::ERR_ABORTED$`);
        assert.deepEqual(problems.filter((p) => !cancelledBody.test(p)), gone.map((p) => `HTTP 404 ${p}`));
      } finally {
        server.setFault(null);
        await page.close();
      }
    });
  });
});
