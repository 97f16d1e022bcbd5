// The demo page (www/) as a person uses it, in headless Chromium: typing shows hits with
// highlighted snippets and tag chips with counts; clicking a chip narrows the results to that
// tag (the counts and hits equal the wasm engine's in Node for the same filter); Previous/Next
// page through; ↑/↓ select a hit and Enter opens it; on an index with sortable fields, the Order
// menu sorts by one (as the engine does in Node); with the network gone
// (`context.setOffline(true)`, the server resetting connections), a new search with a filter
// still answers from what was fetched. With EDGEKB_SCREENSHOT=path, a screenshot is saved there
// (docs/page.png is made so).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { cp, readFile } from 'node:fs/promises';
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
  ROOT,
  buildSplit,
  checkPrerequisites,
  copyPkg,
  requirePath,
  requirePkg,
  tempDir,
} from './support.mjs';

test('prerequisites are built, and Chromium is installed', () => {
  checkPrerequisites([CHROMIUM, CLI]);
});

// The page and the wasm package in a temporary folder, with the split index of `jsonl` (built
// with `args`) as its sample knowledge base, served on 127.0.0.1; and the reference: the same
// documents built into one file and searched by the wasm engine in Node.
async function servePage(name, jsonl, args = [], splitArgs = []) {
  requirePkg();
  requirePath(CLI);
  const tmp = await tempDir(name);
  await cp(join(ROOT, 'www'), tmp.dir, { recursive: true });
  await copyPkg(join(tmp.dir, 'pkg'));
  await buildSplit(jsonl, join(tmp.dir, 'kb', 'sample'), [...args, ...splitArgs]);
  const server = await startServer({ root: tmp.dir });
  const { KnowledgeBase } = await loadNode();
  const { execFile } = await import('node:child_process');
  const single = join(tmp.dir, 'single.ekb');
  await new Promise((ok, fail) =>
    execFile(CLI, ['build', jsonl, ...args, '--out', single, '--single'], (e, _o, err) => (e ? fail(new Error(err)) : ok())),
  );
  return { tmp, server, kbNode: KnowledgeBase.fromBytes(await readFile(single)) };
}

// A fresh page of `browser` on the demo at `url`, ready to search, and the page errors it reports.
async function openPage(browser, url, options = {}) {
  const context = await browser.newContext(options);
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  try {
    await page.goto(url);
    await page.locator('html[data-state="ready"]').waitFor({ state: 'attached', timeout: 30_000 });
  } catch (e) {
    await context.close();
    throw e;
  }
  return { context, page, errors };
}

// Types `query` into the search box and waits for its first hit.
async function type(page, query) {
  await page.locator('#q').pressSequentially(query, { delay: 20 });
  await page.locator(`#results[data-query="${query}"] li.hit`).first().waitFor({ timeout: 15_000 });
}

