// Leak and cancellation soak of the wasm engine, in headless Chromium and in workerd: on a split
// index (its dictionary cut into parts, hit-display data in a pack) with a cache budget of four
// pages, 1,000 search/abort cycles (two searches of one query, one aborted at a varying point,
// data answers delayed so that aborts catch fetches in flight), then 10,000 queries. At rest,
// after each load, nothing may be left alive and nothing may have grown:
//
//   - kb.stats().inFlight === 0 (no fetch held by the engine);
//   - no live timer, abort listener or unsettled fetch (counted by tests/js/soak-probe.mjs,
//     which wraps setTimeout/clearTimeout, AbortSignal listeners and fetch before the engine
//     loads);
//   - the cache holds at most its budget (bytesHeld <= budget), and it did evict;
//   - wasm memory (memory.buffer.byteLength of the instance's exports) at most MEMORY_OVERHEAD
//     above what it was after a warm-up of WARMUP queries. Wasm memory never shrinks, so this
//     bounds the peak too; the warm-up memory itself is reported.
//
// Counts and bytes only, no timings. Each runtime's figures are printed as test diagnostics.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium } from 'playwright-core';
import { startServer } from '../../scripts/serve.mjs';
import {
  CHROMIUM,
  CHROMIUM_ARGS,
  CLI,
  CUT_ARGS,
  DOCS_JSONL,
  LAZY_DISPLAY_ARGS,
  PAGE_CHARGE,
  PKG_DIR,
  ROOT,
  buildSplit,
  checkPrerequisites,
  copyPkg,
  freePort,
  seededRandom,
  sleep,
  tempDir,
  waitFor,
} from './support.mjs';

const WORKERD = join(ROOT, 'node_modules/.bin/workerd');
const PROBE = join(ROOT, 'tests/js/soak-probe.mjs');
const CYCLES = 1000;
const QUERIES = 10_000;
const WARMUP = 200;
const BATCH = 1000;
const ABORT_BATCH = 250;
/** The cache budget: four pages. */
const CACHE_BYTES = 4 * PAGE_CHARGE;
/** Wasm memory allowed above the warm-up's, after all the load. */
const MEMORY_OVERHEAD = 1 << 20;
/** Data answers are delayed this long during the abort cycles. */
const DATA_DELAY_MS = 2;
const OPTIONS = { cacheBytes: CACHE_BYTES, timeoutMs: 10_000, retries: 1, backoffMs: 5 };

/** A deterministic mix of query shapes over the fixture's title words. */
async function makeQueries() {
  const docs = (await readFile(DOCS_JSONL, 'utf8'))
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l));
  const titles = docs.map((d) => (d.title ?? '').toLowerCase().match(/[a-z]{3,}/g) ?? []);
  const words = [...new Set(titles.flat())].sort();
  const rand = seededRandom(7);
  const pick = (a) => a[Math.floor(rand() * a.length)];
  const out = [];
  for (let i = 0; i < 500; i++) {
    const w = pick(words);
    const v = pick(words);
    const t = pick(titles.filter((x) => x.length >= 2));
    const j = Math.floor(rand() * (t.length - 1));
    const typo = w.length > 4 ? w.slice(0, 1) + w[2] + w[1] + w.slice(3) : w + 'x';
    out.push(
      [w, `${w} ${v}`, w.slice(0, 3), typo, `"${t[j]} ${t[j + 1]}"`, `${w} OR ${v}`, `${w} -${v}`, `title:${w}`, `${w.slice(0, 2)}`][i % 9],
    );
  }
  return out;
}

/** Asserts what must hold at rest, and returns it. */
function assertAtRest(rest, what) {
  assert.equal(rest.inFlight, 0, `${what}: fetches held by the engine (stats().inFlight)`);
  assert.equal(rest.fetches, 0, `${what}: fetch calls not settled`);
  assert.equal(rest.timers, 0, `${what}: live timers`);
  assert.equal(rest.listeners, 0, `${what}: abort listeners still attached`);
  assert.ok(rest.bytesHeld <= rest.budget, `${what}: cache holds ${rest.bytesHeld} bytes over its budget ${rest.budget}`);
  assert.equal(rest.budget, CACHE_BYTES, `${what}: the cache budget is the one asked for`);
  return rest;
}

const quiet = (r) => r.inFlight === 0 && r.fetches === 0 && r.timers === 0 && r.listeners === 0;

/** Waits (at most 5 s) for the runtime to come to rest, then asserts what must hold there. */
async function settle(getRest, what) {
  let last = null;
  await waitFor(async () => quiet((last = await getRest())), { timeoutMs: 5000, intervalMs: 20, what }).catch(() => null);
  return assertAtRest(last ?? (await getRest()), what);
}

