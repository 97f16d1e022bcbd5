// Loads the wasm package (pkg/, built by `./build.sh build`) in Node, synchronously compiled from
// the .wasm beside the generated JS, without fetch():
//
//   import { loadNode } from './js/node.mjs';
//   const { KnowledgeBase } = await loadNode();
//   const kb = KnowledgeBase.fromBytes(await readFile('kb.ekb'));
//   const results = await kb.search('strategy game', { limit: 5 });   // a Promise
//   const split = await KnowledgeBase.open('http://127.0.0.1:8080/kb/manifest.json');  // Node's fetch
import { readFile } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { join } from 'node:path';

const DEFAULT_PKG_DIR = fileURLToPath(new URL('../pkg/', import.meta.url));

const loaded = new Map();
const instances = new Map();

/**
 * Initialises the wasm module once (per package directory) and returns the module namespace
 * of pkg/edgekb.js: {KnowledgeBase, initSync, default: init, ...}.
 *
 * `pkgDir` defaults to ../pkg relative to this file.
 */
export function loadNode({ pkgDir = DEFAULT_PKG_DIR } = {}) {
  let p = loaded.get(pkgDir);
  if (!p) {
    p = (async () => {
      const [bytes, mod] = await Promise.all([
        readFile(join(pkgDir, 'edgekb_bg.wasm')),
        import(pathToFileURL(join(pkgDir, 'edgekb.js')).href),
      ]);
      instances.set(pkgDir, mod.initSync({ module: bytes }));
      return mod;
    })();
    p.catch(() => loaded.delete(pkgDir));
    loaded.set(pkgDir, p);
  }
  return p;
}

/**
 * The wasm instance's exports (`memory`, ...) of the package loaded by loadNode() from `pkgDir`,
 * e.g. `(await wasmExports()).memory.buffer.byteLength` for the size of the wasm heap.
 */
export async function wasmExports({ pkgDir = DEFAULT_PKG_DIR } = {}) {
  await loadNode({ pkgDir });
  return instances.get(pkgDir);
}
