// Loads the wasm package (pkg/, built by `./build.sh build`) in Node, synchronously compiled from
// the .wasm beside the generated JS, without fetch():
//
//   import { loadNode } from './js/node.mjs';
//   const { KnowledgeBase } = await loadNode();
//   const kb = KnowledgeBase.fromBytes(await readFile('kb.ekb'));
import { readFile } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { join } from 'node:path';

const DEFAULT_PKG_DIR = fileURLToPath(new URL('../pkg/', import.meta.url));

const loaded = new Map();

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
      mod.initSync({ module: bytes });
      return mod;
    })();
    p.catch(() => loaded.delete(pkgDir));
    loaded.set(pkgDir, p);
  }
  return p;
}
