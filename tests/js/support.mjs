// Shared by the *.test.mjs files (this file is not a test itself).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { readFile, readdir, mkdtemp, rm, cp, mkdir, writeFile, rename, copyFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const PKG_DIR = join(ROOT, 'pkg');
// The committed index of the newest format version (`tests/compat/v<N>/`), whose results are
// tests/golden/queries.json; older versions' fixtures have their own results, checked natively.
const NEWEST_FORMAT = Math.max(
  ...readdirSync(join(ROOT, 'tests/compat'))
    .map((d) => /^v(\d+)$/.exec(d))
    .filter(Boolean)
    .map((m) => Number(m[1])),
);
export const FIXTURE_URL_PATH = `/tests/compat/v${NEWEST_FORMAT}/fixture.ekb`;
export const FIXTURE = join(ROOT, FIXTURE_URL_PATH.slice(1));
export const DOCS_JSONL = join(ROOT, 'tests/fixtures/docs.jsonl');
// Headless Chromium, a required test runtime, and how the tests launch it.
export const CHROMIUM = process.env.EDGEKB_CHROMIUM ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
// The native command line (`./build.sh build`), which writes split indexes.
export const CLI = process.env.EDGEKB_CLI ? resolve(process.env.EDGEKB_CLI) : join(ROOT, 'target/release/edgekb');
// EDGEKB_GOLDEN points the tests at another golden file (used to check that a wrong
// expectation really fails them).
export const GOLDEN = process.env.EDGEKB_GOLDEN
  ? resolve(process.env.EDGEKB_GOLDEN)
  : join(ROOT, 'tests/golden/queries.json');

// Scores must agree to this relative tolerance; everything else exactly.
export const SCORE_REL_TOLERANCE = 1e-5;

const HINTS = {
  [PKG_DIR]: 'the wasm package is built by `./build.sh build`',
  [FIXTURE]: 'the compat fixture is written by the native cargo tests',
  [GOLDEN]: 'the golden queries are written by the native cargo tests',
  [CLI]: 'the edgekb command is built by `./build.sh build`',
};

/** Throws a readable error when something a test needs has not been built. */
export function requirePath(path) {
  if (!existsSync(path)) {
    throw new Error(`missing ${path}${HINTS[path] ? ` (${HINTS[path]})` : ''}`);
  }
  return path;
}

/**
 * Everything a runtime test needs that is built elsewhere (the wasm package, the compat fixture,
 * the golden file) plus `extra` paths. Each test file checks these in a test of its own first, so
 * that a missing piece is reported as a failure (a failed `before` hook only cancels tests).
 */
export function checkPrerequisites(extra = []) {
  const missing = [join(PKG_DIR, 'edgekb.js'), join(PKG_DIR, 'edgekb_bg.wasm'), FIXTURE, GOLDEN, ...extra].filter(
    (p) => !existsSync(p),
  );
  if (missing.length) {
    throw new Error(`missing:\n${missing.map((p) => `  ${p}${HINTS[p] ? ` (${HINTS[p]})` : ''}`).join('\n')}`);
  }
}

export function requirePkg() {
  requirePath(join(PKG_DIR, 'edgekb.js'));
  requirePath(join(PKG_DIR, 'edgekb_bg.wasm'));
}

/** The golden cases, validated enough that a malformed file fails loudly. */
export async function loadGolden(path = GOLDEN) {
  requirePath(path);
  const golden = JSON.parse(await readFile(path, 'utf8'));
  assert.ok(Array.isArray(golden.cases) && golden.cases.length > 0, `${path}: no cases`);
  for (const [i, c] of golden.cases.entries()) {
    assert.equal(typeof c.query, 'string', `${path}: case ${i} has no query`);
    assert.ok(c.expect && Array.isArray(c.expect.hits), `${path}: case ${i} has no expect.hits`);
  }
  return golden;
}

/** The golden file, or the error that loading it raised (reported by a test, not at import). */
export async function tryLoadGolden(path = GOLDEN) {
  try {
    return { golden: await loadGolden(path), goldenError: null };
  } catch (err) {
    return { golden: null, goldenError: err };
  }
}

export function caseName(c, i) {
  const limit = c.limit === undefined ? '' : ` limit ${c.limit}`;
  return `golden #${i}: ${JSON.stringify(c.query)}${limit}`;
}

