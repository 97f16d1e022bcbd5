#!/usr/bin/env node
// The example Worker (examples/worker) on the Debian corpus under `wrangler dev` (local mode, the
// index in a local R2 bucket), and the engine's wasm heap in Node with the Worker's cache budget.
//
//   node scripts/bench-worker.mjs [docs.jsonl] [queries]     (after ./build.sh build)
//
// Prints: per-request latency seen by a client on 127.0.0.1 (sequential requests, so it is the
// Worker's time: its CPU plus local R2 reads), the engine's request and cache counters, and the
// wasm heap after the same queries through the same engine with a 16 MiB cache (the figure to
// hold against the 128 MB isolate limit). Bounded: it sends the given number of queries, then
// stops wrangler and exits.
import { spawn, execFileSync } from 'node:child_process';
import { cp, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer } from './serve.mjs';
import { loadNode, wasmExports } from '../js/node.mjs';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const DOCS = process.argv[2] ?? join(ROOT, 'target/sample/debian-packages.jsonl');
const QUERIES = Number(process.argv[3] ?? 1000);
const WORK = join(ROOT, 'target/bench-worker');
const WRANGLER = join(ROOT, 'node_modules/.bin/wrangler');
const CLI = join(ROOT, 'target/release/edgekb');
const TARBALL = (await readdir(join(ROOT, 'target/npm'))).find((f) => /^edgekb-.*\.tgz$/.test(f));
if (!existsSync(DOCS)) throw new Error(`${DOCS} is missing (./build.sh demo makes it from ../shared/data)`);
if (!TARBALL) throw new Error('target/npm/edgekb-*.tgz is missing: ./build.sh build');

// Queries: the first two words of every k-th document's short description (deterministic).
const lines = (await readFile(DOCS, 'utf8')).split('\n').filter(Boolean);
const step = Math.max(1, Math.floor(lines.length / QUERIES));
const queries = [];
for (let i = 0; i < lines.length && queries.length < QUERIES; i += step) {
  const title = JSON.parse(lines[i]).title ?? '';
  const words = (title.split(': ')[1] ?? title).split(/\s+/).filter((w) => /^[a-z]{3,}$/i.test(w));
  if (words.length >= 2) queries.push(words.slice(0, 2).join(' '));
}

await rm(WORK, { recursive: true, force: true });
const app = join(WORK, 'worker');
await cp(join(ROOT, 'examples/worker'), app, { recursive: true, filter: (s) => !/node_modules|\.wrangler/.test(s) });
const pkg = JSON.parse(await readFile(join(app, 'package.json'), 'utf8'));
delete pkg.dependencies;
delete pkg.devDependencies;
await writeFile(join(app, 'package.json'), JSON.stringify(pkg));
execFileSync('npm', ['install', '--offline', '--no-audit', '--no-fund', '--loglevel=error', join(ROOT, 'target/npm', TARBALL)], { cwd: app });
const kbDir = join(WORK, 'kb');
execFileSync(CLI, ['build', DOCS, '--out', kbDir, '--split'], { stdio: 'inherit' });
const env = { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: '1', NO_COLOR: '1' };
const persist = join(WORK, 'state');
for (const name of await readdir(kbDir)) {
  execFileSync(WRANGLER, ['r2', 'object', 'put', `edgekb-index/kb/${name}`, '--file', join(kbDir, name), '--local', '--persist-to', persist], { cwd: app, env, stdio: 'ignore' });
}

const port = 8800 + Math.floor(Math.random() * 100);
const dev = spawn(WRANGLER, ['dev', '--local', '--ip', '127.0.0.1', '--port', String(port), '--persist-to', persist, '--show-interactive-dev-session=false', '--inspector-port', String(port + 200)], { cwd: app, env, stdio: 'ignore' });
const base = `http://127.0.0.1:${port}`;
try {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      if ((await fetch(`${base}/health`)).ok) break;
    } catch {}
    if (Date.now() > deadline) throw new Error('wrangler dev did not answer in 60 s');
    await new Promise((r) => setTimeout(r, 250));
  }
  const ms = [];
  for (const q of queries) {
    const t0 = performance.now();
    const r = await fetch(`${base}/search?${new URLSearchParams({ q, limit: '10' })}`);
    await r.json();
    ms.push(performance.now() - t0);
  }
  const sorted = [...ms].sort((a, b) => a - b);
  const pct = (p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))].toFixed(2);
  const { stats } = await (await fetch(`${base}/health`)).json();
  console.log(`worker (wrangler dev, local R2): ${queries.length} queries, client latency p50 ${pct(50)} ms, p95 ${pct(95)} ms, p99 ${pct(99)} ms, max ${sorted.at(-1).toFixed(2)} ms`);
  console.log(`engine: ${stats.requests} requests, ${stats.bytesFetched} bytes fetched, cache ${stats.bytesHeld} of ${stats.budget} bytes, ${stats.hits} hits / ${stats.misses} misses`);
} finally {
  dev.kill('SIGTERM');
}

// The same queries through the same engine in Node (pkg/), with the Worker's cache budget.
const server = await startServer({ root: kbDir });
try {
  const { KnowledgeBase } = await loadNode();
  const kb = await KnowledgeBase.open(`${server.url}manifest.json`, { cacheBytes: 16 << 20 });
  for (const q of queries) await kb.search(q, { limit: 10 });
  const memory = (await wasmExports()).memory.buffer.byteLength;
  console.log(`wasm heap after the queries with a 16 MiB cache: ${(memory / 2 ** 20).toFixed(1)} MiB (cache held ${(kb.stats().bytesHeld / 2 ** 20).toFixed(1)} MiB)`);
  // The worst case: the cache filled to its budget.
  await kb.prefetch();
  for (const q of queries) await kb.search(q, { limit: 10 });
  const full = (await wasmExports()).memory.buffer.byteLength;
  console.log(`wasm heap with the cache filled (prefetch, then the queries again): ${(full / 2 ** 20).toFixed(1)} MiB (cache held ${(kb.stats().bytesHeld / 2 ** 20).toFixed(1)} MiB)`);
} finally {
  await server.close();
}
