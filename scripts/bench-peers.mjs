#!/usr/bin/env node
// edgekb beside its peers, on the same corpus and the same queries, in one run:
//
//   node scripts/bench-peers.mjs [--runs 3] [--queries 1000] [--warm 200] [--engine-seconds 240]
//                                [--phase-seconds 30]
//                                [--json FILE] [--markdown FILE] [--benchmarks BENCHMARKS.md]
//                                [--node-only|--browser-only]
//
// Needs (./build.sh build, then `node scripts/bench-browser.mjs` once, which writes them):
// target/release/edgekb, pkg/, target/bench/debian.jsonl, target/bench/debian.ekb,
// target/bench/debian-split/, target/bench/queries-latency.jsonl and queries-typo.jsonl (queries
// drawn from the corpus with a fixed seed, as benches/corpus.rs draws them).
//
// 1. In Node, each engine in a child process of its own per run (`--expose-gc`), runs times:
//    edgekb (the wasm package, the single-file index from its bytes; built by the native CLI),
//    MiniSearch 7 plain and with fuzzy 0.2 + prefix, FlexSearch 0.8 (Document, forward
//    tokenizer, title and body), Orama 3 (tolerance 1). Figures: index build time, heap (or
//    wasm memory) after the build, query latency p50/p99 over the latency queries (one untimed
//    pass, then one timed), typo and prefix queries found in the top 5. Each of those three
//    passes stops after --phase-seconds: a slow engine (Orama's typo search) is measured on the
//    queries that fit, and the table says how many.
// 2. In one headless Chromium (fresh context per engine): edgekb (the split index, cacheBytes
//    8 MiB) and Pagefind 1.6 (its bundle built through its Node API, one HTML page per document,
//    <h1>title</h1> and the body), served by a logging server on 127.0.0.1 that records each
//    request's arrival and finish and the gzip size (zlib level 9) of each body, and answers
//    each after 20 ms (a simulated network round trip; times include it). Cold: a fresh
//    page, the first typo query; total gzip bytes, requests after the engine's own files, and
//    sequential round trips (the longest chain of requests each sent after the previous one was
//    answered). Warm: the next W latency queries on the same page, requests per query.
// An engine whose run (build and queries) takes longer than --engine-seconds is reported as
// not finishing and not run again. Medians of the runs, with min–max. Writes target/bench/peers.json; `--markdown FILE` also
// writes the tables; `--benchmarks FILE` puts them in FILE between the bench-peers markers.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, createReadStream, openSync, readSync, closeSync } from 'node:fs';
import { rm, writeFile, readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { createInterface } from 'node:readline';
import { dirname, join, resolve, extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync, constants as zc } from 'node:zlib';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const B = join(ROOT, 'target/bench');
const FILES = {
  docs: join(B, 'debian.jsonl'),
  single: join(B, 'debian.ekb'),
  split: join(B, 'debian-split'),
  latency: join(B, 'queries-latency.jsonl'),
  typo: join(B, 'queries-typo.jsonl'),
  pagefind: join(B, 'pagefind-debian'),
};
const ENGINES = ['edgekb', 'minisearch', 'minisearch-fuzzy', 'flexsearch', 'orama'];
const CACHE_BYTES = 8 << 20;
const DELAY_MS = 20;
const BEGIN = '<!-- bench-peers:begin (written by scripts/bench-peers.mjs) -->';
const END = '<!-- bench-peers:end -->';
const TIME_LIMIT_MS = 25 * 60_000;
const readJsonl = (p) => readFileSync(p, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const pctl = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.round((sorted.length - 1) * p))];

