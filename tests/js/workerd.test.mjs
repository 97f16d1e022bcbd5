// The wasm package in workerd (Cloudflare's Workers runtime): tests/js/worker/worker.mjs runs in a
// real workerd process, fetches the index over HTTP from a local static server, and answers the
// golden queries over HTTP: from a single-file index (/search) and from a split index
// (/split/search, fetched in ranges from a second static server that counts every request).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startServer } from '../../scripts/serve.mjs';
import {
  CLI,
  DOCS_JSONL,
  FIXTURE,
  FIXTURE_URL_PATH,
  PKG_DIR,
  ROOT,
  assertMatchesGolden,
  buildSplit,
  CUT_ARGS,
  caseName,
  checkPrerequisites,
  freePort,
  gate,
  publishSplit,
  requestsFor,
  splitFiles,
  writeDocs,
  tryLoadGolden,
  requirePath,
  requirePkg,
  sleep,
  tempDir,
  waitFor,
} from './support.mjs';

const WORKERD = join(ROOT, 'node_modules/.bin/workerd');
const WORKER_SRC = join(ROOT, 'tests/js/worker/worker.mjs');
// A document only the second version of the split index has (refresh test).
const NEW_DOC = {
  id: 'tmux-cheatsheet',
  title: 'tmux cheat sheet',
  body: 'Keyboard shortcuts for the tmux terminal multiplexer, collected by the quokkaflux project.',
  url: 'https://kb.example/tmux-cheatsheet',
  tags: ['terminal'],
};

const { golden, goldenError } = await tryLoadGolden();

// Text strings in Cap'n Proto text format are JSON-compatible double-quoted strings.
const capnpString = (s) => JSON.stringify(s);

function workerdConfig({ port, indexUrl, splitUrl, cutUrl, splitOptions }) {
  return `using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "main", worker = .searchWorker),
    # The Worker's fetch() goes here: loopback only, which is where the index is served from.
    (name = "loopback", network = (allow = ["local"])),
  ],
  sockets = [
    (name = "http", address = ${capnpString(`127.0.0.1:${port}`)}, http = (), service = "main"),
  ],
);

const searchWorker :Workerd.Worker = (
  modules = [
    (name = "worker.mjs", esModule = embed "worker.mjs"),
    (name = "edgekb.js", esModule = embed "edgekb.js"),
    (name = "edgekb_bg.wasm", wasm = embed "edgekb_bg.wasm"),
  ],
  bindings = [
    (name = "INDEX_URL", text = ${capnpString(indexUrl)}),
    (name = "SPLIT_INDEX_URL", text = ${capnpString(splitUrl)}),
    (name = "CUT_INDEX_URL", text = ${capnpString(cutUrl)}),
    (name = "SPLIT_OPTIONS", text = ${capnpString(JSON.stringify(splitOptions))}),
  ],
  compatibilityDate = "2025-01-01",
  # request.signal aborts when the client disconnects (the Worker passes it to search()); the
  # local workerd does not report a disconnect before the response starts, so it is not tested.
  compatibilityFlags = ["enable_request_signal"],
  globalOutbound = "loopback",
);
`;
}

test('prerequisites are built, and workerd is installed', () => {
  checkPrerequisites([WORKERD, CLI]);
  if (goldenError) throw goldenError;
});

// Open options of the split index in the Worker: small timeouts keep the fault tests fast.
const SPLIT_OPTIONS = { timeoutMs: 3000, retries: 2, backoffMs: 5 };

