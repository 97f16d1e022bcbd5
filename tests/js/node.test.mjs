// The wasm package in Node: golden queries through fromBytes, error handling, open() over HTTP.
// (Split indexes: split.test.mjs.)
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadNode } from '../../js/node.mjs';
import { startServer } from '../../scripts/serve.mjs';
import {
  FIXTURE,
  FIXTURE_URL_PATH,
  ROOT,
  assertMatchesGolden,
  assertPlainResult,
  caseName,
  caseOptions,
  checkPrerequisites,
  fixtureDocCount,
  garbageBytes,
  loadGolden,
  tryLoadGolden,
  requirePath,
  requirePkg,
} from './support.mjs';

const { golden, goldenError } = await tryLoadGolden();

function assertEdgekbError(err, what) {
  assert.ok(err instanceof Error, `${what}: threw ${Object.prototype.toString.call(err)} ${String(err)}, not an Error`);
  assert.ok(!(err instanceof WebAssembly.RuntimeError), `${what}: the wasm trapped (a Rust panic?): ${err.message}`);
  assert.equal(err.name, 'EdgekbError', `${what}: error name (message: ${err.message})`);
  assert.equal(typeof err.code, 'string', `${what}: error.code is a string`);
  assert.ok(err.code.length > 0, `${what}: error.code is not empty`);
  assert.equal(typeof err.message, 'string', `${what}: error.message is a string`);
  return true;
}

test('prerequisites are built', () => {
  checkPrerequisites();
  if (goldenError) throw goldenError;
});