function args(argv) {
  const o = { runs: 3, queries: 1000, warm: 200, engineSeconds: 240, phaseSeconds: 30, json: join(B, 'peers.json'), markdown: null, benchmarks: null, engine: null, browserOnly: false, nodeOnly: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = () => argv[++i];
    if (a === '--runs') o.runs = Number(v());
    else if (a === '--queries') o.queries = Number(v());
    else if (a === '--warm') o.warm = Number(v());
    else if (a === '--engine-seconds') o.engineSeconds = Number(v());
    else if (a === '--phase-seconds') o.phaseSeconds = Number(v());
    else if (a === '--json') o.json = resolve(v());
    else if (a === '--markdown') o.markdown = resolve(v());
    else if (a === '--benchmarks') o.benchmarks = resolve(v());
    else if (a === '--engine') o.engine = v();
    else if (a === '--browser-only') o.browserOnly = true;
    else if (a === '--node-only') o.nodeOnly = true;
    else throw new Error(`unknown argument ${a}`);
  }
  return o;
}

// ------------------------------------------------------------------ one engine in Node (child)
async function loadDocs() {
  const docs = [];
  const lines = createInterface({ input: createReadStream(FILES.docs) });
  for await (const line of lines) {
    if (!line.trim()) continue;
    const d = JSON.parse(line);
    docs.push({ id: d.id, title: d.title ?? '', body: d.body ?? d.text ?? '' });
  }
  return docs;
}

async function makeEngine(name, docs) {
  if (name === 'edgekb') {
    const { loadNode } = await import('../js/node.mjs');
    const mod = await loadNode();
    const bytes = await readFile(FILES.single);
    // The index is built natively by the CLI: its build time is timed there (below).
    const t = spawnSync(join(ROOT, 'target/release/edgekb'), ['build', FILES.docs, '--out', join(B, 'peers-build.ekb'), '--single'], { encoding: 'utf8' });
    if (t.status !== 0) throw new Error(`edgekb build: ${t.stderr}`);
    const buildMs = 1000 * Number(/in ([\d.]+) s/.exec(t.stdout + t.stderr)?.[1] ?? NaN);
    const kb = mod.KnowledgeBase.fromBytes(bytes);
    return {
      buildMs,
      search: async (q) => (await kb.search(q, { limit: 5 })).hits.map((h) => h.id),
    };
  }
  if (name.startsWith('minisearch')) {
    const { default: MiniSearch } = await import('minisearch');
    const fuzzy = name === 'minisearch-fuzzy';
    const ms = new MiniSearch({
      fields: ['title', 'body'],
      storeFields: ['title'],
      searchOptions: fuzzy ? { boost: { title: 2 }, fuzzy: 0.2, prefix: true } : { boost: { title: 2 } },
    });
    const t = performance.now();
    ms.addAll(docs);
    return { buildMs: performance.now() - t, search: async (q) => ms.search(q).slice(0, 5).map((r) => r.id) };
  }
  if (name === 'flexsearch') {
    const { Document } = await import('flexsearch');
    const idx = new Document({ tokenize: 'forward', document: { id: 'id', index: ['title', 'body'], store: ['title'] } });
    const t = performance.now();
    for (const d of docs) idx.add(d);
    return {
      buildMs: performance.now() - t,
      search: async (q) => {
        const r = idx.search(q, { limit: 5, merge: true });
        return r.slice(0, 5).map((x) => x.id);
      },
    };
  }
  if (name === 'orama') {
    const { create, insertMultiple, search } = await import('@orama/orama');
    const db = create({ schema: { id: 'string', title: 'string', body: 'string' } });
    const t = performance.now();
    await insertMultiple(db, docs, 1000);
    return {
      buildMs: performance.now() - t,
      search: async (q) => (await search(db, { term: q, properties: ['title', 'body'], boost: { title: 2 }, tolerance: 1, limit: 5 })).hits.map((h) => h.document.id),
    };
  }
  throw new Error(`unknown engine ${name}`);
}