describe('the demo page: snippets, facet chips, pages, keyboard, offline', { timeout: 180_000 }, () => {
  let browser;
  let server;
  let tmp;
  let kbNode;

  before(async () => {
    assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing`);
    ({ tmp, server, kbNode } = await servePage('page', DOCS_JSONL, [], ['--resident-display-bytes', '0']));
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    await tmp?.cleanup();
  });

  const rendered = (page) =>
    page.$$eval('#results li.hit', (items) =>
      items.map((li) => ({
        id: li.querySelector('.id')?.textContent,
        snippet: li.querySelector('.snippet')?.textContent ?? null,
        marks: [...li.querySelectorAll('.snippet mark')].map((m) => m.textContent),
        selected: li.getAttribute('aria-selected'),
        href: li.querySelector('a.title')?.href ?? null,
      })),
    );
  const chips = (page) =>
    page.$$eval('#facets .chip', (bs) => bs.map((b) => ({ value: b.dataset.value, count: Number(b.querySelector('.count').textContent.replace(/,/g, '')) })));
  test('type, click a facet, page, use the keyboard, go offline and search again', async () => {
    const { context, page, errors } = await openPage(browser, server.url, { viewport: { width: 900, height: 1100 } });
    try {
      assert.equal(await page.locator('#order').isHidden(), true, 'no sortable field: no Order menu');
      // Type: hits with highlighted snippets, chips with counts over every match.
      const QUERY = 'c';
      await type(page, QUERY);
      const want = await kbNode.search(QUERY, { limit: 20, facets: ['tags'], snippet: 160 });
      assert.ok(want.total > 20, `"${QUERY}" needs more than one page (${want.total})`);
      let hits = await rendered(page);
      assert.deepEqual(hits.map((h) => h.id), want.hits.map((h) => h.id));
      assert.deepEqual(hits.map((h) => h.snippet), want.hits.map((h) => h.snippet ?? null), 'snippets as in Node');
      assert.ok(hits.some((h) => h.marks.length > 0), 'some snippet has highlights');
      const shown = await chips(page);
      assert.ok(shown.length > 0, 'tag chips are shown');
      for (const c of shown) assert.equal(c.count, want.facets.tags[c.value], `count of ${c.value}`);
      const top = Object.values(want.facets.tags).sort((a, b) => b - a)[0];
      assert.equal(shown[0].count, top, 'chips are by count, highest first');

      // Click a facet: only its documents, the engine's answer for that filter.
      const chosen = shown[0];
      await page.locator(`#facets .chip[data-value="${chosen.value}"]`).click();
      await page.locator(`#filters .chip[data-value="${chosen.value}"]`).waitFor({ timeout: 15_000 });
      const narrowed = await kbNode.search(QUERY, { limit: 20, filter: { and: [{ field: 'tags', value: chosen.value }] }, facets: ['tags'], snippet: 160 });
      assert.equal(narrowed.total, chosen.count, 'the chip count is the number of results it leaves');
      await page.waitForFunction((n) => document.querySelector('#status').textContent.startsWith(`${n.toLocaleString('en')} result`), narrowed.total, { timeout: 15_000 });
      hits = await rendered(page);
      assert.deepEqual(hits.map((h) => h.id), narrowed.hits.map((h) => h.id), 'filtered hits');
      if (process.env.EDGEKB_SCREENSHOT) await page.screenshot({ path: process.env.EDGEKB_SCREENSHOT, fullPage: false });
      // Widen again: the active chip removes its filter.
      await page.locator(`#filters .chip[data-value="${chosen.value}"]`).click();
      await page.waitForFunction((n) => document.querySelector('#status').textContent.startsWith(`${n.toLocaleString('en')} result`), want.total, { timeout: 15_000 });

      // Page: Next shows hits 21–40, Previous the first ones again.
      await page.locator('#next').click();
      await page.locator('#results[data-offset="20"] li.hit').first().waitFor({ timeout: 15_000 });
      const second = await kbNode.search(QUERY, { limit: 20, offset: 20 });
      assert.deepEqual((await rendered(page)).map((h) => h.id), second.hits.map((h) => h.id), 'page 2');
      assert.match(await page.locator('#page').textContent(), /^page 2 of \d+$/);
      await page.locator('#prev').click();
      await page.locator('#results[data-offset="0"] li.hit').first().waitFor({ timeout: 15_000 });
      assert.deepEqual((await rendered(page)).map((h) => h.id), want.hits.map((h) => h.id), 'page 1 again');

      // Keyboard: ↓ ↓ selects the second hit, ↑ the first, Enter opens the selected one.
      await page.locator('#q').focus();
      await page.keyboard.press('ArrowDown');
      await page.keyboard.press('ArrowDown');
      hits = await rendered(page);
      assert.deepEqual(hits.map((h) => h.selected === 'true'), hits.map((_, i) => i === 1), 'second selected');
      await page.keyboard.press('ArrowUp');
      hits = await rendered(page);
      assert.equal(hits[0].selected, 'true', 'first selected');
      const linked = hits.findIndex((h) => h.href);
      assert.ok(linked >= 0, 'a hit with a link');
      for (let i = 0; i < linked; i++) await page.keyboard.press('ArrowDown');
      // Keep the page here: stop the link's navigation, record what Enter opened.
      await page.evaluate(() => document.addEventListener('click', (e) => e.preventDefault(), { once: true }));
      await page.keyboard.press('Enter');
      assert.equal(await page.evaluate(() => window.__opened), hits[linked].href, 'Enter opened the selected hit');

      // Offline: everything fetched so far (and prefetched) answers a new search with a filter.
      assert.ok((await page.evaluate(() => window.__kb.prefetch())) > 0);
      await context.setOffline(true);
      server.setFault(() => ({ reset: true }));
      server.resetStats();
      await page.locator('#q').fill('');
      await type(page, 'editor');
      const offline = await kbNode.search('editor', { limit: 20, facets: ['tags'], snippet: 160 });
      assert.deepEqual((await rendered(page)).map((h) => h.id), offline.hits.map((h) => h.id), 'offline hits');
      const tag = (await chips(page))[0].value;
      await page.locator(`#facets .chip[data-value="${tag}"]`).click();
      await page.locator(`#filters .chip[data-value="${tag}"]`).waitFor({ timeout: 15_000 });
      const offlineNarrowed = await kbNode.search('editor', { limit: 20, filter: { and: [{ field: 'tags', value: tag }] } });
      await page.waitForFunction((n) => document.querySelector('#status').textContent.startsWith(`${n.toLocaleString('en')} result`), offlineNarrowed.total, { timeout: 15_000 });
      assert.deepEqual((await rendered(page)).map((h) => h.id), offlineNarrowed.hits.map((h) => h.id), 'offline, filtered');
      assert.deepEqual(server.stats().log.filter((l) => l.status !== 0), [], 'the server answered nothing while offline');
      assert.deepEqual(errors, []);
    } finally {
      server.setFault(null);
      await context.close();
    }
  });
});