describe('wasm package in Node', () => {
  let KnowledgeBase;
  let fixtureBytes;
  let kb;

  before(async () => {
    requirePkg();
    requirePath(FIXTURE);
    ({ KnowledgeBase } = await loadNode());
    fixtureBytes = new Uint8Array(await readFile(FIXTURE));
    kb = KnowledgeBase.fromBytes(fixtureBytes);
  });

  test('docCount is the number of documents in the fixture source', async () => {
    assert.equal(typeof kb.docCount, 'number');
    assert.equal(kb.docCount, await fixtureDocCount());
  });

  describe('golden queries (fromBytes)', () => {
    for (const [i, c] of (golden?.cases ?? []).entries()) {
      test(caseName(c, i), async () => {
        const result = await kb.search(c.query, caseOptions(c));
        assertPlainResult(result);
        assertMatchesGolden(result, c.expect, caseName(c, i));
      });
    }
  });

  // Older format versions have no FOLD section: the table-folding wasm folds their queries with
  // its built-in table (accents, full-width, ligatures) and must answer their golden files.
  describe('older format versions answer their golden files (no FOLD section)', () => {
    for (const v of [1, 2, 3, 4, 5]) {
      test(`tests/compat/v${v}/fixture.ekb matches queries.json`, async () => {
        const dir = join(ROOT, `tests/compat/v${v}`);
        const old = KnowledgeBase.fromBytes(new Uint8Array(await readFile(join(dir, 'fixture.ekb'))));
        const want = await loadGolden(join(dir, 'queries.json'));
        assert.ok(want.cases.some((c) => /[^\x00-\x7f]/.test(c.query)), 'non-ASCII queries are checked');
        for (const [i, c] of want.cases.entries()) {
          const result = await old.search(c.query, caseOptions(c));
          assertPlainResult(result);
          assertMatchesGolden(result, c.expect, `v${v} ${caseName(c, i)}`);
        }
      });
    }
  });

  // Common terms over many postings blocks: the wasm build ranks them with block-max pruning
  // over format 3's block impacts, and must return what the native build committed.
  describe('golden queries over many postings blocks (tests/compat/v3/blocks.ekb)', () => {
    const dir = join(ROOT, 'tests/compat/v3');
    test('every case matches blocks.json', async () => {
      const blocks = KnowledgeBase.fromBytes(new Uint8Array(await readFile(join(dir, 'blocks.ekb'))));
      const want = await loadGolden(join(dir, 'blocks.json'));
      for (const [i, c] of want.cases.entries()) {
        const result = await blocks.search(c.query, caseOptions(c));
        assertPlainResult(result);
        assertMatchesGolden(result, c.expect, caseName(c, i));
      }
    });
  });

  describe('fromBytes rejects bad indexes with an EdgekbError', () => {
    const variants = {
      'empty input': () => new Uint8Array(0),
      'the first 4 bytes': () => fixtureBytes.slice(0, 4),
      'the first 16 bytes': () => fixtureBytes.slice(0, 16),
      'the first half': () => fixtureBytes.slice(0, fixtureBytes.length >> 1),
      'all but the last byte': () => fixtureBytes.slice(0, -1),
      'garbage (4 KiB)': () => garbageBytes(4096),
      'a mangled magic number': () => {
        const b = fixtureBytes.slice();
        for (let i = 0; i < 4; i++) b[i] ^= 0xff;
        return b;
      },
    };
    for (const [name, make] of Object.entries(variants)) {
      test(name, () => {
        assert.throws(() => KnowledgeBase.fromBytes(make()), (err) => assertEdgekbError(err, name));
      });
    }

    // A flipped byte somewhere in the middle must never crash the engine: either the load is
    // refused with an EdgekbError, or the index loads and searching it returns or throws
    // EdgekbErrors, never a trap.
    test('flipped bytes never trap', async () => {
      const queries = (golden?.cases ?? []).slice(0, 5).map((c) => c.query).concat(['strategy game']);
      for (let k = 1; k <= 15; k++) {
        const b = fixtureBytes.slice();
        const pos = Math.floor((b.length * k) / 16);
        b[pos] ^= 0x5a;
        let broken;
        try {
          broken = KnowledgeBase.fromBytes(b);
        } catch (err) {
          assertEdgekbError(err, `byte ${pos} flipped`);
          continue;
        }
        for (const q of queries) {
          try {
            await broken.search(q, { limit: 10 });
          } catch (err) {
            assertEdgekbError(err, `search ${JSON.stringify(q)} with byte ${pos} flipped`);
          }
        }
      }
    });

    test('the engine still works after those errors', async () => {
      const again = KnowledgeBase.fromBytes(fixtureBytes);
      assert.equal(again.docCount, kb.docCount);
      const c = golden?.cases?.[0];
      if (c) assertMatchesGolden(await again.search(c.query, caseOptions(c)), c.expect, 'after errors');
    });
  });

  describe('the async API on a single-file index', () => {
    test('search() returns a Promise', async () => {
      const p = kb.search('strategy game');
      assert.ok(p instanceof Promise, 'search() returns a Promise');
      assertPlainResult(await p);
    });

    test('search() with an already-aborted signal rejects with an AbortError', async () => {
      const ac = new AbortController();
      ac.abort();
      await assert.rejects(kb.search('strategy game', { signal: ac.signal }), (err) => {
        assert.equal(err?.name, 'AbortError', `rejected with ${err?.name}: ${err?.message ?? err}`);
        return true;
      });
    });

    test('bad search options reject with an InvalidArgument EdgekbError', async () => {
      for (const options of [{ limit: -1 }, { limit: 1.5 }, { prefix: 'yes' }, { signal: 42 }]) {
        await assert.rejects(kb.search('game', options), (err) => {
          assertEdgekbError(err, JSON.stringify(options));
          assert.equal(err.code, 'InvalidArgument');
          return true;
        });
      }
    });

    test('stats(), prefetch() and refresh() of a single-file index', async () => {
      // Every counter of the Stats type, all zero: a single file makes no request.
      const s = kb.stats();
      assert.equal(s.split, false);
      assert.deepEqual(s.last, { requests: 0, bytes: 0, roundTrips: 0 });
      for (const k of ['hits', 'requests', 'bytesFetched', 'roundTrips', 'inFlight']) assert.equal(s[k], 0, k);
      assert.equal(await kb.prefetch(), 0);
      assert.equal(await kb.refresh(), false);
    });

    test('concurrent searches all resolve, each with its own answer', async () => {
      const cases = (golden?.cases ?? []).slice(0, 10);
      const results = await Promise.all(cases.map((c) => kb.search(c.query, caseOptions(c))));
      for (const [i, c] of cases.entries()) assertMatchesGolden(results[i], c.expect, caseName(c, i));
    });
  });

  describe('KnowledgeBase.open over HTTP', () => {
    let server;
    before(async () => {
      server = await startServer({ root: ROOT });
    });
    after(async () => {
      await server?.close();
    });

    test('open(url) loads the same index as fromBytes', async () => {
      const opened = await KnowledgeBase.open(server.url + FIXTURE_URL_PATH.slice(1));
      assert.equal(opened.docCount, kb.docCount);
      for (const [i, c] of (golden?.cases ?? []).entries()) {
        assertMatchesGolden(await opened.search(c.query, caseOptions(c)), c.expect, `open(): ${caseName(c, i)}`);
      }
      const s = server.stats().byPath[FIXTURE_URL_PATH];
      assert.ok(s && s.requests >= 1, 'the index was fetched from the server');
    });

    test('open(url, {signal}) with an already-aborted signal rejects with an AbortError', async () => {
      const ac = new AbortController();
      ac.abort();
      await assert.rejects(KnowledgeBase.open(server.url + FIXTURE_URL_PATH.slice(1), { signal: ac.signal }), (err) => {
        assert.equal(err?.name, 'AbortError', `rejected with ${err?.name}: ${err?.message ?? err}`);
        return true;
      });
    });

    test('open(url) of a missing index rejects with an Error', async () => {
      server.resetStats();
      await assert.rejects(KnowledgeBase.open(server.url + 'no/such/index.ekb'), (err) => {
        assert.ok(err instanceof Error, `rejected with ${Object.prototype.toString.call(err)} ${String(err)}`);
        assertEdgekbError(err, 'missing index');
        assert.equal(err.code, 'HttpStatus');
        return true;
      });
      assert.equal(server.stats().byPath['/no/such/index.ekb']?.requests, 1, 'a 404 is not retried');
    });

    test('open(url) of a single-file index retries a 503', async () => {
      server.resetStats();
      server.setFault(({ pathname, requestNumber }) => (pathname === FIXTURE_URL_PATH && requestNumber === 1 ? { status: 503 } : undefined));
      try {
        const opened = await KnowledgeBase.open(server.url + FIXTURE_URL_PATH.slice(1), { backoffMs: 1 });
        assert.equal(opened.docCount, kb.docCount);
        assert.equal(server.stats().byPath[FIXTURE_URL_PATH].requests, 2);
      } finally {
        server.setFault(null);
      }
    });
  });
});
