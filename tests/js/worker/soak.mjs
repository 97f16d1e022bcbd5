// The soak test's Worker (tests/js/soak.test.mjs): one split index, opened on the first request
// with env.OPTIONS (a small cacheBytes) and kept for the life of the isolate, driven in batches:
//
//   GET /abort?from=I&n=N     N search/abort cycles (soak-probe.mjs abortCycles)
//   GET /queries?from=I&n=N   N queries, 8 at a time (queryLoad)
//   GET /rest                 nothing
//   GET /probe                [alive, released]: the probe's self-check (probeSelfCheck)
//
// Each answers {result, rest}: rest is what is alive once the batch has settled (kb.stats(),
// live timers, abort listeners and fetches counted by the probe, wasm memory bytes).
import wasm from './edgekb_bg.wasm';
import { initSync, KnowledgeBase } from './edgekb.js';
import { abortCycles, installProbe, probeSelfCheck, queryLoad, restState } from './soak-probe.mjs';

const snapshot = installProbe(globalThis);
const exports = initSync({ module: wasm });
let kb = null;

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const queries = JSON.parse(env.QUERIES);
    kb ??= await KnowledgeBase.open(env.SPLIT_INDEX_URL, JSON.parse(env.OPTIONS));
    const from = Number(url.searchParams.get('from') ?? 0);
    const n = Math.min(Number(url.searchParams.get('n') ?? 0), 2000);
    let result = null;
    if (url.pathname === '/probe') return Response.json(await probeSelfCheck(snapshot, env.SPLIT_INDEX_URL));
    if (url.pathname === '/abort') result = await abortCycles(kb, queries, n, from);
    else if (url.pathname === '/queries') result = await queryLoad(kb, queries, n, { from });
    else if (url.pathname !== '/rest') return new Response('not found', { status: 404 });
    return Response.json({ result, rest: restState(kb, snapshot, exports.memory) });
  },
};