function figures(t, runtime, warm, afterAborts, end, aborts, load) {
  t.diagnostic(
    `${runtime}: ${CYCLES} abort cycles (${aborts.aborted} aborted, ${aborts.completed} completed), ` +
      `${load.ok} queries (${load.hits} hits); cache budget ${CACHE_BYTES} B, held ${end.bytesHeld} B, ` +
      `${end.evictions} evictions, ${end.requests} requests; wasm memory after warm-up ${warm.memoryBytes} B, ` +
      `after aborts ${afterAborts.memoryBytes} B, at the end ${end.memoryBytes} B; ` +
      `timers started ${end.started.timers}, abort listeners added ${end.started.listeners}, fetches ${end.started.fetches}`,
  );
}

function checkLoads(aborts, load, runtime) {
  assert.deepEqual(aborts.errors, [], `${runtime}: errors during abort cycles`);
  assert.equal(aborts.aborted + aborts.completed, 2 * CYCLES, `${runtime}: every search settled`);
  assert.ok(aborts.aborted >= CYCLES / 4, `${runtime}: aborts that took effect: ${aborts.aborted}`);
  assert.deepEqual(load.errors, [], `${runtime}: errors during the query load`);
  assert.equal(load.ok, QUERIES, `${runtime}: every query answered`);
}

test('prerequisites are built, and Chromium and workerd are installed', () => {
  checkPrerequisites([CHROMIUM, CLI, WORKERD]);
});

