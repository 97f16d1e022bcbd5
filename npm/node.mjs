// edgekb for Node (the `node` condition of the package's exports): the engine is compiled from
// the .wasm file beside this one, read with fs (no fetch), when this module is imported.
//
//   import { KnowledgeBase } from 'edgekb';
//   const kb = KnowledgeBase.fromBytes(await readFile('public/kb.ekb'));
//   const { total, hits } = await kb.search('strategy game', { limit: 5 });
import { readFileSync } from 'node:fs';
import { initSync } from './glue.js';

initSync({ module: readFileSync(new URL('./edgekb_bg.wasm', import.meta.url)) });

export { KnowledgeBase, highlightHtml } from './glue.js';

/** Whether `err` is an error of edgekb (`name` "EdgekbError", with a `code`). */
export function isEdgekbError(err) {
  return err instanceof Error && err.name === 'EdgekbError' && typeof err.code === 'string';
}