async function child(o) {
  const latency = readJsonl(FILES.latency).slice(0, o.queries).map((q) => q.text);
  const typo = readJsonl(FILES.typo);
  const docs = o.engine === 'edgekb' ? [] : await loadDocs();
  // Heap and external memory (ArrayBuffers, the wasm linear memory) the engine added.
  const used = () => {
    const m = process.memoryUsage();
    return m.heapUsed + m.external;
  };
  globalThis.gc?.();
  const heap0 = used();
  const e = await makeEngine(o.engine, docs);
  globalThis.gc?.();
  const heap = used() - heap0;
  // Each phase (warm-up, timed queries, found@5) stops after phaseSeconds, so a slow engine is
  // measured on fewer queries (reported) rather than not at all. The typo file alternates its
  // classes, so a cut keeps them balanced.
  const bounded = async (items, fn) => {
    const end = performance.now() + o.phaseSeconds * 1000;
    let n = 0;
    for (const x of items) {
      if (performance.now() > end) break;
      await fn(x);
      n += 1;
    }
    return n;
  };
  await bounded(latency, (q) => e.search(q));
  const ms = [];
  await bounded(latency, async (q) => {
    const t = performance.now();
    await e.search(q);
    ms.push(performance.now() - t);
  });
  ms.sort((a, b) => a - b);
  const found = { typo: [0, 0], prefix: [0, 0] };
  await bounded(typo, async (q) => {
    const ids = await e.search(q.text);
    const f = found[q.kind] ?? (found[q.kind] = [0, 0]);
    f[1] += 1;
    if (ids.includes(q.wants)) f[0] += 1;
  });
  process.stdout.write(JSON.stringify({ engine: o.engine, buildMs: e.buildMs, heapBytes: heap, p50: pctl(ms, 0.5), p99: pctl(ms, 0.99), queries: ms.length, found }) + '\n');
}

// ------------------------------------------------------------------ browser: edgekb and Pagefind
const esc = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

async function buildPagefind() {
  if (existsSync(join(FILES.pagefind, 'pagefind.js')) && statSync(join(FILES.pagefind, 'pagefind.js')).mtimeMs > statSync(FILES.docs).mtimeMs) return null;
  const pagefind = await import('pagefind');
  await rm(FILES.pagefind, { recursive: true, force: true });
  const t0 = performance.now();
  const { index, errors } = await pagefind.createIndex({ forceLanguage: 'en' });
  if (!index) throw new Error(`pagefind: ${errors}`);
  for (const d of await loadDocs()) {
    const body = d.body.split(/\n\s*\n/).map((p) => `<p>${esc(p)}</p>`).join('');
    const r = await index.addHTMLFile({ url: `/d/${encodeURIComponent(d.id)}/`, content: `<html lang="en"><body><h1>${esc(d.title)}</h1>${body}</body></html>` });
    if (r.errors?.length) throw new Error(`pagefind: ${r.errors}`);
  }
  const w = await index.writeFiles({ outputPath: FILES.pagefind });
  if (w.errors?.length) throw new Error(`pagefind: ${w.errors}`);
  await pagefind.close();
  return performance.now() - t0;
}

const TYPES = { '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.html': 'text/html', '.json': 'application/json' };

// A static server on 127.0.0.1 with Range support that logs every request.
function logServer(mounts) {
  const log = [];
  const server = createServer((req, res) => {
    const start = performance.now();
    const url = new URL(req.url, 'http://x');
    const m = Object.entries(mounts).find(([p]) => url.pathname.startsWith(p));
    const rel = m && decodeURIComponent(url.pathname.slice(m[0].length));
    const file = m && resolve(m[1], '.' + '/' + rel);
    if (!m || !file.startsWith(resolve(m[1])) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404).end();
      return;
    }
    const size = statSync(file).size;
    let [a, b] = [0, size];
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    if (range) [a, b] = [Number(range[1]), range[2] ? Math.min(size, Number(range[2]) + 1) : size];
    const body = Buffer.alloc(Math.max(0, b - a));
    const fd = openSync(file, 'r');
    readSync(fd, body, 0, body.length, a);
    closeSync(fd);
    const headers = { 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream', 'Content-Length': body.length, 'Cache-Control': 'no-store', 'Accept-Ranges': 'bytes' };
    if (range) headers['Content-Range'] = `bytes ${a}-${b - 1}/${size}`;
    // Each answer waits DELAY_MS, as over a network: requests sent together then overlap, so
    // the chain of requests each sent after the previous one was answered counts round trips
    // (on bare localhost an answer can end before its sibling request arrives).
    setTimeout(() => {
      res.writeHead(range ? 206 : 200, headers);
      res.end(body, () => log.push({ path: url.pathname, start, end: performance.now(), bytes: body.length, body }));
    }, DELAY_MS);
  });
  return new Promise((ok) => server.listen(0, '127.0.0.1', () => ok({ server, log, url: `http://127.0.0.1:${server.address().port}` })));
}

