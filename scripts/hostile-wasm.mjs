#!/usr/bin/env node
// The hostile queries of `cargo bench --bench hostile -- --out DIR`, run in wasm (Node, the
// package in pkg/) on the same index, next to their native times from that run: per shape the
// worst and median time in wasm, the ratio of worst times wasm ÷ native, and the wasm linear
// memory before and after. Checks that wasm answers every query with the native total.
//
//   cargo bench --bench hostile -- --out target/hostile && node scripts/hostile-wasm.mjs target/hostile
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { loadNode, wasmExports } from '../js/node.mjs';

const dir = process.argv[2] ?? 'target/hostile';
const { KnowledgeBase } = await loadNode();
const memory = async () => (await wasmExports()).memory.buffer.byteLength;
const kb = KnowledgeBase.fromBytes(await readFile(join(dir, 'index.ekb')));
const queries = (await readFile(join(dir, 'queries.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
const shapes = new Map();
const before = await memory();
let mismatches = 0;
for (const q of queries) {
  const opts = { any: q.any };
  if (q.limit !== null) opts.limit = Math.min(q.limit, 10_000);
  else opts.limit = 10_000; // native `usize::MAX`, clamped to MAX_LIMIT by the engine as well
  const t = performance.now();
  const r = await kb.search(q.query, opts);
  const ms = performance.now() - t;
  if (r.total !== q.total) mismatches++;
  const s = shapes.get(q.shape) ?? { wasm: [], native: [] };
  s.wasm.push(ms);
  s.native.push(q.nativeMs);
  shapes.set(q.shape, s);
}
const after = await memory();
const sorted = (a) => [...a].sort((x, y) => x - y);
console.log(`hostile queries in wasm (Node ${process.version}), ${queries.length} queries from ${dir}`);
console.log('| shape | wasm worst ms | wasm median ms | native worst ms | worst wasm ÷ native |');
console.log('|---|---|---|---|---|');
let worstW = 0;
let worstN = 0;
for (const [name, s] of shapes) {
  const w = sorted(s.wasm);
  const n = sorted(s.native);
  worstW = Math.max(worstW, w.at(-1));
  worstN = Math.max(worstN, n.at(-1));
  console.log(`| ${name} | ${w.at(-1).toFixed(2)} | ${w[w.length >> 1].toFixed(2)} | ${n.at(-1).toFixed(2)} | ${(w.at(-1) / n.at(-1)).toFixed(2)} |`);
}
console.log(`\nworst: wasm ${worstW.toFixed(2)} ms, native ${worstN.toFixed(2)} ms (${(worstW / worstN).toFixed(2)}×); ` +
  `wasm memory ${(before / 2 ** 20).toFixed(1)} MiB before the queries (index loaded), ${(after / 2 ** 20).toFixed(1)} MiB after; ` +
  `totals differing from native: ${mismatches}`);
if (mismatches) process.exitCode = 1;
