#!/usr/bin/env node
// What the search `.wasm`'s bytes are: its function bodies grouped by the Rust module or crate
// they belong to, and its data, each group's bytes raw and gzipped alone (gzip -9 of the
// group's bytes concatenated; groups compress worse alone than inside the whole file, so the
// gzip column adds up to more than the file's gzip).
//
//   EDGEKB_WASM_NAMES=1 ./build.sh wasm && node scripts/wasm-size.mjs [target/wasm-names/edgekb_bg.wasm] [--top N]
//
// The module is the shipped one with its name section kept (`build.sh` writes it with
// `wasm-opt -g`). A function counts for the first `edgekb` module its demangled name names, so
// generic code instantiated for an edgekb type counts for that module; otherwise for the first
// crate it names. `--top N` also lists the N largest functions.
import { readFileSync } from 'node:fs';
import { gzipSync, constants } from 'node:zlib';
import { sections as readSections, uleb as ulebAt } from './wasm-sections.mjs';

const args = process.argv.slice(2);
const topAt = args.indexOf('--top');
const top = topAt >= 0 ? Number(args.splice(topAt, 2)[1]) : 0;
const file = args[0] ?? 'target/wasm-names/edgekb_bg.wasm';
const wasm = readFileSync(file);

const uleb = (at) => ulebAt(wasm, at);
const sections = readSections(wasm);

// Imported functions come first in the function index space.
let imported = 0;
const imports = sections.find((s) => s.id === 2);
if (imports) {
  let [n, p] = uleb(imports.start);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < 2; k++) {
      const [len, q] = uleb(p);
      p = q + len;
    }
    const kind = wasm[p++];
    if (kind === 0) {
      imported++;
      [, p] = uleb(p);
    } else if (kind === 1) {
      p++; // reftype
      const flags = wasm[p++];
      [, p] = uleb(p);
      if (flags & 1) [, p] = uleb(p);
    } else if (kind === 2) {
      const flags = wasm[p++];
      [, p] = uleb(p);
      if (flags & 1) [, p] = uleb(p);
    } else if (kind === 3) {
      p += 2;
    } else throw new Error(`import kind ${kind}`);
  }
}

const names = new Map();
for (const s of sections.filter((s) => s.id === 0)) {
  let [len, p] = uleb(s.start);
  const name = wasm.subarray(p, p + len).toString();
  p += len;
  if (name !== 'name') continue;
  while (p < s.end) {
    const sub = wasm[p++];
    let size;
    [size, p] = uleb(p);
    const end = p + size;
    if (sub === 1) {
      let n;
      [n, p] = uleb(p);
      for (let i = 0; i < n; i++) {
        let idx;
        let l;
        [idx, p] = uleb(p);
        [l, p] = uleb(p);
        names.set(idx, wasm.subarray(p, p + l).toString());
        p += l;
      }
    }
    p = end;
  }
}
if (names.size === 0) throw new Error(`${file} has no function names: build it with EDGEKB_WASM_NAMES=1 ./build.sh wasm`);

/**
 * The part a function counts for: the first `edgekb` module its (demangled) name names, so
 * generic code instantiated for an edgekb type counts for that module; else the first crate it
 * names; else wasm-bindgen's shims, the compiler's builtins, or "other".
 */
function groupOf(sym) {
  const own = /edgekb\[[0-9a-f]+\]::([a-z_0-9]+)/.exec(sym);
  if (own) return `edgekb::${own[1]}`;
  const crate = /([a-z_][a-z_0-9]*)\[[0-9a-f]+\]/.exec(sym);
  if (crate) return crate[1];
  if (/^__wbg|^__wbindgen|wasm_bindgen|^__externref| shim$|^knowledgebase_|^[a-z][A-Za-z]*$/.test(sym)) return 'wasm_bindgen (shims, exports)';
  if (/^(memcpy|memmove|memset|memcmp|bcmp|__multi3|__[a-z]+[0-9]+[a-z0-9]*)$/.test(sym)) return 'compiler builtins';
  return 'other';
}

const groups = new Map();
const functions = [];
const code = sections.find((s) => s.id === 10);
let [count, p] = uleb(code.start);
for (let i = 0; i < count; i++) {
  const [size, body] = uleb(p);
  const bytes = wasm.subarray(p, body + size);
  const name = names.get(imported + i) ?? `function ${imported + i}`;
  const g = groupOf(name);
  if (!groups.has(g)) groups.set(g, []);
  groups.get(g).push(bytes);
  functions.push({ name, g, size: bytes.length });
  p = body + size;
}
const data = sections.find((s) => s.id === 11);
const rest = sections.filter((s) => s.id !== 10 && s.id !== 11 && s.id !== 0);

const gz = (bufs) => gzipSync(Buffer.concat(bufs), { level: constants.Z_BEST_COMPRESSION }).length;
const kb = (n) => (n / 1000).toFixed(1);
const rows = [...groups].map(([g, bufs]) => ({ g, raw: bufs.reduce((a, b) => a + b.length, 0), gz: gz(bufs) }));
rows.sort((a, b) => b.gz - a.gz);
const codeRaw = code.end - code.start;
const codeGz = gz([wasm.subarray(code.start, code.end)]);
const dataBuf = data ? wasm.subarray(data.start, data.end) : Buffer.alloc(0);
const restRaw = rest.reduce((a, s) => a + (s.end - s.start), 0);

console.log(`${file}: ${wasm.length} bytes with names; code ${kb(codeRaw)} KB raw / ${kb(codeGz)} KB gzip alone, data ${kb(dataBuf.length)} KB raw / ${kb(gz([dataBuf]))} KB gzip alone, other sections (types, imports, exports, …) ${kb(restRaw)} KB raw`);
console.log('');
console.log('| part | functions | raw KB | gzip KB alone |');
console.log('|---|---|---|---|');
for (const r of rows) console.log(`| ${r.g} | ${groups.get(r.g).length} | ${kb(r.raw)} | ${kb(r.gz)} |`);
console.log(`| data (every segment) | | ${kb(dataBuf.length)} | ${kb(gz([dataBuf]))} |`);
if (top > 0) {
  console.log('');
  console.log(`The ${top} largest functions:`);
  functions.sort((a, b) => b.size - a.size);
  for (const f of functions.slice(0, top)) console.log(`${String(f.size).padStart(7)}  ${f.g}  ${f.name.slice(0, 140)}`);
}
