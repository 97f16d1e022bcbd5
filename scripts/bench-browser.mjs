#!/usr/bin/env node
// Benchmarks the wasm engine (pkg/) in headless Chromium on a real corpus (default: the Debian
// package descriptions beside the checkout).
//
//   node scripts/bench-browser.mjs [--docs ../shared/data/debian-packages.jsonl.gz] [--queries N]
//                                  [--warm 500] [--memory-queries 2400] [--native|--no-native]
//                                  [--pkg DIR]   (another wasm-pack build; default pkg/)
//                                  [--json FILE] (default target/bench/browser.json)
//
// Needs pkg/ and target/release/edgekb (`./build.sh build`), /usr/bin/chromium and
// playwright-core (`./build.sh setup`). Writes target/bench/browser.json and prints a summary.
//
// Steps:
//  1. Decompresses the corpus once to target/bench/<name>.jsonl (name: the file name up to its
//     first `-` or `.`, so `debian`), and builds with the CLI a split index
//     target/bench/<name>-split/ and a single file target/bench/<name>.ekb. A build is skipped
//     when its output is newer than both the JSONL and the CLI binary.
//  2. Native reference (unless --no-native): `cargo bench --bench corpus -- DOCS --queries N` with
//     EDGEKB_BENCH_MISSES=1, output kept in target/bench/native-corpus.txt and reused while the
//     content of src/, benches/corpus.rs, Cargo.toml, Cargo.lock and the corpus are unchanged
//     (--native forces a run).
//  3. Query sets, drawn like benches/corpus.rs draws them: same xorshift64* generator, same seeds
//     (0x5eed_1234_abcd_0001 for the N latency queries, 0x5eed_1234_abcd_0002 for the typo/prefix
//     set of 500 + 500), same rules, same order of draws, from the document titles in file order. A word's document
//     frequency (for "distinctive": 1..=20 documents) is the `total` of a one-word search with
//     prefix and typos off on the single file, in Node. Written to target/bench/queries-*.jsonl
//     ({"id","text"}: also readable by `edgekb search --queries`). The check at the end compares
//     the typo/prefix success counts and miss lists with the native run's, and the wasm's top 5
//     for every latency query with the native CLI's.
//  4. Serves a temporary root (pkg/ -> the wasm package, bench/ -> scripts/bench/, kb/ -> the
//     indexes) from a small server in this file on 127.0.0.1 that logs every request (path, Range,
//     status, body bytes, header bytes) and computes afterwards the gzip size of each response
//     body with Node's zlib at level 9 (nothing is sent compressed; GNU gzip -9, as in build.sh,
//     is ~1.5% smaller on the .wasm). It sends COOP/COEP headers so that the page is
//     cross-origin isolated and performance.now() has 5 µs resolution instead of 100 µs.
//  5. In Chromium (playwright-core, a fresh browser context per phase):
//     a. cold: load the page, init(), open the split manifest with cacheBytes 8 MiB, run the first
//        typo query; requests and bytes of the engine (glue + wasm + index) and of the index alone.
//     b. warm: then the first W latency queries on the same page, driven one at a time from Node so each
//        request is attributed to its query; postings phase (postings./positions.) and store
//        phase (store.) told apart by file name.
//     c. memory: fresh page, cacheBytes 8 MiB, M latency queries (cycling through the N), linear
//        memory at start and after 100, 1,000 and M queries, with kb.stats().
//     d. whole: fresh page, fetch the single file, fromBytes, linear memory, then latency of the N
//        queries with prefix and typos on (one untimed pass, one timed), and the typo/prefix sets.
import { spawnSync } from 'node:child_process';
import { createReadStream, createWriteStream, existsSync, statSync, readdirSync } from 'node:fs';
import { mkdtemp, mkdir, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir, loadavg, cpus } from 'node:os';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';
import { createGunzip, gzipSync, constants as zc } from 'node:zlib';
import { contentTypeFor, parseRange } from './serve.mjs';
import { loadNode } from '../js/node.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const BENCH_DIR = join(ROOT, 'target/bench');
const CLI = join(ROOT, 'target/release/edgekb');
let PKG = join(ROOT, 'pkg'); // --pkg DIR measures another build of the package
const PAGE_DIR = join(ROOT, 'scripts/bench');
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];
const CACHE_BYTES = 8 << 20;
const SEED = 0x5eed_1234_abcd_0001n;
const RATES_SEED = 0x5eed_1234_abcd_0002n;
const TYPO_SET = 500; // per kind, as in benches/corpus.rs
const MISS_LIST = Infinity; // benches/corpus.rs lists every miss (with EDGEKB_BENCH_MISSES=1)
const TIME_LIMIT_MS = 20 * 60_000;

class BenchError extends Error {}
const fail = (msg) => {
  throw new BenchError(msg);
};
const say = (msg) => process.stderr.write(`bench-browser: ${msg}\n`);