/** search() options for a golden case. */
export function caseOptions(c) {
  return c.limit === undefined ? undefined : { limit: c.limit };
}

export function scoresClose(actual, expected) {
  if (actual === expected) return true;
  if (typeof actual !== 'number' || typeof expected !== 'number') return false;
  return Math.abs(actual - expected) <= SCORE_REL_TOLERANCE * Math.max(Math.abs(actual), Math.abs(expected));
}

// Projects `actual` onto the keys of `expected` (extra fields in actual are allowed: the API may
// grow), replacing a score that is within tolerance by the expected one, so that a
// deepStrictEqual diff shows only the real differences.
function project(actual, expected) {
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return actual;
    return actual.map((a, i) => (i < expected.length ? project(a, expected[i]) : a));
  }
  if (expected !== null && typeof expected === 'object') {
    if (actual === null || typeof actual !== 'object') return actual;
    const out = {};
    for (const key of Object.keys(expected)) {
      if (!(key in actual)) continue;
      out[key] = key === 'score' && scoresClose(actual[key], expected[key]) ? expected[key] : project(actual[key], expected[key]);
    }
    return out;
  }
  return actual;
}

/**
 * Asserts a search result equals a golden `expect`: total, hit count and order, every field of
 * each expected hit exactly, except scores (relative tolerance SCORE_REL_TOLERANCE).
 */
export function assertMatchesGolden(actual, expect, message) {
  assert.ok(actual && typeof actual === 'object', `${message}: result is ${actual}`);
  assert.ok(Array.isArray(actual.hits), `${message}: result.hits is not an array`);
  assert.deepStrictEqual(project(actual, expect), expect, message);
}

/** Asserts the result is made of plain objects and arrays (not Maps or class instances). */
export function assertPlainResult(result) {
  assert.equal(Object.getPrototypeOf(result), Object.prototype, 'search() result is a plain object');
  assert.equal(typeof result.total, 'number', 'result.total is a number');
  assert.ok(Array.isArray(result.hits), 'result.hits is an array');
  for (const hit of result.hits) {
    assert.equal(Object.getPrototypeOf(hit), Object.prototype, 'each hit is a plain object');
    for (const key of ['id', 'title', 'url']) assert.equal(typeof hit[key], 'string', `hit.${key} is a string`);
    assert.equal(typeof hit.score, 'number', 'hit.score is a number');
  }
}

/** Number of documents in tests/fixtures/docs.jsonl (the fixture index's source). */
export async function fixtureDocCount() {
  const text = await readFile(DOCS_JSONL, 'utf8');
  return text.split('\n').filter((line) => line.trim() !== '').length;
}

/** A port that was free a moment ago on 127.0.0.1. */
export function freePort() {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.once('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => ok(port));
    });
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Polls `fn` until it returns a truthy value; throws after timeoutMs, or at once when `fn` throws
 * an error with `fatal: true`.
 */
