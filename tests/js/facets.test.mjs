// Filters, facets, sorting, pages and synonyms from JavaScript: the wasm package in Node gives
// the native results (tests/golden/facets.json and synonyms.json, written by `cargo test --test
// facets`) for an index built from tests/fixtures/facets.jsonl with tests/fixtures/facets.toml
// by the edgekb command, whole (fromBytes) and split (open over HTTP, facet data fetched by
// range); the structured filter form equals the filter syntax; bad options reject with a clear
// error.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadNode } from '../../js/node.mjs';
import { startServer } from '../../scripts/serve.mjs';
import { CLI, ROOT, buildSplit, checkPrerequisites, requirePath, requirePkg, tempDir } from './support.mjs';

const DOCS = join(ROOT, 'tests/fixtures/facets.jsonl');
const CONFIG = join(ROOT, 'tests/fixtures/facets.toml');
const FACETS = join(ROOT, 'tests/golden/facets.json');
const SYNONYMS = join(ROOT, 'tests/golden/synonyms.json');

test('prerequisites are built (wasm package, edgekb command, golden files)', () => {
  checkPrerequisites([CLI, DOCS, CONFIG, FACETS, SYNONYMS]);
});

/** Deep equality, numbers to 1e-5 relative (scores are f32). */
function assertSame(got, want, path) {
  if (typeof want === 'number') {
    assert.equal(typeof got, 'number', path);
    assert.ok(Math.abs(got - want) <= 1e-5 * Math.max(1, Math.abs(want)), `${path}: ${got} != ${want}`);
  } else if (Array.isArray(want)) {
    assert.ok(Array.isArray(got), path);
    assert.equal(got.length, want.length, `${path}: length`);
    want.forEach((w, i) => assertSame(got[i], w, `${path}[${i}]`));
  } else if (want && typeof want === 'object') {
    assert.deepEqual(Object.keys(got).sort(), Object.keys(want).sort(), `${path}: keys`);
    for (const k of Object.keys(want)) assertSame(got[k], want[k], `${path}.${k}`);
  } else {
    assert.equal(got, want, path);
  }
}

function optionsOf(c) {
  const o = { limit: c.limit, offset: c.offset };
  if (c.filter !== null) o.filter = c.filter;
  if (c.facets) o.facets = ['tags'];
  if (c.sort !== null) o.sort = c.sort;
  return o;
}

describe('filters, facets, sort, pages and synonyms in Node', () => {
  let KnowledgeBase;
  let facets;
  let synonyms;
  let tmp;
  const servers = [];

  before(async () => {
    requirePkg();
    requirePath(CLI);
    ({ KnowledgeBase } = await loadNode());
    facets = JSON.parse(await readFile(requirePath(FACETS), 'utf8')).cases;
    synonyms = JSON.parse(await readFile(requirePath(SYNONYMS), 'utf8')).cases;
    tmp = await tempDir('facets');
  });

  after(async () => {
    for (const s of servers) await s.close();
    await tmp?.cleanup();
  });

  async function checkGolden(kb, what) {
    assert.ok(facets.length >= 10);
    for (const c of facets) {
      assertSame(await kb.search(c.query, optionsOf(c)), c.expect, `${what} ${JSON.stringify(c.query)} ${c.filter} ${c.sort}`);
    }
    for (const c of synonyms) {
      assertSame(await kb.search(c.query, { snippet: 80 }), c.expect, `${what} synonyms ${c.query}`);
    }
  }

  test('a whole index (fromBytes) gives the native results', async () => {
    const out = join(tmp.dir, 'kb.ekb');
    await new Promise((ok, fail) =>
      execFile(CLI, ['build', DOCS, '--config', CONFIG, '--out', out, '--single'], { timeout: 60_000 }, (err, _o, stderr) =>
        err ? fail(new Error(`${err.message}\n${stderr}`)) : ok(),
      ),
    );
    const kb = KnowledgeBase.fromBytes(await readFile(out));
    await checkGolden(kb, 'whole');
    // The structured form is the filter syntax's.
    const text = await kb.search('framework', { filter: 'tags:devel::lang:* -tags:devel::lang:ruby', facets: 'tags' });
    const structured = await kb.search('framework', {
      filter: { and: [{ field: 'tags', prefix: 'devel::lang:' }, { not: { field: 'tags', value: 'devel::lang:ruby' } }] },
      facets: ['tags'],
    });
    assert.deepEqual(structured, text);
    assert.ok(text.total > 0 && text.hits.every((h) => !h.facets.tags.includes('devel::lang:ruby')));
    // Pages are slices of one long page.
    const all = await kb.search('web', { sort: 'updated:desc', limit: 20 });
    const pages = [];
    for (let offset = 0; offset < all.total; offset += 2) {
      pages.push(...(await kb.search('web', { sort: 'updated:desc', limit: 2, offset })).hits);
    }
    assert.deepEqual(pages, all.hits);
    // Bad options reject with an EdgekbError naming the option.
    for (const [opts, code] of [
      [{ filter: 'tags' }, 'InvalidOption'],
      [{ filter: { field: 'title', value: 'x' } }, 'InvalidOption'],
      [{ filter: 42 }, 'InvalidOption'],
      [{ facets: [1] }, null],
      [{ facets: ['title'] }, 'InvalidOption'],
      [{ sort: 'title' }, 'InvalidOption'],
      [{ sort: 'year:sideways' }, 'InvalidOption'],
      [{ offset: -1 }, null],
      [{ offset: 1.5 }, null],
    ]) {
      await assert.rejects(kb.search('web', opts), (e) => e.name === 'EdgekbError' && (code === null || e.code === code), JSON.stringify(opts));
    }
    let deep = { field: 'tags', value: 'web' };
    for (let i = 0; i < 100; i++) deep = { not: deep };
    await assert.rejects(kb.search('web', { filter: deep }), (e) => e.name === 'EdgekbError' && e.code === 'LimitExceeded');
    // The filter object is read as it is walked, so a cycle or a huge list stops at a limit.
    const cycle = { field: 'tags', value: 'web' };
    cycle.not = cycle;
    const loop = { not: null };
    loop.not = loop;
    await assert.rejects(kb.search('web', { filter: loop }), (e) => e.name === 'EdgekbError' && e.code === 'LimitExceeded');
    await assert.rejects(kb.search('web', { filter: cycle }), (e) => e.name === 'EdgekbError' && e.code === 'InvalidOption');
    const wide = { or: new Array(1_000_000).fill('tags:web') };
    await assert.rejects(kb.search('web', { filter: wide }), (e) => e.name === 'EdgekbError' && e.code === 'LimitExceeded');
  });

  test('a split index (facet data fetched by range) gives the native results', async () => {
    const dir = join(tmp.dir, 'split');
    await buildSplit(DOCS, dir, ['--config', CONFIG]);
    const server = await startServer({ root: dir });
    servers.push(server);
    const kb = await KnowledgeBase.open(server.url + 'manifest.json');
    await checkGolden(kb, 'split');
  });
});