// Requests in `log`: gzip bytes (bodies that are gzip files already count as they are), count,
// and the longest chain of requests each sent after the previous one was answered.
function wire(log) {
  const entries = [...log].sort((x, y) => x.start - y.start);
  const depth = [];
  let gzip = 0;
  entries.forEach((e, i) => {
    const gz = e.body[0] === 0x1f && e.body[1] === 0x8b;
    gzip += gz ? e.bytes : gzipSync(e.body, { level: zc.Z_BEST_COMPRESSION }).length;
    depth[i] = 1 + Math.max(0, ...entries.slice(0, i).map((p, j) => (p.end <= e.start ? depth[j] : 0)));
  });
  return { requests: entries.length, gzip, rounds: Math.max(0, ...depth) };
}

async function browser(o) {
  const pagefindBuildMs = await buildPagefind();
  const { chromium } = await import('playwright-core');
  const typo = readJsonl(FILES.typo).find((q) => q.kind === 'typo').text;
  const warm = readJsonl(FILES.latency).slice(0, o.warm).map((q) => q.text);
  const srv = await logServer({ '/pkg/': join(ROOT, 'pkg'), '/bench/': join(ROOT, 'scripts/bench'), '/kb/': FILES.split, '/pagefind/': FILES.pagefind });
  const b = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });
  const out = [];
  try {
    for (let run = 0; run < o.runs; run++) {
      for (const engine of ['edgekb', 'pagefind']) {
        const ctx = await b.newContext();
        const page = await ctx.newPage();
        srv.log.length = 0;
        // The engines' own files: edgekb's glue and wasm; Pagefind's pagefind.js and its wasm.
        const isEngine = (p) => p.startsWith('/pkg/') || p === '/pagefind/pagefind.js' || /\/wasm\.[a-z-]+\.pagefind$/.test(p);
        let coldMs;
        if (engine === 'edgekb') {
          await page.goto(`${srv.url}/bench/page.html`);
          await page.waitForFunction(() => window.benchReady === true);
          const t = await page.evaluate(async ([typo, cache]) => {
            const t0 = performance.now();
            await window.bench.init();
            await window.bench.open('/kb/manifest.json', cache);
            await window.bench.query(typo, { limit: 5 });
            return performance.now() - t0;
          }, [typo, CACHE_BYTES]);
          coldMs = t;
        } else {
          await page.goto(`${srv.url}/pagefind/pagefind.js`);
          coldMs = await page.evaluate(async (typo) => {
            const t0 = performance.now();
            window.pf = await import('/pagefind/pagefind.js');
            await window.pf.init();
            const r = await window.pf.search(typo);
            await Promise.all(r.results.slice(0, 5).map((x) => x.data()));
            return performance.now() - t0;
          }, typo);
        }
        // The bench page itself (/bench/) is not an engine's: left out.
        const all = srv.log.filter((e) => !e.path.startsWith('/bench/'));
        const cold = wire(all);
        const index = wire(all.filter((e) => !isEngine(e.path)));
        srv.log.length = 0;
        const per = [];
        for (const q of warm) {
          const n0 = srv.log.length;
          if (engine === 'edgekb') await page.evaluate((q) => window.bench.query(q, { limit: 5 }), q);
          else await page.evaluate(async (q) => { const r = await window.pf.search(q); await Promise.all(r.results.slice(0, 5).map((x) => x.data())); }, q);
          per.push(srv.log.length - n0);
        }
        out.push({ run, engine, coldMs, cold, coldIndex: index, files: all.map((e) => e.path), warm: { queries: per.length, requestsPerQuery: per.reduce((a, x) => a + x, 0) / per.length, bytesPerQuery: srv.log.reduce((a, e) => a + e.bytes, 0) / per.length } });
        await ctx.close();
      }
    }
  } finally {
    await b.close();
    srv.server.close();
  }
  return { pagefindBuildMs, typo, runs: out };
}

