#!/usr/bin/env node
// Instructions the search `.wasm` executes for the latency queries, counted by valgrind in Node:
// a figure that repeats to about 0.1% whatever else the machine does, where wall-clock latency
// on this 2-core machine moves by 20% between runs. For comparing two builds of the engine.
//
//   node scripts/wasm-instructions.mjs [--queries N] PKG_DIR [PKG_DIR ...]
//
// Each PKG_DIR is a wasm-pack build (`./build.sh wasm` writes pkg/; copy it aside to compare).
// For each, Node runs under `valgrind --tool=cachegrind` twice, with V8's optimizing compiler
// for every function up front and no tier-up (`--no-liftoff --no-wasm-tier-up`), one thread:
// once opening target/bench/debian.ekb with no query, once running the first N (default 2,000)
// queries of target/bench/queries-latency.jsonl (limit 5, prefix and typos on). The difference
// is what the queries cost. Needs both files (`node scripts/bench-browser.mjs` writes them).
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const args = process.argv.slice(2);

if (args[0] === '--run') {
  // The measured child: open the index, run `n` queries.
  const [, pkg, n] = args;
  const { loadNode } = await import(pathToFileURL(resolve(ROOT, 'js/node.mjs')).href);
  const bytes = await readFile(resolve(ROOT, 'target/bench/debian.ekb'));
  const lines = (await readFile(resolve(ROOT, 'target/bench/queries-latency.jsonl'), 'utf8'))
    .trim()
    .split('\n');
  const { KnowledgeBase } = await loadNode({ pkgDir: resolve(pkg) });
  const kb = KnowledgeBase.fromBytes(bytes);
  for (const line of lines.slice(0, Number(n))) {
    await kb.search(JSON.parse(line).text, { limit: 5, prefix: true, typos: true });
  }
  process.exit(0);
}

let queries = 2000;
const at = args.indexOf('--queries');
if (at >= 0) queries = Number(args.splice(at, 2)[1]);
if (args.length === 0) {
  console.error('usage: node scripts/wasm-instructions.mjs [--queries N] PKG_DIR [PKG_DIR ...]');
  process.exit(2);
}

const count = (pkg, n) => {
  const r = spawnSync(
    'valgrind',
    ['--tool=cachegrind', '--cache-sim=no', '--cachegrind-out-file=/dev/null', process.execPath,
      '--single-threaded', '--no-liftoff', '--no-wasm-tier-up', fileURLToPath(import.meta.url),
      '--run', pkg, String(n)],
    { encoding: 'utf8' },
  );
  if (r.error) throw new Error(`valgrind could not run (apt-get install valgrind): ${r.error.message}`);
  const m = /I\s+refs:\s+([\d,]+)/.exec(r.stderr);
  if (r.status !== 0 || !m) throw new Error(`valgrind on ${pkg}: ${r.stderr.slice(-2000)}`);
  return Number(m[1].replaceAll(',', ''));
};

for (const pkg of args) {
  const base = count(pkg, 0);
  const total = count(pkg, queries);
  const net = total - base;
  console.log(`${pkg}: ${net.toLocaleString('en')} instructions for ${queries} queries ` +
    `(${Math.round(net / queries).toLocaleString('en')} per query; open alone ${base.toLocaleString('en')})`);
}