describe('the demo page: the Order menu on an index with sortable fields', { timeout: 180_000 }, () => {
  const FACETS_JSONL = join(ROOT, 'tests/fixtures/facets.jsonl');
  const FACETS_TOML = join(ROOT, 'tests/fixtures/facets.toml');
  let browser;
  let server;
  let tmp;
  let kbNode;

  before(async () => {
    ({ tmp, server, kbNode } = await servePage('page-sort', FACETS_JSONL, ['--config', FACETS_TOML]));
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    await tmp?.cleanup();
  });

  test('choosing an order sorts the hits by that field, as the engine does', async () => {
    assert.deepEqual(kbNode.sortFields, ['year', 'updated']);
    assert.deepEqual(kbNode.facetFields, ['tags']);
    const { context, page, errors } = await openPage(browser, server.url);
    try {
      assert.equal(await page.locator('#order').isVisible(), true, 'sortable fields: an Order menu');
      const options = await page.$$eval('#sort option', (os) => os.map((o) => o.value));
      assert.deepEqual(options, ['', 'year:asc', 'year:desc', 'updated:asc', 'updated:desc']);
      const ids = () => page.$$eval('#results li.hit', (items) => items.map((li) => li.dataset.id));
      const QUERY = 'web';
      await type(page, QUERY);
      const byScore = await kbNode.search(QUERY, { limit: 20 });
      assert.deepEqual(await ids(), byScore.hits.map((h) => h.id), 'by relevance first');
      for (const sort of ['year:desc', 'updated:asc']) {
        const want = await kbNode.search(QUERY, { limit: 20, sort });
        await page.locator('#sort').selectOption(sort);
        await page.waitForFunction((w) => [...document.querySelectorAll('#results li.hit')].map((li) => li.dataset.id).join() === w, want.hits.map((h) => h.id).join(), { timeout: 15_000 });
        assert.deepEqual(await ids(), want.hits.map((h) => h.id), sort);
      }
      const newest = await kbNode.search(QUERY, { limit: 20, sort: 'year:desc' });
      assert.notDeepEqual(newest.hits.map((h) => h.id), byScore.hits.map((h) => h.id), 'the fixture orders differently by year than by score');
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });
});