// ------------------------------------------------------------------ the run
function spread(xs) {
  return { median: median(xs), min: Math.min(...xs), max: Math.max(...xs) };
}

async function main() {
  const o = args(process.argv.slice(2));
  if (o.engine) return child(o);
  for (const [k, p] of Object.entries(FILES)) if (k !== 'pagefind' && !existsSync(p)) throw new Error(`${p} is missing: run ./build.sh build and node scripts/bench-browser.mjs once`);
  const t0 = performance.now();
  const result = { date: new Date().toISOString(), runs: o.runs, queries: o.queries, phaseSeconds: o.phaseSeconds, warm: o.warm, node: {}, browser: null };
  if (!o.browserOnly) {
    for (const engine of ENGINES) {
      const rs = [];
      for (let run = 0; run < o.runs; run++) {
        const r = spawnSync(process.execPath, ['--expose-gc', '--max-old-space-size=8192', fileURLToPath(import.meta.url), '--engine', engine, '--queries', String(o.queries), '--phase-seconds', String(o.phaseSeconds)], { encoding: 'utf8', maxBuffer: 1 << 26, timeout: o.engineSeconds * 1000 });
        if (r.error?.code === 'ETIMEDOUT' || r.signal) {
          // Reported as such, and not run again.
          process.stderr.write(`bench-peers: ${engine} did not finish within ${o.engineSeconds} s\n`);
          break;
        }
        if (r.status !== 0) throw new Error(`${engine}: ${r.stderr}`);
        rs.push(JSON.parse(r.stdout.trim().split('\n').at(-1)));
        process.stderr.write(`bench-peers: ${engine} run ${run + 1}: p50 ${rs.at(-1).p50.toFixed(3)} ms\n`);
      }
      if (rs.length === 0) {
        result.node[engine] = { timedOut: o.engineSeconds };
        continue;
      }
      result.node[engine] = {
        runs: rs.length,
        buildMs: spread(rs.map((r) => r.buildMs)),
        heapBytes: spread(rs.map((r) => r.heapBytes)),
        p50: spread(rs.map((r) => r.p50)),
        p99: spread(rs.map((r) => r.p99)),
        queries: Math.min(...rs.map((r) => r.queries)),
        found: rs[0].found,
      };
    }
  }
  if (!o.nodeOnly) {
    const br = await browser(o);
    result.browser = { pagefindBuildMs: br.pagefindBuildMs, typo: br.typo };
    for (const engine of ['edgekb', 'pagefind']) {
      const rs = br.runs.filter((r) => r.engine === engine);
      result.browser[engine] = {
        coldMs: spread(rs.map((r) => r.coldMs)),
        coldGzip: spread(rs.map((r) => r.cold.gzip)),
        coldRequests: spread(rs.map((r) => r.cold.requests)),
        coldIndexRequests: spread(rs.map((r) => r.coldIndex.requests)),
        coldIndexGzip: spread(rs.map((r) => r.coldIndex.gzip)),
        coldRounds: spread(rs.map((r) => r.cold.rounds)),
        coldIndexRounds: spread(rs.map((r) => r.coldIndex.rounds)),
        warmRequestsPerQuery: spread(rs.map((r) => r.warm.requestsPerQuery)),
        warmBytesPerQuery: spread(rs.map((r) => r.warm.bytesPerQuery)),
      };
    }
  }
  result.seconds = (performance.now() - t0) / 1000;
  await writeFile(o.json, JSON.stringify(result, null, 2) + '\n');
  const md = markdown(result);
  if (o.markdown) await writeFile(o.markdown, md);
  if (o.benchmarks) {
    // Replaces the section between the markers, or fails: the file keeps its other sections.
    const text = await readFile(o.benchmarks, 'utf8');
    const [a, b] = [text.indexOf(BEGIN), text.indexOf(END)];
    if (a < 0 || b < a) throw new Error(`${o.benchmarks} has no ${BEGIN} … ${END} section`);
    await writeFile(o.benchmarks, text.slice(0, a + BEGIN.length) + '\n' + md + text.slice(b));
  }
  process.stdout.write(md);
}