describe('wasm package in workerd', { timeout: 120_000 }, () => {
  let indexServer;
  let splitServer;
  let splitDir;
  let v2Dir;
  let files;
  let tmp;
  let proc;
  let base;
  let exited = null;
  let output = '';

  const logs = () => (output.trim() ? `\n--- workerd output ---\n${output.trim().slice(-4000)}` : '');

  async function get(path) {
    const res = await fetch(base + path);
    const text = await res.text();
    let body;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    return { status: res.status, type: res.headers.get('content-type'), text, body };
  }

  before(async () => {
    if (goldenError) throw goldenError;
    requirePkg();
    requirePath(FIXTURE);
    assert.ok(existsSync(WORKERD), `${WORKERD} is missing: run npm ci (./build.sh setup)`);

    requirePath(CLI);
    indexServer = await startServer({ root: ROOT });
    tmp = await tempDir('workerd');
    splitDir = join(tmp.dir, 'split');
    files = splitFiles(await buildSplit(DOCS_JSONL, splitDir));
    v2Dir = join(tmp.dir, 'split-v2');
    await buildSplit(await writeDocs(join(tmp.dir, 'docs2.jsonl'), [NEW_DOC]), v2Dir);
    const cutDir = join(tmp.dir, 'cut');
    await buildSplit(DOCS_JSONL, cutDir, CUT_ARGS);
    splitServer = await startServer({ root: splitDir, mounts: { '/cut/': cutDir } });
    await copyFile(WORKER_SRC, join(tmp.dir, 'worker.mjs'));
    await copyFile(join(PKG_DIR, 'edgekb.js'), join(tmp.dir, 'edgekb.js'));
    await copyFile(join(PKG_DIR, 'edgekb_bg.wasm'), join(tmp.dir, 'edgekb_bg.wasm'));
    const port = await freePort();
    const indexUrl = indexServer.url + FIXTURE_URL_PATH.slice(1);
    const splitUrl = splitServer.url + 'manifest.json';
    const cutUrl = splitServer.url + 'cut/manifest.json';
    await writeFile(join(tmp.dir, 'config.capnp'), workerdConfig({ port, indexUrl, splitUrl, cutUrl, splitOptions: SPLIT_OPTIONS }));

    proc = spawn(WORKERD, ['serve', 'config.capnp'], {
      cwd: tmp.dir,
      env: { ...process.env, PWD: tmp.dir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    proc.stdout.on('data', (d) => (output += d));
    proc.stderr.on('data', (d) => (output += d));
    proc.on('exit', (code, signal) => (exited = { code, signal }));
    base = `http://127.0.0.1:${port}`;

    await waitFor(
      async () => {
        if (exited) throw Object.assign(new Error(`workerd exited early (${JSON.stringify(exited)})${logs()}`), { fatal: true });
        const r = await fetch(base + '/health');
        return r.status === 200;
      },
      { timeoutMs: 30_000, intervalMs: 150, what: `workerd to answer on ${base}` },
    ).catch((err) => {
      throw new Error(err.message + (err.message.includes('workerd output') ? '' : logs()));
    });
  });

  after(async () => {
    if (proc && !exited) {
      proc.kill('SIGTERM');
      const deadline = Date.now() + 5000;
      while (!exited && Date.now() < deadline) await sleep(50);
      if (!exited) proc.kill('SIGKILL');
    }
    if (process.env.EDGEKB_SHOW_WORKERD_LOG) console.log(output);
    await indexServer?.close();
    await splitServer?.close();
    await tmp?.cleanup();
  });

  // The first requests arrive together, before the index is loaded: they must all wait for the
  // same load (one fetch of the index) and all get their answer.
  test('concurrent first requests share one index load', async () => {
    const cases = (golden?.cases ?? []).slice(0, 6);
    const answers = await Promise.all(
      cases.map((c) => get(`/search?${new URLSearchParams({ q: c.query, limit: String(c.limit ?? 10) })}`)),
    );
    for (const [i, r] of answers.entries()) {
      assert.equal(r.status, 200, `HTTP ${r.status}: ${r.text}${logs()}`);
      assertMatchesGolden(r.body, cases[i].expect, caseName(cases[i], i));
    }
  });

  describe('golden cases over HTTP', () => {
    for (const [i, c] of (golden?.cases ?? []).entries()) {
      test(caseName(c, i), async () => {
        const params = new URLSearchParams({ q: c.query });
        if (c.limit !== undefined) params.set('limit', String(c.limit));
        const r = await get(`/search?${params}`);
        assert.equal(r.status, 200, `HTTP ${r.status}: ${r.text}${logs()}`);
        assert.match(r.type ?? '', /^application\/json/);
        assertMatchesGolden(r.body, c.expect, caseName(c, i));
      });
    }
  });

  test('the index was fetched from the static server exactly once', () => {
    const s = indexServer.stats().byPath[FIXTURE_URL_PATH];
    assert.ok(s, 'the worker never fetched the index');
    assert.equal(s.requests, 1, 'the worker keeps the index it opened');
  });

  describe('bad requests get a 400 JSON error', () => {
    const bad = {
      'missing q': '/search',
      'missing q with a limit': '/search?limit=5',
      'limit not a number': '/search?q=game&limit=ten',
      'limit zero': '/search?q=game&limit=0',
      'negative limit': '/search?q=game&limit=-3',
      'limit too large': '/search?q=game&limit=100000',
      'query too long': `/search?q=${'a'.repeat(1025)}`,
    };
    for (const [name, path] of Object.entries(bad)) {
      test(name, async () => {
        const r = await get(path);
        assert.equal(r.status, 400, `HTTP ${r.status}: ${r.text}`);
        assert.match(r.type ?? '', /^application\/json/);
        assert.equal(typeof r.body?.error?.message, 'string', r.text);
        assert.equal(r.body.error.code, 'BadRequest');
      });
    }
  });

  test('an unknown path is a 404 JSON error', async () => {
    const r = await get('/nope');
    assert.equal(r.status, 404);
    assert.equal(r.body?.error?.code, 'NotFound');
  });
  describe('split index', () => {
    const search = (q, extra = {}) => get(`/split/search?${new URLSearchParams({ q, ...extra })}`);
    const log = () => splitServer.stats().log;
    const isFile = (name) => (ctx) => ctx.pathname === '/' + name;
    // The Worker forgets its split index (and its cache); the next request opens it again.
    async function reopen() {
      const r = await get('/split/reopen');
      assert.equal(r.status, 200, r.text);
      const s = await get('/split/stats');
      assert.equal(s.status, 200, `${s.text}${logs()}`);
      splitServer.resetStats();
      return s.body;
    }

    test('open fetches the dictionary alone, which holds the manifest', async () => {
      splitServer.resetStats();
      const r = await get('/split/stats');
      assert.equal(r.status, 200, `${r.text}${logs()}`);
      assert.equal(r.body.split, true);
      assert.equal(r.body.requests, 1, 'stats().requests after open');
      // The dictionary under its fixed name (layout 6: it holds the manifest).
      assert.deepEqual(
        log().map((l) => [l.pathname, l.range, l.status]),
        [['/dictionary.bin', null, 200]],
      );
      assert.equal(r.body.budget, 16 << 20, 'the default cache budget in Workers is 16 MiB');
    });

    test('a one-term query: 1 postings range request (the fixture keeps its hit fields in the dictionary); again: none; an unknown word: none', async () => {
      const before = await reopen();
      const first = await search('tmux ');
      assert.equal(first.status, 200, `${first.text}${logs()}`);
      assert.ok(first.body.hits.some((h) => h.id === 'tmux'), first.text);
      assert.deepEqual(log().map((l) => l.pathname), ['/' + files.postings]);
      for (const l of log()) {
        assert.match(l.range ?? '', /^bytes=\d+-\d+$/, `${l.pathname} asked for with Range`);
        assert.equal(l.status, 206, `${l.pathname} answered 206`);
      }
      const after1 = (await get('/split/stats')).body;
      assert.equal(after1.requests - before.requests, 1);
      assert.equal(after1.bytesFetched - before.bytesFetched, splitServer.stats().bytes);

      splitServer.resetStats();
      const again = await search('tmux ');
      assert.deepEqual(again.body, first.body);
      const none = await search('xylophonequux');
      assert.deepEqual(none.body, { total: 0, hits: [] });
      assert.equal(splitServer.stats().requests, 0, 'no request for a repeated query or an unknown word');
      assert.equal((await get('/split/stats')).body.requests, after1.requests);
    });

    describe('golden cases over a split index', () => {
      for (const [i, c] of (golden?.cases ?? []).entries()) {
        test(caseName(c, i), async () => {
          const params = { ...(c.limit === undefined ? {} : { limit: String(c.limit) }) };
          const r = await search(c.query, params);
          assert.equal(r.status, 200, `HTTP ${r.status}: ${r.text}${logs()}`);
          assertMatchesGolden(r.body, c.expect, caseName(c, i));
        });
      }
    });

    describe('golden cases over a cut dictionary (router + parts fetched on demand)', () => {
      for (const [i, c] of (golden?.cases ?? []).entries()) {
        test(caseName(c, i), async () => {
          const params = { q: c.query, ...(c.limit === undefined ? {} : { limit: String(c.limit) }) };
          const r = await get(`/cut/search?${new URLSearchParams(params)}`);
          assert.equal(r.status, 200, `HTTP ${r.status}: ${r.text}${logs()}`);
          assertMatchesGolden(r.body, c.expect, caseName(c, i));
        });
      }
      test('dictionary parts were fetched in Range requests', () => {
        const parts = splitServer.stats().log.filter((l) => l.pathname.startsWith('/cut/terms.'));
        assert.ok(parts.length > 0, 'no dictionary part was fetched');
        for (const l of parts) assert.match(l.range ?? '', /^bytes=\d+-\d+$/);
      });
    });

    test('a deadline (timeoutMs) aborts a search whose postings are delayed; the fetch is closed', async () => {
      await reopen();
      splitServer.setFault((ctx) => (isFile(files.postings)(ctx) ? { delayMs: 2000 } : undefined));
      try {
        const t0 = Date.now();
        const r = await search('tmux ', { timeoutMs: '100' });
        const ms = Date.now() - t0;
        assert.equal(r.status, 504, r.text);
        assert.equal(r.body?.error?.code, 'Timeout');
        assert.ok(ms < 1000, `answered after ${ms} ms; the postings were delayed 2000 ms`);
        await waitFor(() => splitServer.stats().clientAborts === 1, { timeoutMs: 1500, intervalMs: 10, what: 'the index server to see the fetch closed' });
        await waitFor(async () => (await get('/split/stats')).body.inFlight === 0, { timeoutMs: 1500, intervalMs: 20, what: 'inFlight 0' });
      } finally {
        splitServer.setFault(null);
      }
    });

    test('concurrent requests for the same term run at once, each with its own fetch (no sharing across requests in Workers); then the cache answers', async () => {
      await reopen();
      splitServer.setFault((ctx) => (isFile(files.postings)(ctx) ? { delayMs: 250 } : undefined));
      try {
        const t0 = Date.now();
        const [a, b, c] = await Promise.all([search('tmux '), search('tmux '), search('tmux ', { limit: '5' })]);
        const ms = Date.now() - t0;
        for (const r of [a, b, c]) {
          assert.equal(r.status, 200, `${r.text}${logs()}`);
          assert.ok(r.body.hits.some((h) => h.id === 'tmux'), r.text);
        }
        assert.deepEqual(a.body, b.body);
        assert.equal(requestsFor(log(), files.postings).length, 3, 'one postings request per request: fetches are not shared across requests');
        assert.ok(ms < 700, `the three ran concurrently (${ms} ms for three 250 ms fetches)`);
        splitServer.resetStats();
        const d = await search('tmux ');
        assert.deepEqual(d.body, a.body);
        assert.equal(splitServer.stats().requests, 0, 'then answered from the cache');
      } finally {
        splitServer.setFault(null);
      }
    });

    test('40 concurrent requests for different queries, three rounds on a cold index, all answered', async () => {
      const cases = golden.cases.filter((c) => c.expect.total > 0);
      for (let round = 0; round < 3; round++) {
        await reopen();
        splitServer.setFault((ctx) => (ctx.pathname === '/manifest.json' ? undefined : { delayMs: (ctx.requestNumber * 7) % 40 }));
        try {
          const picked = Array.from({ length: 40 }, (_, i) => cases[(i * 7 + round) % cases.length]);
          const answers = await Promise.all(picked.map((c) => search(c.query, c.limit === undefined ? {} : { limit: String(c.limit) })));
          for (const [i, r] of answers.entries()) {
            assert.equal(r.status, 200, `round ${round}: HTTP ${r.status}: ${r.text}${logs()}`);
            assertMatchesGolden(r.body, picked[i].expect, caseName(picked[i], i));
          }
        } finally {
          splitServer.setFault(null);
        }
      }
    });

    test('concurrent requests for different queries on a cold index all get their golden answer', async () => {
      await reopen();
      splitServer.setFault((ctx) => (ctx.pathname === '/manifest.json' ? undefined : { delayMs: 50 }));
      try {
        const cases = golden.cases.filter((c) => c.expect.total > 0).slice(0, 12);
        const answers = await Promise.all(cases.map((c) => search(c.query, c.limit === undefined ? {} : { limit: String(c.limit) })));
        for (const [i, r] of answers.entries()) {
          assert.equal(r.status, 200, `HTTP ${r.status}: ${r.text}${logs()}`);
          assertMatchesGolden(r.body, cases[i].expect, caseName(cases[i], i));
        }
      } finally {
        splitServer.setFault(null);
      }
    });

    test('a 500 then success is retried; a 404 is a 502 HttpStatus, not retried', async () => {
      await reopen();
      splitServer.setFault((ctx) => (isFile(files.postings)(ctx) && ctx.requestNumber === 1 ? { status: 500 } : undefined));
      try {
        const c = golden.cases[0];
        const r = await search(c.query);
        assert.equal(r.status, 200, `${r.text}${logs()}`);
        assertMatchesGolden(r.body, c.expect, c.query);
        assert.equal(requestsFor(log(), files.postings).length, 2);
        assert.ok((await get('/split/stats')).body.retries >= 1);

        await reopen();
        splitServer.setFault((ctx) => (isFile(files.postings)(ctx) ? { status: 404 } : undefined));
        const missing = await search(c.query);
        assert.equal(missing.status, 502, missing.text);
        assert.equal(missing.body?.error?.code, 'HttpStatus');
        const again = await search('tmux ');
        assert.equal(again.body?.error?.code, 'HttpStatus');
        assert.equal(requestsFor(log(), files.postings).length, 1, 'not retried, not requested again');
      } finally {
        splitServer.setFault(null);
      }
    });

    test('corrupted bytes: ChecksumMismatch when persistent, then the same query succeeds', async () => {
      await reopen();
      splitServer.setFault((ctx) => (isFile(files.postings)(ctx) ? { corrupt: true } : undefined));
      const c = golden.cases[0];
      try {
        const r = await search(c.query);
        assert.equal(r.status, 502, r.text);
        assert.equal(r.body?.error?.code, 'ChecksumMismatch');
        assert.equal(requestsFor(log(), files.postings).length, SPLIT_OPTIONS.retries + 1, 'retried');
      } finally {
        splitServer.setFault(null);
      }
      const ok = await search(c.query);
      assert.equal(ok.status, 200, ok.text);
      assertMatchesGolden(ok.body, c.expect, 'after the fault is gone');
    });

    test('a host without Range support gives the golden results', async () => {
      await reopen();
      splitServer.setFault(() => ({ ignoreRange: true }));
      try {
        for (const [i, c] of (golden?.cases ?? []).entries()) {
          const r = await search(c.query, c.limit === undefined ? {} : { limit: String(c.limit) });
          assert.equal(r.status, 200, `${r.text}${logs()}`);
          assertMatchesGolden(r.body, c.expect, `no Range: ${caseName(c, i)}`);
        }
        assert.ok(log().length > 0 && log().every((l) => l.status === 200));
      } finally {
        splitServer.setFault(null);
      }
    });

    test('refresh: a new manifest is picked up after the search already running, which answers from the old version', async () => {
      await reopen();
      const before = await search('tmux ');
      assert.deepEqual(before.body.hits.map((h) => h.id), ['tmux']);
      await reopen();
      const hold = gate();
      splitServer.setFault((ctx) => (isFile(files.postings)(ctx) ? { hold: hold.promise } : undefined));
      try {
        const pending = search('tmux ');
        await waitFor(() => requestsFor(log(), files.postings).length === 1, { timeoutMs: 2000, intervalMs: 5, what: 'the v1 postings request' });
        await publishSplit(v2Dir, splitDir);
        const refreshed = get('/split/refresh');
        await sleep(100);
        hold.open();
        const old = await pending;
        assert.equal(old.status, 200, old.text);
        assert.deepEqual(old.body, before.body, 'the search started before refresh answers from the old version');
        const r = await refreshed;
        assert.equal(r.status, 200, r.text);
        assert.equal(r.body.changed, true);
        const found = await search('quokkaflux');
        assert.deepEqual(found.body.hits?.map((h) => h.id), [NEW_DOC.id], found.text);
        const both = await search('tmux ');
        assert.deepEqual(both.body.hits?.map((h) => h.id).sort(), ['tmux', NEW_DOC.id].sort(), both.text);
        assert.equal((await get('/split/refresh')).body.changed, false, 'nothing new since');
      } finally {
        splitServer.setFault(null);
        hold.open();
      }
    });
  });
});
