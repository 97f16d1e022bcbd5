// Snippets and highlights from JavaScript: the wasm package in Node returns the same snippets and
// highlights as the native engine (tests/golden/snippets.json, written by `cargo test --test
// snippets`) for an index built from tests/fixtures/snippets.jsonl by the edgekb command, whole
// (fromBytes) and split (open over HTTP, with the hit-display data lazy or resident);
// highlightHtml escapes the text; highlights index JS strings (UTF-16 code units).
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadNode } from '../../js/node.mjs';
import { startServer } from '../../scripts/serve.mjs';
import { CLI, LAZY_DISPLAY_ARGS, ROOT, buildSplit, checkPrerequisites, requirePath, requirePkg, tempDir } from './support.mjs';

const DOCS = join(ROOT, 'tests/fixtures/snippets.jsonl');
const GOLDEN = join(ROOT, 'tests/golden/snippets.json');
// The golden cases run with OR (the native test's CASES table says which).
const ANY = new Set(['sediment python']);

test('prerequisites are built (wasm package, edgekb command, snippet golden file)', () => {
  checkPrerequisites([CLI, GOLDEN, DOCS]);
});

/** Checks `results` against one golden case: the same hits, snippets and highlights. */
function assertCase(results, c, what) {
  assert.deepEqual(
    results.hits.map((h) => ({ id: h.id, snippet: h.snippet ?? null, highlights: h.highlights ?? null })),
    c.hits.map((h) => ({ id: h.id, snippet: h.snippet, highlights: h.highlights })),
    `${what}: ${c.query}`,
  );
}

/** The golden `marked` form, rebuilt in JS from UTF-16 offsets with String.prototype.slice. */
function bracketed(snippet, highlights) {
  let out = '';
  let at = 0;
  for (const [a, b] of highlights) {
    out += snippet.slice(at, a) + '[' + snippet.slice(a, b) + ']';
    at = b;
  }
  return out + snippet.slice(at);
}

describe('snippets in Node', () => {
  let KnowledgeBase;
  let highlightHtml;
  let golden;
  let tmp;
  const servers = [];

  before(async () => {
    requirePkg();
    requirePath(CLI);
    ({ KnowledgeBase, highlightHtml } = await loadNode());
    golden = JSON.parse(await readFile(requirePath(GOLDEN), 'utf8'));
    tmp = await tempDir('snippets');
  });

  after(async () => {
    for (const s of servers) await s.close();
    await tmp?.cleanup();
  });

  test('a whole index (fromBytes) gives the native snippets', async () => {
    const out = join(tmp.dir, 'kb.ekb');
    await new Promise((ok, fail) =>
      execFile(CLI, ['build', DOCS, '--out', out, '--single'], { timeout: 60_000 }, (err, _o, stderr) =>
        err ? fail(new Error(`${err.message}\n${stderr}`)) : ok(),
      ),
    );
    const kb = KnowledgeBase.fromBytes(await readFile(out));
    assert.ok(golden.length >= 10);
    for (const c of golden) {
      const r = await kb.search(c.query, { snippet: c.chars, any: ANY.has(c.query) });
      assertCase(r, c, 'whole');
      for (const [i, h] of r.hits.entries()) {
        assert.equal(bracketed(h.snippet, h.highlights), c.hits[i].marked, `${c.query}: UTF-16 offsets`);
      }
    }
    // Off by default: no snippet fields at all.
    const plain = await kb.search('crabs');
    assert.ok(plain.hits.length > 0);
    for (const h of plain.hits) assert.deepEqual(Object.keys(h).sort(), ['id', 'score', 'title', 'url']);
    // `true` is the default length; bad values are refused with a clear error.
    const dflt = await kb.search('crabs', { snippet: true });
    assert.equal(typeof dflt.hits[0].snippet, 'string');
    for (const bad of [0, -1, 1.5, 2001, 'long']) {
      await assert.rejects(kb.search('crabs', { snippet: bad }), (e) => e.name === 'EdgekbError' && /snippet/.test(e.message), String(bad));
    }
  });

  for (const [label, args] of [
    ['hit display resident', []],
    ['hit display lazy', LAZY_DISPLAY_ARGS],
  ]) {
    test(`a split index (${label}) gives the native snippets`, async () => {
      const dir = join(tmp.dir, label.replace(/ /g, '-'));
      await buildSplit(DOCS, dir, args);
      const server = await startServer({ root: dir });
      servers.push(server);
      const kb = await KnowledgeBase.open(server.url + 'manifest.json');
      for (const c of golden) {
        assertCase(await kb.search(c.query, { snippet: c.chars, any: ANY.has(c.query) }), c, label);
      }
    });
  }

  test('highlightHtml escapes the text and marks UTF-16 ranges', () => {
    const s = 'a <b> & "🦀" crabs';
    const i = s.indexOf('crabs');
    assert.equal(
      highlightHtml(s, [[2, 5], [i, i + 5]]),
      'a <mark>&lt;b&gt;</mark> &amp; &quot;🦀&quot; <mark>crabs</mark>',
    );
    assert.equal(highlightHtml('<script>', []), '&lt;script&gt;');
    assert.equal(highlightHtml('abc', [[5, 9], [2, 1]]), 'abc');
    assert.throws(() => highlightHtml('abc', 'nope'), (e) => e.name === 'EdgekbError');
    assert.throws(() => highlightHtml('abc', [[0.5, 1]]), (e) => e.name === 'EdgekbError');
  });
});