describe('soak: leaks and cancellation in wasm', { timeout: 600_000 }, () => {
  let tmp;
  let server;
  let queries;

  before(async () => {
    tmp = await tempDir('soak');
    await buildSplit(DOCS_JSONL, join(tmp.dir, 'kb'), [...CUT_ARGS, ...LAZY_DISPLAY_ARGS]);
    await copyPkg(join(tmp.dir, 'pkg'));
    await copyFile(PROBE, join(tmp.dir, 'soak-probe.mjs'));
    await writeFile(join(tmp.dir, 'soak.html'), '<!doctype html><meta charset="utf-8"><title>soak</title><link rel="icon" href="data:,">\n');
    server = await startServer({ root: tmp.dir });
    queries = await makeQueries();
  });

  after(async () => {
    await server?.close();
    await tmp?.cleanup();
  });

  const delayData = () => server.setFault((ctx) => (ctx.pathname.endsWith('.bin') && ctx.headers.range ? { delayMs: DATA_DELAY_MS } : undefined));

  /**
   * The soak in one runtime: `drive` runs batches there ({queries(from, n), aborts(from, n)},
   * each resolving to what soak-probe.mjs's driver returned) and reads its state at rest
   * (rest()).
   */
  async function soak(t, runtime, drive) {
    const [alive, released] = await drive.probe();
    assert.deepEqual([alive.timers, alive.listeners, alive.fetches], [1, 1, 1], `${runtime}: the probe sees a live timer, listener and fetch`);
    assert.deepEqual([released.timers, released.listeners, released.fetches], [0, 0, 0], `${runtime}: and sees them go`);
    await drive.queries(0, WARMUP);
    const warm = await settle(drive.rest, `${runtime}, after the warm-up`);
    const aborts = { aborted: 0, completed: 0, errors: [] };
    delayData();
    try {
      for (let from = 0; from < CYCLES; from += ABORT_BATCH) {
        const r = await drive.aborts(from, ABORT_BATCH);
        aborts.aborted += r.aborted;
        aborts.completed += r.completed;
        aborts.errors.push(...r.errors);
      }
    } finally {
      server.setFault(null);
    }
    const afterAborts = await settle(drive.rest, `${runtime}, after the abort cycles`);
    const load = { ok: 0, hits: 0, errors: [] };
    for (let from = 0; from < QUERIES; from += BATCH) {
      const r = await drive.queries(from, BATCH);
      load.ok += r.ok;
      load.hits += r.hits;
      load.errors.push(...r.errors);
    }
    const end = await settle(drive.rest, `${runtime}, after 10,000 queries`);
    figures(t, runtime, warm, afterAborts, end, aborts, load);
    checkLoads(aborts, load, runtime);
    assert.ok(end.evictions > 0, `${runtime}: the cache budget was exercised (evictions)`);
    assert.ok(end.memoryBytes <= warm.memoryBytes + MEMORY_OVERHEAD, `${runtime}: wasm memory grew from ${warm.memoryBytes} to ${end.memoryBytes} bytes`);
  }

  test('Chromium: 1,000 search/abort cycles and 10,000 queries leave nothing behind', async (t) => {
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 60_000 });
    try {
      const page = await browser.newPage();
      const errors = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`${server.url}soak.html`);
      await page.evaluate(
        async ({ options, manifest }) => {
          const probe = await import('./soak-probe.mjs');
          const snapshot = probe.installProbe(globalThis);
          const mod = await import('./pkg/edgekb.js');
          const wasm = await mod.default();
          const kb = await mod.KnowledgeBase.open(manifest, options);
          window.__soak = { probe, kb, rest: () => probe.restState(kb, snapshot, wasm.memory), check: () => probe.probeSelfCheck(snapshot, manifest) };
        },
        { options: OPTIONS, manifest: `${server.url}kb/manifest.json` },
      );
      const run = (fn, args) => page.evaluate(fn, args);
      const rest = () => run(() => window.__soak.rest());

      await soak(t, 'Chromium', {
        rest,
        probe: () => run(() => window.__soak.check()),
        queries: (from, n) => run(({ q, n, from }) => window.__soak.probe.queryLoad(window.__soak.kb, q, n, { from }), { q: queries, n, from }),
        aborts: (from, n) => run(({ q, n, from }) => window.__soak.probe.abortCycles(window.__soak.kb, q, n, from), { q: queries, n, from }),
      });
      assert.deepEqual(errors, [], 'uncaught page errors');
    } finally {
      await browser.close();
    }
  });

  test('workerd: 1,000 search/abort cycles and 10,000 queries leave nothing behind', async (t) => {
    const dir = join(tmp.dir, 'worker');
    await mkdir(dir, { recursive: true });
    for (const [from, to] of [
      [join(ROOT, 'tests/js/worker/soak.mjs'), 'soak.mjs'],
      [PROBE, 'soak-probe.mjs'],
      [join(PKG_DIR, 'edgekb.js'), 'edgekb.js'],
      [join(PKG_DIR, 'edgekb_bg.wasm'), 'edgekb_bg.wasm'],
    ]) {
      await copyFile(from, join(dir, to));
    }
    const port = await freePort();
    const s = JSON.stringify;
    await writeFile(
      join(dir, 'config.capnp'),
      `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [(name = "main", worker = .soak), (name = "loopback", network = (allow = ["local"]))],
  sockets = [(name = "http", address = ${s(`127.0.0.1:${port}`)}, http = (), service = "main")],
);
const soak :Workerd.Worker = (
  modules = [
    (name = "soak.mjs", esModule = embed "soak.mjs"),
    (name = "soak-probe.mjs", esModule = embed "soak-probe.mjs"),
    (name = "edgekb.js", esModule = embed "edgekb.js"),
    (name = "edgekb_bg.wasm", wasm = embed "edgekb_bg.wasm"),
  ],
  bindings = [
    (name = "SPLIT_INDEX_URL", text = ${s(`${server.url}kb/manifest.json`)}),
    (name = "OPTIONS", text = ${s(s(OPTIONS))}),
    (name = "QUERIES", text = ${s(s(queries))}),
  ],
  compatibilityDate = "2025-01-01",
  globalOutbound = "loopback",
);
`,
    );
    let output = '';
    let exited = null;
    const proc = spawn(WORKERD, ['serve', 'config.capnp'], { cwd: dir, env: { ...process.env, PWD: dir }, stdio: ['ignore', 'pipe', 'pipe'] });
    proc.stdout.on('data', (d) => (output += d));
    proc.stderr.on('data', (d) => (output += d));
    proc.on('exit', (code, signal) => (exited = { code, signal }));
    const base = `http://127.0.0.1:${port}`;
    const get = async (path) => {
      const r = await fetch(base + path);
      const text = await r.text();
      assert.equal(r.status, 200, `${path}: HTTP ${r.status} ${text}\n${output.slice(-2000)}`);
      return JSON.parse(text);
    };
    try {
      await waitFor(
        async () => {
          if (exited) throw Object.assign(new Error(`workerd exited (${s(exited)}): ${output}`), { fatal: true });
          return (await fetch(`${base}/rest`)).status === 200;
        },
        { timeoutMs: 30_000, intervalMs: 150, what: 'workerd to answer' },
      );
      const rest = async () => (await get('/rest')).rest;

      await soak(t, 'workerd', {
        rest,
        probe: async () => {
          const r = await fetch(`${base}/probe`);
          assert.equal(r.status, 200, `/probe: ${output.slice(-2000)}`);
          return r.json();
        },
        queries: async (from, n) => (await get(`/queries?from=${from}&n=${n}`)).result,
        aborts: async (from, n) => (await get(`/abort?from=${from}&n=${n}`)).result,
      });
    } finally {
      if (!exited) {
        proc.kill('SIGTERM');
        const deadline = Date.now() + 5000;
        while (!exited && Date.now() < deadline) await sleep(50);
        if (!exited) proc.kill('SIGKILL');
      }
    }
  });
});
