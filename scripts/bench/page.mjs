// The in-page half of scripts/bench-browser.mjs: loads the wasm package served at /pkg/ and
// exposes a few measured operations on window.bench, driven from Node through Playwright.
// Every timing is performance.now() around the awaited call, inside the page.
import init, { KnowledgeBase } from '/pkg/edgekb.js';

let wasm = null; // the wasm exports returned by init(): `memory` is the linear memory
let kb = null;

const now = () => performance.now();
const memory = () => (wasm ? wasm.memory.buffer.byteLength : 0);
const ids = (r) => r.hits.map((h) => h.id);

async function timedSearch(q, opts) {
  const t = now();
  const r = await kb.search(q, opts);
  return { ms: now() - t, total: r.total, ids: ids(r) };
}

window.bench = {
  environment() {
    return { crossOriginIsolated: globalThis.crossOriginIsolated === true, userAgent: navigator.userAgent };
  },
  async init() {
    const t = now();
    wasm = await init();
    return { ms: now() - t, memory: memory() };
  },
  memory,
  async open(url, cacheBytes) {
    const t = now();
    kb = await KnowledgeBase.open(url, { cacheBytes });
    return { ms: now() - t, memory: memory(), docCount: kb.docCount, stats: kb.stats() };
  },
  // Fetches a single-file index once and opens it from its bytes.
  async fromUrl(url) {
    let t = now();
    const res = await fetch(url);
    if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status}`);
    const bytes = new Uint8Array(await res.arrayBuffer());
    const fetchMs = now() - t;
    const memoryBefore = memory();
    t = now();
    kb = KnowledgeBase.fromBytes(bytes);
    return { fetchMs, openMs: now() - t, bytes: bytes.length, memoryBefore, memory: memory(), docCount: kb.docCount };
  },
  query: timedSearch,
  async prefetch() {
    const t = now();
    const bytes = await kb.prefetch();
    return { ms: now() - t, bytes, memory: memory(), stats: kb.stats() };
  },
  stats() {
    return kb.stats();
  },
  // Runs `count` queries (cycling through `queries`) one after the other; at each checkpoint
  // (a number of queries done) records the linear memory and kb.stats().
  async run(queries, opts, count, checkpoints) {
    const marks = [];
    const ms = [];
    for (let i = 0; i < count; i++) {
      const r = await timedSearch(queries[i % queries.length], opts);
      ms.push(r.ms);
      if (checkpoints.includes(i + 1)) marks.push({ queries: i + 1, memory: memory(), stats: kb.stats() });
    }
    return { ms, marks };
  },
  // One untimed pass (warm-up), then a timed pass; returns per-query ms and the hit ids.
  async latency(queries, opts) {
    for (const q of queries) await kb.search(q, opts);
    const ms = new Array(queries.length);
    const hits = new Array(queries.length);
    for (let i = 0; i < queries.length; i++) {
      const t = now();
      const r = await kb.search(queries[i], opts);
      ms[i] = now() - t;
      hits[i] = { total: r.total, ids: ids(r) };
    }
    return { ms, hits, memory: memory() };
  },
  async hitsOf(queries, opts) {
    const out = [];
    for (const q of queries) out.push(ids(await kb.search(q, opts)));
    return out;
  },
};
document.getElementById('state').textContent = 'ready';
window.benchReady = true;