function markdown(r) {
  const L = [];
  const f = (s, d = 2, unit = '') => `${s.median.toFixed(d)}${unit} (${s.min.toFixed(d)}–${s.max.toFixed(d)})`;
  const ratio = (peer, ours) => (ours > 0 ? `${(peer / ours).toFixed(2)}×` : '–');
  if (Object.keys(r.node).length) {
    const e = r.node.edgekb;
    L.push(`Node ${process.version}, ${r.runs} runs (median, min–max), ${r.queries} latency queries, top 5; ratio = peer ÷ edgekb.`, '');
    L.push('| engine | build s | heap / wasm memory MB | p50 ms | p99 ms | typo found@5 | prefix found@5 | p50 ratio | p99 ratio |', '|---|---|---|---|---|---|---|---|---|');
    for (const [name, x] of Object.entries(r.node)) {
      if (x.timedOut) {
        L.push(`| ${name} | did not finish (build and queries) within ${x.timedOut} s | | | | | | | |`);
        continue;
      }
      const fr = (k) => (x.found[k] ? `${x.found[k][0]}/${x.found[k][1]}` : '–');
      const n = x.queries < r.queries ? ` (${x.queries} queries in ${r.phaseSeconds} s)` : '';
      L.push(`| ${name} | ${f({ median: x.buildMs.median / 1000, min: x.buildMs.min / 1000, max: x.buildMs.max / 1000 }, 1)} | ${(x.heapBytes.median / 1e6).toFixed(1)} | ${f(x.p50, 3)}${n} | ${f(x.p99, 3)} | ${fr('typo')} | ${fr('prefix')} | ${name === 'edgekb' ? '1' : ratio(x.p50.median, e.p50.median)} | ${name === 'edgekb' ? '1' : ratio(x.p99.median, e.p99.median)} |`);
    }
    L.push('');
  }
  if (r.browser) {
    const e = r.browser.edgekb;
    const p = r.browser.pagefind;
    L.push(`Headless Chromium, one browser, a fresh context per engine and run, every answer delayed ${DELAY_MS} ms by the server; cold = the first typo query (${JSON.stringify(r.browser.typo)}) on a fresh page, to its top 5 hits' display data; warm = the first ${r.warm} latency queries after it, on the same page.`, '');
    L.push('| | edgekb | Pagefind 1.6 | Pagefind ÷ edgekb |', '|---|---|---|---|');
    const row = (label, k, d, scale = 1) => L.push(`| ${label} | ${f({ median: e[k].median / scale, min: e[k].min / scale, max: e[k].max / scale }, d)} | ${f({ median: p[k].median / scale, min: p[k].min / scale, max: p[k].max / scale }, d)} | ${ratio(p[k].median, e[k].median)} |`);
    row('cold: time to first results, ms', 'coldMs', 0);
    row('cold: gzip KB, everything', 'coldGzip', 1, 1000);
    row('cold: requests, everything', 'coldRequests', 0);
    row('cold: sequential round trips, everything', 'coldRounds', 0);
    row('cold: requests after the engine files', 'coldIndexRequests', 0);
    row('cold: gzip KB after the engine files', 'coldIndexGzip', 1, 1000);
    row('cold: sequential round trips after the engine files', 'coldIndexRounds', 0);
    row('warm: requests per query', 'warmRequestsPerQuery', 2);
    row('warm: bytes per query (as sent)', 'warmBytesPerQuery', 0);
    L.push('');
  }
  L.push(`(bench-peers ran ${r.seconds.toFixed(0)} s)`, '');
  return L.join('\n');
}

const timer = setTimeout(() => {
  process.stderr.write('bench-peers: still running after 25 minutes: stopped\n');
  process.exit(1);
}, TIME_LIMIT_MS);
timer.unref();
main().catch((e) => {
  process.stderr.write(`bench-peers: ${e.stack}\n`);
  process.exit(1);
});