export async function waitFor(fn, { timeoutMs = 20000, intervalMs = 100, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  let lastErr;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      if (err?.fatal) throw err;
      lastErr = err;
    }
    await sleep(intervalMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastErr ? `: ${lastErr.message}` : ''}`);
}

/** A fresh temporary directory; remove it with the returned cleanup(). */
export async function tempDir(prefix) {
  const dir = await mkdtemp(join(tmpdir(), `edgekb-${prefix}-`));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Copies pkg/ into dest (created). */
export async function copyPkg(dest) {
  requirePkg();
  await mkdir(dest, { recursive: true });
  await cp(PKG_DIR, dest, { recursive: true });
}

/** Bytes that are certainly not an index: a deterministic pseudo-random buffer. */
export function garbageBytes(n, seed = 12345) {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

// ---------------------------------------------------------------- split indexes

/** Split-index page size and the cache's charge per page (bytes of data + entry overhead). */
export const PAGE_SIZE = 4096;
export const PAGE_CHARGE = 4096 + 64;
/** Bytes a page takes in its pack from split layout 5: its data and its CRC32 trailer. */
export const PAGE_STRIDE = PAGE_SIZE + 4;
/** Bytes before a data pack's first page. */
export const PACK_HEADER_LEN = 16;

/**
 * `edgekb build --split` arguments that cut even the fixture's small dictionary into parts of
 * about 300 bytes behind a router, so the tests exercise dictionary parts fetched on demand.
 */
export const CUT_ARGS = ['--resident-dictionary-bytes', '0', '--dictionary-part-bytes', '300'];

/**
 * `edgekb build --split` arguments that keep even the fixture's small hit-display data in its
 * pack (by default data under 64 KiB stays in the dictionary and hits cost no request), so the
 * tests exercise the hit phase's range requests and its faults.
 */
export const LAZY_DISPLAY_ARGS = ['--resident-display-bytes', '0'];

/**
 * Builds a split index of `docs` (a JSON Lines path) into `outDir` with the edgekb command and
 * returns its manifest.
 */
export async function buildSplit(docs, outDir, extraArgs = []) {
  requirePath(CLI);
  await new Promise((ok, fail) => {
    execFile(CLI, ['build', docs, '--out', outDir, '--split', ...extraArgs], { timeout: 60_000 }, (err, stdout, stderr) => {
      if (err) fail(new Error(`edgekb build --split failed: ${err.message}\n${stderr}`));
      else ok();
    });
  });
  return readManifest(outDir);
}

export async function readManifest(dir) {
  return JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8'));
}

/**
 * File names (relative to the manifest's directory) of the immutable files a search may read:
 * from layout 4 the norms pack too, when it holds data (norms small enough stay in the
 * dictionary, and their empty pack is never read).
 */
export function splitFiles(manifest) {
  return {
    dictionary: manifest.dictionary.name,
    postings: manifest.postings.name,
    positions: manifest.positions.name,
    store: manifest.store.name,
    terms: manifest.terms.name,
    display: manifest.display.name,
    ...(manifest.norms?.size > 16 ? { norms: manifest.norms.name } : {}),
  };
}

/**
 * Publishes the split index in `fromDir` into `toDir` the way a deploy should: the immutable
 * files first, then manifest.json replaced atomically (rename).
 */
export async function publishSplit(fromDir, toDir) {
  await mkdir(toDir, { recursive: true });
  for (const f of await readdir(fromDir)) {
    if (f !== 'manifest.json') await copyFile(join(fromDir, f), join(toDir, f));
  }
  const tmp = join(toDir, `.manifest.json.${process.pid}.tmp`);
  await copyFile(join(fromDir, 'manifest.json'), tmp);
  await rename(tmp, join(toDir, 'manifest.json'));
}

/** The fixture documents plus `extra` ones, written as JSON Lines to `path`. */
export async function writeDocs(path, extra = []) {
  const text = await readFile(DOCS_JSONL, 'utf8');
  await writeFile(path, text.replace(/\n*$/, '\n') + extra.map((d) => JSON.stringify(d) + '\n').join(''));
  return path;
}

/** A deterministic pseudo-random generator (xorshift32): returns () => float in [0, 1). */
export function seededRandom(seed = 1) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

/** Resolves `ms` after the call, with the time actually taken. */
export async function elapsed(fn) {
  const t0 = performance.now();
  let value;
  let error;
  let failed = false;
  try {
    value = await fn();
  } catch (err) {
    error = err;
    failed = true;
  }
  return { ms: performance.now() - t0, value, error, failed };
}

/**
 * A promise with its resolve function exposed (for holding a server response until released).
 */
export function gate() {
  let open;
  const promise = new Promise((ok) => {
    open = ok;
  });
  return { promise, open };
}

/** Asserts `err` is an EdgekbError with `code` (and not a wasm trap). */
export function assertEdgekbCode(err, code, what = 'error') {
  assert.ok(err instanceof Error, `${what}: rejected with ${Object.prototype.toString.call(err)} ${String(err)}, not an Error`);
  assert.ok(!(err instanceof WebAssembly.RuntimeError), `${what}: the wasm trapped (a Rust panic?): ${err.message}`);
  assert.equal(err.name, 'EdgekbError', `${what}: error name (message: ${err.message})`);
  assert.equal(err.code, code, `${what}: error code (message: ${err.message})`);
  return true;
}

/** Asserts `err` is the rejection of an aborted operation. */
export function assertAbortError(err, what = 'error') {
  assert.equal(err?.name, 'AbortError', `${what}: rejected with ${err?.name}: ${err?.message ?? err}`);
  return true;
}

/** Requests a server log shows for paths ending in `name` (a file of the split index). */
export function requestsFor(log, name) {
  return log.filter((l) => l.pathname.endsWith('/' + name));
}
