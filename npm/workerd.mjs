// edgekb for Cloudflare Workers (the `workerd` and `worker` conditions of the package's exports).
// Workers refuse to compile fetched bytes: the .wasm is imported as a module (wrangler and workerd
// bundle it as a CompiledWasm module) and instantiated synchronously when this module loads.
//
//   import { KnowledgeBase } from 'edgekb';
//   const kb = await KnowledgeBase.open('https://example.com/kb/manifest.json');
import wasm from './edgekb_bg.wasm';
import { initSync } from './glue.js';

initSync({ module: wasm });

export { KnowledgeBase, highlightHtml } from './glue.js';

/** Whether `err` is an error of edgekb (`name` "EdgekbError", with a `code`). */
export function isEdgekbError(err) {
  return err instanceof Error && err.name === 'EdgekbError' && typeof err.code === 'string';
}
