// The search module's stack: how deep the heaviest work we know of goes, against the stack the
// module was linked with. The Rust wasm32 target puts the stack first in linear memory (below
// the data), so an overflow traps instead of overwriting data; `build.sh` links the search
// module with a small stack (every byte of it is linear memory a page keeps), and this test keeps
// that choice honest: the deepest use must leave at least half of the stack unused.
//
// The stack region starts zeroed and nothing but the stack writes to it, so its lowest non-zero
// byte after the work marks the deepest the stack pointer went (a frame that wrote only zeros
// would be missed, hence the margin).
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadNode, wasmExports } from '../../js/node.mjs';
import { startServer } from '../../scripts/serve.mjs';
import { sections, uleb } from '../../scripts/wasm-sections.mjs';
import {
  CLI,
  CUT_ARGS,
  DOCS_JSONL,
  FIXTURE,
  PKG_DIR,
  buildSplit,
  caseOptions,
  checkPrerequisites,
  loadGolden,
  seededRandom,
  tempDir,
} from './support.mjs';

/** The lowest offset of an active data segment of `wasm` (the stack lies below it). */
export function lowestDataOffset(wasm) {
  let lowest = Infinity;
  for (const { id, start } of sections(wasm)) {
    if (id !== 11) continue;
    let [count, p] = uleb(wasm, start);
    for (let i = 0; i < count; i++) {
      let flags;
      [flags, p] = uleb(wasm, p);
      if (flags !== 1) {
        if (flags === 2) [, p] = uleb(wasm, p); // memory index
        assert.equal(wasm[p++], 0x41, 'a data segment offset is an i32.const');
        let offset;
        [offset, p] = uleb(wasm, p); // offsets here are small positive: the unsigned reading is the signed one
        assert.equal(wasm[p++], 0x0b, 'the offset expression ends');
        lowest = Math.min(lowest, offset);
      }
      let len;
      [len, p] = uleb(wasm, p);
      p += len;
    }
  }
  return lowest;
}

test('the heaviest known work uses at most half of the search module stack', async () => {
  checkPrerequisites([CLI, DOCS_JSONL]);
  const wasm = await readFile(join(PKG_DIR, 'edgekb_bg.wasm'));
  const stack = lowestDataOffset(wasm);
  assert.ok(Number.isFinite(stack) && stack >= 16 << 10, `stack region below the data: ${stack} bytes`);
  const { KnowledgeBase } = await loadNode();
  const { memory } = await wasmExports();

  // Open (every structure checked, the dictionary's fst walked) and run every golden query.
  const golden = await loadGolden();
  const whole = KnowledgeBase.fromBytes(await readFile(FIXTURE));
  // The split index over HTTP too (a dictionary cut into parts: the async drivers, the lazy
  // machines, page checks), every golden query cold and again warm.
  const tmp = await tempDir('stack');
  await buildSplit(DOCS_JSONL, tmp.dir, CUT_ARGS);
  const server = await startServer({ root: tmp.dir });
  try {
    const split = await KnowledgeBase.open(server.url + 'manifest.json');
    for (const kb of [whole, split, split]) {
      for (const c of golden.cases) await kb.search(c.query, caseOptions(c));
    }
  } finally {
    await server.close();
    await tmp.cleanup();
  }
  const kb = whole;
  // Hostile shapes at their budgets: the most words, long misspelled words (typo automata),
  // phrases, alternatives, exclusions, field restrictions, a whole 4 KiB query, deep filters.
  const rnd = seededRandom(7);
  const word = (n) => Array.from({ length: n }, () => String.fromCharCode(97 + Math.floor(rnd() * 26))).join('');
  const shapes = [
    Array.from({ length: 80 }, () => word(3 + Math.floor(rnd() * 8))).join(' '),
    Array.from({ length: 40 }, () => word(12)).join(' OR '),
    `"${Array.from({ length: 64 }, () => word(2)).join(' ')}"`,
    Array.from({ length: 40 }, (_, i) => `${i % 2 ? '-' : ''}title:${word(4)}*`).join(' '),
    word(4096),
    Array.from({ length: 30 }, () => `${word(20)}~`).join(' '),
    'a* b* c* d* e* f* g* h* i* j* k* l* m* n* o* p*',
    'the of and a to in is it that for on with as was by',
  ];
  for (const q of shapes) {
    for (const any of [false, true]) await kb.search(q, { limit: 100, any, snippet: true });
  }
  let filter = { field: 'title', value: 'x' };
  for (let i = 0; i < 40; i++) filter = { not: filter };
  await kb.search('a', { filter }).catch(() => {}); // refused past the depth limit, after reading it
  let text = 'title:x';
  for (let i = 0; i < 40; i++) text = `-(${text})`;
  await kb.search('a', { filter: text }).catch(() => {});

  const region = new Uint8Array(memory.buffer, 0, stack);
  const lowest = region.findIndex((b) => b !== 0);
  const used = lowest < 0 ? 0 : stack - lowest;
  console.log(`search module stack: ${stack} bytes, deepest use ${used} bytes (${((100 * used) / stack).toFixed(1)}%)`);
  assert.ok(used > 0, 'the stack region shows the work (the measure reads the right region)');
  assert.ok(used <= stack / 2, `deepest stack use ${used} bytes is over half of the ${stack}-byte stack: raise it in build.sh`);
});