// ------------------------------------------------------------------------------------ arguments
function parseArgs(argv) {
  const o = { docs: resolve(ROOT, '../shared/data/debian-packages.jsonl.gz'), json: join(BENCH_DIR, 'browser.json'), queries: 2000, warm: 500, memoryQueries: 2400, native: 'auto' };
  const int = (name, v, min) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) fail(`${name} needs an integer ≥ ${min}, got ${v}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => (i + 1 < argv.length ? argv[++i] : fail(`${a} needs a value`));
    if (a === '--docs') o.docs = resolve(next());
    else if (a === '--queries') o.queries = int(a, next(), 1);
    else if (a === '--warm') o.warm = int(a, next(), 1);
    else if (a === '--memory-queries') o.memoryQueries = int(a, next(), 1);
    else if (a === '--pkg') o.pkg = resolve(next());
    else if (a === '--json') o.json = resolve(next());
    else if (a === '--native') o.native = 'force';
    else if (a === '--no-native') o.native = 'off';
    else if (a === '-h' || a === '--help') {
      process.stdout.write('usage: node scripts/bench-browser.mjs [--docs FILE.jsonl[.gz]] [--queries N] [--warm W] [--memory-queries M] [--native|--no-native] [--pkg DIR] [--json FILE]\n');
      process.exit(0);
    } else fail(`unknown argument ${a} (see --help)`);
  }
  return o;
}

// ------------------------------------------------------------------------------------ helpers
const mtime = (p) => (existsSync(p) ? statSync(p).mtimeMs : -Infinity);
const kb = (n) => `${(n / 1000).toFixed(1)} KB`;
const mb = (n) => `${(n / 1e6).toFixed(1)} MB`;
const mib = (n) => `${(n / 1048576).toFixed(1)} MiB`;
const pct = (x) => `${(100 * x).toFixed(1)}%`;
const fmt = (n) => n.toLocaleString('en-US');
const ms3 = (x) => `${x.toFixed(3)} ms`;
function percentile(sorted, p) {
  return sorted[Math.round((sorted.length - 1) * p)]; // as benches/corpus.rs
}
function latencyStats(ms) {
  const s = Float64Array.from(ms).sort();
  return { n: s.length, p50: percentile(s, 0.5), p90: percentile(s, 0.9), p99: percentile(s, 0.99), max: s[s.length - 1], mean: s.reduce((a, b) => a + b, 0) / s.length };
}
function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 30, ...opts });
  if (r.error) fail(`${cmd}: ${r.error.message}`);
  if (r.status !== 0) fail(`${cmd} ${args.join(' ')} exited with ${r.status}:\n${(r.stderr || '').trim().split('\n').slice(-20).join('\n')}`);
  return r;
}

// ------------------------------------------------------------------------------------ 1. corpus and indexes
async function prepareCorpus(docs) {
  if (!existsSync(docs)) fail(`corpus not found: ${docs}`);
  const name = basename(docs).split(/[-.]/)[0] || 'corpus';
  await mkdir(BENCH_DIR, { recursive: true });
  let jsonl = docs;
  if (docs.endsWith('.gz')) {
    jsonl = join(BENCH_DIR, `${name}.jsonl`);
    if (!(mtime(jsonl) > mtime(docs))) {
      say(`decompressing ${docs} -> ${jsonl}`);
      const tmp = `${jsonl}.tmp`;
      await pipeline(createReadStream(docs), createGunzip(), createWriteStream(tmp));
      await rename(tmp, jsonl);
    }
  }
  return { name, jsonl };
}

function buildIndexes(name, jsonl) {
  if (!existsSync(CLI)) fail(`${CLI} is missing: run ./build.sh build first`);
  const split = join(BENCH_DIR, `${name}-split`);
  const single = join(BENCH_DIR, `${name}.ekb`);
  const inputTime = Math.max(mtime(jsonl), mtime(CLI));
  const built = {};
  for (const [out, flag, marker] of [[split, '--split', join(split, 'manifest.json')], [single, '--single', single]]) {
    if (mtime(marker) > inputTime) {
      built[flag] = 'up to date';
      continue;
    }
    say(`edgekb build ${flag} -> ${out}`);
    spawnSync('rm', ['-rf', out]);
    const r = run(CLI, ['build', jsonl, '--out', out, flag]);
    built[flag] = r.stderr.trim();
  }
  return { split, single, built };
}

// ------------------------------------------------------------------------------------ 2. native reference
async function nativeReference(o) {
  if (o.native === 'off') return null;
  const file = join(BENCH_DIR, 'native-corpus.txt');
  // Reused while the sources it was compiled from and the corpus are the same (content hash).
  const h = createHash('sha256');
  const sources = ['Cargo.toml', 'Cargo.lock', 'benches/corpus.rs', ...readdirSync(join(ROOT, 'src'), { recursive: true }).map((f) => join('src', f))]
    .filter((f) => statSync(join(ROOT, f)).isFile()).sort();
  for (const f of sources) h.update(`${f}\0`).update(await readFile(join(ROOT, f))).update('\0');
  const ds = statSync(o.docs);
  h.update(`${o.docs}\0${ds.size}\0${ds.mtimeMs}`);
  const header = `# cargo bench --bench corpus -- ${o.docs} --queries ${o.queries} (sources ${h.digest('hex').slice(0, 16)})`;
  let text = existsSync(file) ? await readFile(file, 'utf8') : '';
  if (o.native === 'force' || !text.startsWith(header + '\n')) {
    say(`native reference: ${header.slice(2)} (about a minute)`);
    const r = spawnSync('cargo', ['bench', '--quiet', '--bench', 'corpus', '--', o.docs, '--queries', String(o.queries)], {
      cwd: ROOT, encoding: 'utf8', maxBuffer: 1 << 28, env: { ...process.env, EDGEKB_BENCH_MISSES: '1' }, stdio: ['ignore', 'pipe', 'inherit'],
    });
    if (r.error || r.status !== 0) fail(`cargo bench --bench corpus failed (${r.error?.message ?? `exit ${r.status}`})`);
    text = `${header}\n${r.stdout}`;
    await writeFile(file, text);
  } else say(`native reference: reusing ${file}`);
  const num = (re) => {
    const m = re.exec(text);
    return m ? Number(m[1]) : null;
  };
  const lat = /latency \((\d+) queries, prefix\+typos on[^:]*: p50 ([\d.]+) ms, p90 ([\d.]+) ms, p99 ([\d.]+) ms, max ([\d.]+) ms/.exec(text);
  const lazy8 = /lazy, cache 8 MiB: open (\d+) requests \/ (\d+) bytes; first query (".*?"): (\d+) requests \/ (\d+) bytes; (\d+) queries: ([\d.]+) requests and (\d+) bytes per query; cache after: (\d+) bytes held \(max (\d+)\), (\d+) evictions, hit rate ([\d.]+)%/.exec(text);
  const typo = /typo queries found in top 5: (\d+)\/(\d+) = [\d.]+%; prefix \(4-5 letters\) found in top 5: (\d+)\/(\d+)/.exec(text);
  const misses = [...text.matchAll(/^miss \[(typo|prefix)\] (".*?") \(from/gm)].map((m) => `${m[1]} ${JSON.parse(m[2])}`);
  return {
    file,
    documents: num(/documents: (\d+)/),
    latency: lat && { n: +lat[1], p50: +lat[2], p90: +lat[3], p99: +lat[4], max: +lat[5] },
    lazy8: lazy8 && { openRequests: +lazy8[1], openBytes: +lazy8[2], firstQuery: JSON.parse(lazy8[3]), firstRequests: +lazy8[4], firstBytes: +lazy8[5], queries: +lazy8[6], requestsPerQuery: +lazy8[7], bytesPerQuery: +lazy8[8], bytesHeld: +lazy8[9], maxHeld: +lazy8[10], evictions: +lazy8[11], hitRate: +lazy8[12] / 100 },
    typo: typo && { typoOk: +typo[1], typoTries: +typo[2], prefixOk: +typo[3], prefixTries: +typo[4] },
    misses,
    raw: text.split('\n').filter((l) => !l.startsWith('miss ')).join('\n'),
  };
}

// ------------------------------------------------------------------------------------ 3. query sets
// xorshift64*, as benches/corpus.rs.
class Rng {
  constructor(seed) {
    this.s = BigInt.asUintN(64, seed);
  }
  next() {
    let x = this.s;
    x ^= x >> 12n;
    x = BigInt.asUintN(64, x ^ (x << 25n));
    x ^= x >> 27n;
    this.s = x;
    return BigInt.asUintN(64, x * 0x2545_f491_4f6c_dd1dn);
  }
  below(n) {
    return Number(this.next() % BigInt(n));
  }
}
const LETTERS = [...'abcdefghijklmnopqrstuvwxyz'];
// One edit anywhere but the first character (chars = Unicode scalar values).
function typo(word, rng) {
  const w = [...word];
  const i = 1 + rng.below(w.length - 1);
  switch (rng.below(4)) {
    case 0: {
      let c = LETTERS[rng.below(26)];
      while (c === w[i]) c = LETTERS[rng.below(26)];
      w[i] = c;
      break;
    }
    case 1:
      w.splice(i, 1);
      break;
    case 2:
      w.splice(i, 0, LETTERS[rng.below(26)]);
      break;
    default:
      if (i + 1 < w.length && w[i] !== w[i + 1]) [w[i], w[i + 1]] = [w[i + 1], w[i]];
      else w.splice(i, 1);
  }
  return w.join('');
}
// Rust's char::is_alphanumeric (Alphabetic or a numeric general category) and is_alphabetic.
const NOT_ALNUM = /[^\p{Alphabetic}\p{Nd}\p{Nl}\p{No}]/u;
const NOT_ALPHA = /[^\p{Alphabetic}]/u;
const ASCII = /^[\x00-\x7f]*$/;

async function readTitles(jsonl) {
  const text = await readFile(jsonl, 'utf8');
  const docs = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue; // as the CLI
    const v = JSON.parse(line);
    let t = v.title;
    if (Array.isArray(t)) t = t.find((x) => x !== null);
    docs.push({ id: String(v.id), title: t == null ? '' : String(t) });
  }
  return docs;
}

async function generateQueries(docs, single, nq) {
  const { KnowledgeBase } = await loadNode({ pkgDir: PKG });
  const index = KnowledgeBase.fromBytes(await readFile(single));
  if (index.docCount !== docs.length) fail(`the index has ${index.docCount} documents but ${docs.length} lines were read: titles would not line up`);
  const rng = new Rng(SEED);
  // Latency: 1-3 title words, a quarter with one edit, half with the last word cut to a prefix.
  const latency = [];
  while (latency.length < nq) {
    const { title } = docs[rng.below(docs.length)];
    const words = title.split(NOT_ALNUM).filter((w) => Buffer.byteLength(w) >= 3).map((w) => w.toLowerCase());
    if (words.length === 0) continue;
    const n = 1 + rng.below(Math.min(3, words.length));
    const start = rng.below(words.length - n + 1);
    const q = words.slice(start, start + n);
    if (rng.below(4) === 0) {
      const k = rng.below(q.length);
      if ([...q[k]].length >= 5) q[k] = typo(q[k], rng);
    }
    let s = q.join(' ');
    if (rng.below(2) === 0) {
      const last = [...q[q.length - 1]];
      if (last.length > 3) {
        const cut = 3 + rng.below(last.length - 3);
        s = [...q.slice(0, -1), last.slice(0, cut).join('')].join(' ');
      }
    } else s += ' ';
    latency.push(s);
  }
  // Typo / prefix: a distinctive title word (6+ ASCII letters, in 1..=20 documents).
  const dfCache = new Map();
  const df = async (w) => {
    let d = dfCache.get(w);
    if (d === undefined) {
      d = (await index.search(w, { limit: 0, prefix: false, typos: false })).total;
      dfCache.set(w, d);
    }
    return d;
  };
  // The typo/prefix set has its own generator, as in benches/corpus.rs.
  const rates = new Rng(RATES_SEED);
  const typos = [];
  const tries = [0, 0];
  let guard = 0;
  while ((tries[0] < TYPO_SET || tries[1] < TYPO_SET) && guard < 1_000_000) {
    guard++;
    const { id, title } = docs[rates.below(docs.length)];
    const words = title.split(NOT_ALPHA).filter((w) => [...w].length >= 6 && ASCII.test(w)).map((w) => w.toLowerCase());
    let word = null;
    for (const w of words) {
      const d = await df(w);
      if (d >= 1 && d <= 20) {
        word = w;
        break;
      }
    }
    if (word === null) continue;
    const kind = tries[0] <= tries[1] ? 'typo' : 'prefix';
    const q = kind === 'typo' ? typo(word, rates) + ' ' : [...word].slice(0, 4 + rates.below(2)).join('');
    tries[kind === 'typo' ? 0 : 1]++;
    typos.push({ kind, q, id, word, try: tries[kind === 'typo' ? 0 : 1] });
  }
  index.free();
  return { latency, typos };
}

// ------------------------------------------------------------------------------------ 4. server
// Serves `root` (symlinks allowed: the root is ours) on 127.0.0.1 and logs every response.
async function startBenchServer(root) {
  const files = new Map();
  const log = [];
  const server = createServer(async (req, res) => {
    const pathname = (req.url || '/').split(/[?#]/, 1)[0];
    const entry = {
      path: pathname, method: req.method, range: req.headers.range ?? null, status: 0, body: null, bytes: 0, headerBytes: 0,
      requestHeaderBytes: req.method.length + req.url.length + 11 + req.rawHeaders.reduce((a, h) => a + h.length + 2, 0),
    };
    log.push(entry);
    const send = (status, headers, body) => {
      res.writeHead(status, {
        'Cache-Control': 'no-store',
        'Cross-Origin-Opener-Policy': 'same-origin',
        'Cross-Origin-Embedder-Policy': 'require-corp',
        'Cross-Origin-Resource-Policy': 'same-origin',
        'Content-Length': body.length,
        ...headers,
      });
      entry.status = status;
      entry.headerBytes = res._header ? Buffer.byteLength(res._header) : 0;
      entry.body = req.method === 'HEAD' ? Buffer.alloc(0) : body;
      entry.bytes = entry.body.length;
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    try {
      const rel = decodeURIComponent(pathname);
      if (rel.split('/').includes('..') || rel.includes('\0')) return send(403, { 'Content-Type': 'text/plain' }, Buffer.from('forbidden\n'));
      const file = join(root, rel);
      let buf = files.get(file);
      if (!buf) {
        try {
          buf = await readFile(file);
        } catch {
          return send(404, { 'Content-Type': 'text/plain' }, Buffer.from('not found\n'));
        }
        files.set(file, buf);
      }
      const range = parseRange(req.headers.range, buf.length);
      const type = { 'Content-Type': contentTypeFor(file), 'Accept-Ranges': 'bytes' };
      if (range?.unsatisfiable) return send(416, { ...type, 'Content-Range': `bytes */${buf.length}` }, Buffer.alloc(0));
      if (range) return send(206, { ...type, 'Content-Range': `bytes ${range.start}-${range.end}/${buf.length}` }, buf.subarray(range.start, range.end + 1));
      send(200, type, buf);
    } catch (e) {
      if (!res.headersSent) send(500, { 'Content-Type': 'text/plain' }, Buffer.from(`${e.message}\n`));
      else res.destroy();
    }
  });
  const sockets = new Set();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise((ok, no) => server.once('error', no).listen(0, '127.0.0.1', ok));
  return {
    url: `http://127.0.0.1:${server.address().port}/`,
    log,
    mark: () => log.length,
    since: (m) => log.slice(m),
    close: () => new Promise((ok) => {
      server.close(() => ok());
      for (const s of sockets) s.destroy();
    }),
  };
}

const gzipSizes = new Map();
function gzipLen(entry) {
  const key = `${entry.path}|${entry.range}|${entry.bytes}`;
  let n = gzipSizes.get(key);
  if (n === undefined) {
    n = gzipSync(entry.body, { level: zc.Z_BEST_COMPRESSION }).length;
    gzipSizes.set(key, n);
  }
  return n;
}
// What a request fetched, by the file it names.
function category(path) {
  if (path.startsWith('/bench/')) return 'page';
  if (path.endsWith('.wasm')) return 'wasm';
  if (path.startsWith('/pkg/')) return 'glue';
  const f = basename(path);
  if (f === 'manifest.json') return 'manifest';
  if (f.startsWith('dictionary.')) return 'dictionary';
  if (f.startsWith('terms.')) return 'terms';
  if (f.startsWith('postings.') || f.startsWith('positions.')) return 'postings';
  // Field norms (split layout 4 and later), read in the postings' or the hits' round.
  if (f.startsWith('norms.')) return 'norms';
  // The hit phase: the hit-display pack (format 2), or whole stored documents (format 1).
  if (f.startsWith('store.') || f.startsWith('display.')) return 'store';
  if (f.endsWith('.ekb')) return 'single';
  return 'other';
}
function sum(entries) {
  const t = { requests: 0, bytes: 0, gzip: 0, gzipWholeFilesOnly: 0, headerBytes: 0, requestHeaderBytes: 0, statuses: {} };
  for (const e of entries) {
    const gz = gzipLen(e);
    t.requests++;
    t.bytes += e.bytes;
    t.gzip += gz;
    // With Content-Encoding: gzip a Range applies to the encoded bytes: a real server compresses
    // whole-file responses (200) but not the ranges (206).
    t.gzipWholeFilesOnly += e.status === 206 ? e.bytes : gz;
    t.headerBytes += e.headerBytes;
    t.requestHeaderBytes += e.requestHeaderBytes;
    t.statuses[e.status] = (t.statuses[e.status] ?? 0) + 1;
  }
  return t;
}
const pick = (entries, ...cats) => entries.filter((e) => cats.includes(category(e.path)));
const describe = (entries) => entries.map((e) => ({ path: e.path, range: e.range, status: e.status, bytes: e.bytes, gzip: gzipLen(e) }));

// ------------------------------------------------------------------------------------ 5. browser
async function newPage(browser, server, errors) {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console error: ${m.text()}`);
  });
  const check = () => {
    if (errors.length) fail(`the page failed:\n  ${errors.join('\n  ')}`);
  };
  await page.goto(`${server.url}bench/page.html`);
  await page.waitForFunction(() => window.benchReady === true, null, { timeout: 30_000 }).catch(() => check() ?? fail('the bench page did not become ready in 30 s'));
  check();
  const call = async (fn, arg) => {
    try {
      return await page.evaluate(fn, arg);
    } catch (e) {
      check();
      fail(`in the page: ${e.message.split('\n')[0]}`);
    }
  };
  return { context, page, call, check };
}

async function browserPhases(o, set, paths, server) {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 60_000 });
  const errors = [];
  const out = { chromium: browser.version() };
  const manifestUrl = '/kb/split/manifest.json';
  try {
    // a. Cold first query on the split index.
    const firstTypo = set.typos.find((t) => t.kind === 'typo');
    let m0 = server.mark();
    let p = await newPage(browser, server, errors);
    out.environment = await p.call(() => window.bench.environment());
    const init = await p.call(() => window.bench.init());
    const open = await p.call(([u, c]) => window.bench.open(u, c), [manifestUrl, CACHE_BYTES]);
    const mOpen = server.mark();
    const first = await p.call(([q]) => window.bench.query(q, { limit: 5 }), [firstTypo.q]);
    const coldLog = server.since(m0);
    const engine = coldLog.filter((e) => category(e.path) !== 'page');
    out.cold = {
      query: firstTypo.q, from: firstTypo.word, wants: firstTypo.id, found: first.ids.includes(firstTypo.id), total: first.total, top: first.ids,
      initMs: init.ms, openMs: open.ms, queryMs: first.ms, memoryAfterInit: init.memory, memoryAfterOpen: open.memory,
      engine: sum(engine), index: sum(pick(engine, 'manifest', 'dictionary', 'terms', 'postings', 'norms', 'store')),
      code: sum(pick(engine, 'wasm', 'glue')), wasm: sum(pick(engine, 'wasm')), glue: sum(pick(engine, 'glue')),
      manifest: sum(pick(engine, 'manifest')), dictionary: sum(pick(engine, 'dictionary')),
      queryRanges: sum(server.since(mOpen)), page: sum(pick(coldLog, 'page')),
      requests: describe(coldLog), statsAfter: await p.call(() => window.bench.stats()),
    };
    say(`a. cold: ${out.cold.engine.requests} requests, ${kb(out.cold.engine.bytes)}`);

    // b. Warm queries on the same page, one at a time.
    const warmQueries = set.latency.slice(0, o.warm);
    const per = [];
    for (const q of warmQueries) {
      const m = server.mark();
      const r = await p.call(([q]) => window.bench.query(q, { limit: 5 }), [q]);
      const log = server.since(m);
      per.push({ ms: r.ms, all: log, terms: pick(log, 'terms'), postings: pick(log, 'postings'), store: pick(log, 'store'), other: log.filter((e) => !['terms', 'postings', 'store'].includes(category(e.path))) });
    }
    const share = (f) => per.filter(f).length / per.length;
    const allWarm = per.flatMap((x) => x.all);
    const tw = sum(allWarm);
    out.warm = {
      queries: per.length, requestsPerQuery: tw.requests / per.length, bytesPerQuery: tw.bytes / per.length, gzipPerQuery: tw.gzip / per.length,
      zeroRequests: share((x) => x.all.length === 0), atMostOneRequest: share((x) => x.all.length <= 1), atMostTwoRequests: share((x) => x.all.length <= 2),
      postingsAtMostOne: share((x) => x.postings.length <= 1), storeAtMostOne: share((x) => x.store.length <= 1),
      postingsRequestsPerQuery: per.reduce((a, x) => a + x.postings.length, 0) / per.length,
      termsRequestsPerQuery: per.reduce((a, x) => a + x.terms.length, 0) / per.length,
      storeRequestsPerQuery: per.reduce((a, x) => a + x.store.length, 0) / per.length,
      positionsRequests: allWarm.filter((e) => basename(e.path).startsWith('positions.')).length,
      storeBytesPerQuery: sum(per.flatMap((x) => x.store)).bytes / per.length,
      otherRequests: per.reduce((a, x) => a + x.other.length, 0), maxRequests: Math.max(...per.map((x) => x.all.length)),
      latency: latencyStats(per.map((x) => x.ms)), statsAfter: await p.call(() => window.bench.stats()), totals: tw,
    };
    say(`b. warm: ${out.warm.requestsPerQuery.toFixed(2)} requests/query`);
    await p.context.close();

    // c. Memory under an 8 MiB cache budget.
    p = await newPage(browser, server, errors);
    const mi = await p.call(() => window.bench.init());
    const mOpen0 = server.mark();
    const mo = await p.call(([u, c]) => window.bench.open(u, c), [manifestUrl, CACHE_BYTES]);
    const openRequests = server.since(mOpen0).length;
    m0 = server.mark();
    const checkpoints = [100, 1000, o.memoryQueries].filter((n, i, a) => n <= o.memoryQueries && a.indexOf(n) === i);
    const mr = await p.call(([qs, n, cps]) => window.bench.run(qs, { limit: 5 }, n, cps), [set.latency, o.memoryQueries, checkpoints]);
    const mt = sum(server.since(m0));
    out.memory = {
      budget: CACHE_BYTES, queries: o.memoryQueries, afterInit: mi.memory, start: mo.memory, marks: mr.marks,
      requestsPerQuery: mt.requests / o.memoryQueries, bytesPerQuery: mt.bytes / o.memoryQueries, latency: latencyStats(mr.ms),
      openRequests, totals: mt,
    };
    say(`c. memory: ${mib(mr.marks.at(-1).memory)} after ${o.memoryQueries} queries`);
    await p.context.close();

    // d. The whole index in wasm.
    p = await newPage(browser, server, errors);
    const wi = await p.call(() => window.bench.init());
    m0 = server.mark();
    const load = await p.call(([u]) => window.bench.fromUrl(u), ['/kb/single.ekb']);
    const lt = sum(server.since(m0));
    const opts = { limit: 5, prefix: true, typos: true };
    const lat = await p.call(([qs, op]) => window.bench.latency(qs, op), [set.latency, opts]);
    const th = await p.call(([qs, op]) => window.bench.hitsOf(qs, op), [set.typos.map((t) => t.q), { limit: 5 }]);
    out.whole = {
      file: paths.single, bytes: load.bytes, fetch: lt, fetchMs: load.fetchMs, openMs: load.openMs,
      memoryAfterInit: wi.memory, memoryBeforeOpen: load.memoryBefore, memoryAfterLoad: load.memory, memoryAfterQueries: lat.memory,
      latency: latencyStats(lat.ms), options: opts,
    };
    out.wholeHits = lat.hits;
    out.typoHits = th;
    say(`d. whole: p50 ${ms3(out.whole.latency.p50)}`);
    await p.context.close();

    // e. The split index with every page cached (prefetched, then one untimed pass): the same
    //    queries as d, so split and whole differ only in the query path, not in bytes.
    p = await newPage(browser, server, errors);
    await p.call(() => window.bench.init());
    await p.call(([u, c]) => window.bench.open(u, c), [manifestUrl, 512 << 20]);
    const pf = await p.call(() => window.bench.prefetch());
    const slat = await p.call(([qs, op]) => window.bench.latency(qs, op), [set.latency.slice(0, 1), opts]);
    m0 = server.mark();
    const cached = await p.call(([qs, op]) => window.bench.latency(qs, op), [set.latency, opts]);
    const ct = sum(server.since(m0));
    out.splitCached = {
      prefetched: pf.bytes, prefetchMs: pf.ms, requestsWhileTimed: ct.requests, latency: latencyStats(cached.ms),
      sameHits: cached.hits.every((h, i) => JSON.stringify(h) === JSON.stringify(lat.hits[i])), warmup: slat.ms.length,
    };
    say(`e. split, all cached: p50 ${ms3(out.splitCached.latency.p50)} (${ct.requests} requests while timed)`);
    await p.context.close();
  } finally {
    await browser.close();
  }
  return out;
}

// ------------------------------------------------------------------------------------ checks
function typoSuccess(set, hits) {
  const ok = { typo: 0, prefix: 0 };
  const tries = { typo: 0, prefix: 0 };
  const misses = [];
  set.typos.forEach((t, i) => {
    tries[t.kind]++;
    if (hits[i].includes(t.id)) ok[t.kind]++;
    else if (t.try <= MISS_LIST) misses.push(`${t.kind} ${t.q}`);
  });
  return { ok, tries, misses };
}

function nativeHits(single, queries) {
  const file = join(BENCH_DIR, 'queries-latency.jsonl');
  const r = run(CLI, ['search', single, '--queries', file, '--limit', '5']);
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  if (lines.length !== queries.length) fail(`edgekb search --queries answered ${lines.length} of ${queries.length} queries`);
  return lines.map((l) => ({ total: l.total, ids: l.hits.map((h) => h.id) }));
}

// ------------------------------------------------------------------------------------ main
async function main() {
  const started = Date.now();
  const o = parseArgs(process.argv.slice(2));
  if (o.pkg) PKG = o.pkg;
  for (const [p, what] of [[join(PKG, 'edgekb.js'), 'pkg/ (the wasm package)'], [join(PKG, 'edgekb_bg.wasm'), 'pkg/edgekb_bg.wasm'], [CLI, 'the CLI']]) {
    if (!existsSync(p)) fail(`${what} is missing (${p}): run ./build.sh build first`);
  }
  if (!existsSync(CHROMIUM)) fail(`${CHROMIUM} is missing: run ./build.sh setup`);
  const wasmTime = mtime(join(PKG, 'edgekb_bg.wasm'));
  const staleSrc = readdirSync(join(ROOT, 'src'), { recursive: true }).map((f) => join('src', f)).filter((f) => mtime(join(ROOT, f)) > wasmTime && statSync(join(ROOT, f)).isFile());
  if (staleSrc.length && !o.pkg) say(`warning: ${staleSrc.join(', ')} newer than pkg/edgekb_bg.wasm: the measured wasm may be stale (./build.sh build)`);
  const git = spawnSync('git', ['-C', ROOT, 'describe', '--always', '--dirty'], { encoding: 'utf8' }).stdout?.trim() || 'not a git checkout';
  const load0 = loadavg();

  const { name, jsonl } = await prepareCorpus(o.docs);
  const paths = buildIndexes(name, jsonl);
  const native = await nativeReference(o);

  say('drawing the query sets');
  const t0 = Date.now();
  const docs = await readTitles(jsonl);
  const set = await generateQueries(docs, paths.single, o.queries);
  await writeFile(join(BENCH_DIR, 'queries-latency.jsonl'), set.latency.map((q, i) => JSON.stringify({ id: `l${i}`, text: q })).join('\n') + '\n');
  await writeFile(join(BENCH_DIR, 'queries-typo.jsonl'), set.typos.map((t, i) => JSON.stringify({ id: `t${i}`, text: t.q, kind: t.kind, wants: t.id, word: t.word })).join('\n') + '\n');
  const genMs = Date.now() - t0;

  const manifest = JSON.parse(await readFile(join(paths.split, 'manifest.json'), 'utf8'));
  const root = await mkdtemp(join(tmpdir(), 'edgekb-bench-'));
  let server;
  let b;
  try {
    await mkdir(join(root, 'kb'));
    await symlink(PKG, join(root, 'pkg'));
    await symlink(PAGE_DIR, join(root, 'bench'));
    await symlink(paths.split, join(root, 'kb/split'));
    await symlink(paths.single, join(root, 'kb/single.ekb'));
    server = await startBenchServer(root);
    say(`serving ${root} at ${server.url}`);
    b = await browserPhases(o, set, paths, server);
  } finally {
    await server?.close();
    await rm(root, { recursive: true, force: true });
  }

  // Checks against the native engine.
  const wasmTypo = typoSuccess(set, b.typoHits);
  const cliHits = nativeHits(paths.single, set.latency);
  const differ = [];
  cliHits.forEach((h, i) => {
    const w = b.wholeHits[i];
    if (h.total !== w.total || h.ids.join('\n') !== w.ids.join('\n')) differ.push({ query: set.latency[i], native: h, wasm: w });
  });
  const checks = {
    wasmTypo: { typoOk: wasmTypo.ok.typo, typoTries: wasmTypo.tries.typo, prefixOk: wasmTypo.ok.prefix, prefixTries: wasmTypo.tries.prefix },
    nativeTypo: native?.typo ?? null,
    missListsEqual: native ? JSON.stringify(native.misses) === JSON.stringify(wasmTypo.misses) : null,
    wasmMisses: wasmTypo.misses.length, nativeMisses: native?.misses.length ?? null,
    // The engine's own counters against what the server saw (index requests only).
    coldStatsAgree: b.cold.statsAfter.requests === b.cold.index.requests && b.cold.statsAfter.bytesFetched === b.cold.index.bytes,
    memoryStatsAgree: b.memory.marks.at(-1).stats.requests === b.memory.openRequests + b.memory.totals.requests,
    latencyHitsEqual: cliHits.length - differ.length, latencyHitsCompared: cliHits.length, differences: differ.slice(0, 10),
  };
  delete b.wholeHits;
  delete b.typoHits;

  const wasmSize = statSync(join(PKG, 'edgekb_bg.wasm')).size;
  const result = {
    date: new Date().toISOString(), git, corpus: o.docs, documents: docs.length, args: o,
    pkg: PKG,
    node: process.version, cpus: cpus().length, loadavgAtStart: load0, pkgStale: staleSrc,
    indexes: {
      split: paths.split, dictionaryBytes: manifest.dictionary.size,
      dataBytes: manifest.postings.size + manifest.positions.size + manifest.store.size + (manifest.terms?.size ?? 0),
      termsBytes: manifest.terms?.size ?? 0,
      single: paths.single, singleBytes: statSync(paths.single).size, builds: paths.built,
    },
    wasmBytes: wasmSize, wasmGzip: gzipSync(await readFile(join(PKG, 'edgekb_bg.wasm')), { level: 9 }).length,
    queries: { latency: set.latency.length, typo: set.typos.length, firstLatency: set.latency[0], generationMs: genMs, files: ['target/bench/queries-latency.jsonl', 'target/bench/queries-typo.jsonl'] },
    ...b,
    native: native && { latency: native.latency, lazy8: native.lazy8, typo: native.typo, output: native.raw },
    checks,
    loadavgAtEnd: loadavg(),
    seconds: (Date.now() - started) / 1000,
  };
  await writeFile(o.json, JSON.stringify(result, null, 2) + '\n');
  process.stdout.write(summary(result) + '\n');
}

function summary(r) {
  const c = r.cold;
  const ok = (cond) => (cond ? 'ok' : 'MISSED');
  const both = (t) => `${kb(t.bytes)} raw / ${kb(t.gzip)} gzip`;
  const L = [];
  L.push(`edgekb in headless Chromium ${r.chromium} — ${r.corpus.split(sep).pop()}, ${fmt(r.documents)} documents (${r.git}, ${r.date.slice(0, 16)}Z, load avg ${r.loadavgAtStart[0].toFixed(2)} at start, ${r.loadavgAtEnd[0].toFixed(2)} at end)`);
  if (r.args.pkg) L.push(`package: ${r.pkg}`);
  L.push(`indexes: split = dictionary ${fmt(r.indexes.dictionaryBytes)} B + data ${fmt(r.indexes.dataBytes)} B; single ${fmt(r.indexes.singleBytes)} B; wasm ${fmt(r.wasmBytes)} B (${fmt(r.wasmGzip)} zlib -9)`);
  L.push(`queries: ${r.queries.latency} latency + ${r.queries.typo} typo/prefix, drawn as benches/corpus.rs (seed 0x5eed1234abcd0001); timer ${r.environment.crossOriginIsolated ? '5 µs (cross-origin isolated)' : '100 µs (not isolated)'}`);
  L.push('');
  L.push(`a. cold first query, split index, cacheBytes 8 MiB: ${JSON.stringify(c.query)} (typo of "${c.from}"; wanted ${c.wants}: ${c.found ? 'found' : 'NOT found'} in top 5, ${c.total} hits)`);
  L.push(`   engine total (glue + wasm + index): ${c.engine.requests} requests, ${both(c.engine)} (${kb(c.engine.gzipWholeFilesOnly)} if only whole files were gzipped)`);
  L.push(`     target ≤ 270 KB and ≤ 4 requests: ${ok(c.engine.gzip <= 270_000 && c.engine.requests <= 4)} (gzip); Pagefind: 537 KB in 6.6 requests`);
  L.push(`   code:  wasm ${both(c.wasm)}, glue JS ${both(c.glue)} (${c.code.requests} requests)`);
  L.push(`   index: ${c.index.requests} requests, ${both(c.index)} = manifest ${kb(c.manifest.bytes)} + dictionary ${both(c.dictionary)} + ${c.queryRanges.requests} query ranges (dictionary parts included) ${both(c.queryRanges)}`);
  L.push(`   time: init ${c.initMs.toFixed(1)} ms, open ${c.openMs.toFixed(1)} ms, first query ${c.queryMs.toFixed(1)} ms; wasm memory ${mib(c.memoryAfterOpen)} after open (bench page itself: ${c.page.requests} requests, ${kb(c.page.bytes)})`);
  const w = r.warm;
  L.push(`b. warm, the next ${w.queries} latency queries on that page: ${w.requestsPerQuery.toFixed(2)} requests and ${kb(w.bytesPerQuery)} raw / ${kb(w.gzipPerQuery)} gzip per query`);
  L.push(`   queries with 0 requests ${pct(w.zeroRequests)}, ≤ 1 request ${pct(w.atMostOneRequest)}, ≤ 2 ${pct(w.atMostTwoRequests)} (max ${w.maxRequests}); dictionary parts ${(w.termsRequestsPerQuery ?? 0).toFixed(2)}/query; postings phase ≤ 1 request ${pct(w.postingsAtMostOne)} (${w.postingsRequestsPerQuery.toFixed(2)}/query), hit phase (display.*) ≤ 1 ${pct(w.storeAtMostOne)} (${w.storeRequestsPerQuery.toFixed(2)}/query)`);
  L.push(`   of which positions.* requests: ${w.positionsRequests}; hit phase ${kb(w.storeBytesPerQuery)} raw per query`);
  L.push(`   latency over localhost HTTP: p50 ${ms3(w.latency.p50)}, p90 ${ms3(w.latency.p90)}, p99 ${ms3(w.latency.p99)}; cache hit rate ${pct(w.statsAfter.hits / Math.max(1, w.statsAfter.hits + w.statsAfter.misses))}`);
  const m = r.memory;
  const lastMark = m.marks.at(-1);
  L.push(`c. memory, cacheBytes 8 MiB, ${m.queries} queries: wasm linear memory ${mib(m.afterInit)} after init, ${mib(m.start)} after open, ${m.marks.map((k) => `${mib(k.memory)} after ${fmt(k.queries)}`).join(', ')}`);
  L.push(`   target ≤ 12 MB after 2,400 queries: ${ok(lastMark.memory <= 12e6)} (Pagefind: 5 MB → 241 MB)`);
  L.push(`   kb.stats() at the end: bytesHeld ${fmt(lastMark.stats.bytesHeld)} of ${fmt(lastMark.stats.budget)}, ${fmt(lastMark.stats.evictions)} evictions, hit rate ${pct(lastMark.stats.hits / Math.max(1, lastMark.stats.hits + lastMark.stats.misses))}, ${fmt(lastMark.stats.requests)} requests / ${mb(lastMark.stats.bytesFetched)} fetched; ${m.requestsPerQuery.toFixed(2)} requests and ${kb(m.bytesPerQuery)} per query`);
  const d = r.whole;
  L.push(`d. whole index in wasm (fromBytes of ${mb(d.bytes)}, fetched in ${d.fetch.requests} request, opened + verified in ${d.openMs.toFixed(0)} ms): wasm linear memory ${mib(d.memoryAfterLoad)} after load (${mib(d.memoryBeforeOpen)} before), ${mib(d.memoryAfterQueries)} after the queries`);
  L.push(`   target ≤ 25 MB: after load ${ok(d.memoryAfterLoad <= 25e6)} (${(d.memoryAfterLoad / 1e6).toFixed(2)} MB); after the queries ${ok(d.memoryAfterQueries <= 25e6)} (${(d.memoryAfterQueries / 1e6).toFixed(2)} MB: the index and the most working memory a query took)`);
  L.push(`   latency (${d.latency.n} queries, prefix+typos on, top 5 with stored fields): p50 ${ms3(d.latency.p50)}, p90 ${ms3(d.latency.p90)}, p99 ${ms3(d.latency.p99)}, max ${ms3(d.latency.max)}`);
  if (r.native?.latency) {
    const n = r.native.latency;
    L.push(`   native (cargo bench --bench corpus, same machine): p50 ${ms3(n.p50)}, p90 ${ms3(n.p90)}, p99 ${ms3(n.p99)} → wasm/native p50 ${(d.latency.p50 / n.p50).toFixed(2)}×, p99 ${(d.latency.p99 / n.p99).toFixed(2)}×; target within 2×: ${ok(d.latency.p50 <= 2 * n.p50 && d.latency.p99 <= 2 * n.p99)}`);
  }
  if (r.splitCached) {
    const c = r.splitCached;
    L.push(`e. split index, every page cached (prefetch ${kb(c.prefetched)}, ${c.requestsWhileTimed} requests while timed, same hits as d: ${c.sameHits}):`);
    L.push(`   latency: p50 ${ms3(c.latency.p50)}, p90 ${ms3(c.latency.p90)}, p99 ${ms3(c.latency.p99)} → split/whole p50 ${(c.latency.p50 / d.latency.p50).toFixed(2)}×, p99 ${(c.latency.p99 / d.latency.p99).toFixed(2)}×; target within 2×: ${ok(c.latency.p50 <= 2 * d.latency.p50 && c.latency.p99 <= 2 * d.latency.p99)}`);
  }
  if (r.native?.lazy8) {
    const z = r.native.lazy8;
    L.push(`   native lazy reference, 8 MiB: ${z.requestsPerQuery} requests and ${fmt(z.bytesPerQuery)} B per query over ${fmt(z.queries)} queries, hit rate ${pct(z.hitRate)}`);
  }
  const k = r.checks;
  const t = k.wasmTypo;
  let line = `checks: typo ${t.typoOk}/${t.typoTries}, prefix ${t.prefixOk}/${t.prefixTries} found in top 5 in Chromium`;
  if (k.nativeTypo) line += `; native ${k.nativeTypo.typoOk}/${k.nativeTypo.typoTries}, ${k.nativeTypo.prefixOk}/${k.nativeTypo.prefixTries}; listed misses ${k.missListsEqual ? 'identical' : 'DIFFERENT'} (${k.wasmMisses})`;
  L.push(line);
  L.push(`        top 5 of the ${k.latencyHitsCompared} latency queries: wasm = native CLI for ${k.latencyHitsEqual}; kb.stats() request counts = server's: ${k.coldStatsAgree && k.memoryStatsAgree ? 'yes' : 'NO'}`);
  if (Math.max(r.loadavgAtStart[0], r.loadavgAtEnd[0]) > 1.5) L.push(`warning: the machine was busy (load average ${r.loadavgAtStart[0].toFixed(2)} → ${r.loadavgAtEnd[0].toFixed(2)} on ${r.cpus} CPUs): latencies are not reliable`);
  L.push(`wrote ${r.args.json.replace(ROOT + sep, '')} in ${r.seconds.toFixed(0)} s`);
  return L.join('\n');
}

const timer = setTimeout(() => {
  say(`FAILED: still running after ${TIME_LIMIT_MS / 60000} minutes`);
  process.exit(1);
}, TIME_LIMIT_MS);
timer.unref();
try {
  await main();
} catch (e) {
  say(`FAILED: ${e instanceof BenchError ? e.message : e.stack}`);
  process.exit(1);
}
