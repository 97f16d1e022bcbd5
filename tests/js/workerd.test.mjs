// The wasm package in workerd (Cloudflare's Workers runtime): tests/js/worker/worker.mjs runs in a
// real workerd process, fetches the index over HTTP from a local static server, and answers the
// golden queries over HTTP.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startServer } from '../../scripts/serve.mjs';
import {
  FIXTURE,
  FIXTURE_URL_PATH,
  PKG_DIR,
  ROOT,
  assertMatchesGolden,
  caseName,
  checkPrerequisites,
  freePort,
  loadGolden,
  requirePath,
  requirePkg,
  sleep,
  tempDir,
  waitFor,
} from './support.mjs';

const WORKERD = join(ROOT, 'node_modules/.bin/workerd');
const WORKER_SRC = join(ROOT, 'tests/js/worker/worker.mjs');

let golden = null;
let goldenError = null;
try {
  golden = await loadGolden();
} catch (err) {
  goldenError = err;
}

// Text strings in Cap'n Proto text format are JSON-compatible double-quoted strings.
const capnpString = (s) => JSON.stringify(s);

function workerdConfig({ port, indexUrl }) {
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
  ],
  compatibilityDate = "2025-01-01",
  globalOutbound = "loopback",
);
`;
}

test('prerequisites are built, and workerd is installed', () => {
  checkPrerequisites([WORKERD]);
  if (goldenError) throw goldenError;
});

describe('wasm package in workerd', { timeout: 120_000 }, () => {
  let indexServer;
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

    indexServer = await startServer({ root: ROOT });
    tmp = await tempDir('workerd');
    await copyFile(WORKER_SRC, join(tmp.dir, 'worker.mjs'));
    await copyFile(join(PKG_DIR, 'edgekb.js'), join(tmp.dir, 'edgekb.js'));
    await copyFile(join(PKG_DIR, 'edgekb_bg.wasm'), join(tmp.dir, 'edgekb_bg.wasm'));
    const port = await freePort();
    const indexUrl = indexServer.url + FIXTURE_URL_PATH.slice(1);
    await writeFile(join(tmp.dir, 'config.capnp'), workerdConfig({ port, indexUrl }));

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
});
