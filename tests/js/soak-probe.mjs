// Shared by the soak test's page (Chromium) and Worker (workerd); not a test itself.
//
// installProbe() wraps what the engine's binding reaches through the global object, so that what
// is still alive can be counted at rest: setTimeout/clearTimeout (the binding's timers are looked
// up on the global object at each call), abort listeners added to AbortSignals, and fetch calls
// not yet settled. Call it before the engine is loaded. The drivers run the soak's two loads.

/** Installs the counters on `g`; returns snapshot() => {timers, listeners, fetches, ...}. */
export function installProbe(g = globalThis) {
  const live = { timers: new Set(), listeners: new Map(), fetches: 0 };
  const started = { timers: 0, listeners: 0, fetches: 0 };
  const setT = g.setTimeout;
  const clearT = g.clearTimeout;
  g.setTimeout = function setTimeout(fn, ms, ...args) {
    const id = setT.call(
      g,
      (...a) => {
        live.timers.delete(id);
        if (typeof fn === 'function') fn(...a);
      },
      ms,
      ...args,
    );
    live.timers.add(id);
    started.timers += 1;
    return id;
  };
  g.clearTimeout = function clearTimeout(id) {
    live.timers.delete(id);
    return clearT.call(g, id);
  };
  const proto = g.AbortSignal.prototype;
  const addL = proto.addEventListener;
  const removeL = proto.removeEventListener;
  proto.addEventListener = function addEventListener(type, listener, options) {
    if (type === 'abort' && listener) {
      let set = live.listeners.get(this);
      if (!set) live.listeners.set(this, (set = new Set()));
      set.add(listener);
      started.listeners += 1;
    }
    return addL.call(this, type, listener, options);
  };
  proto.removeEventListener = function removeEventListener(type, listener, options) {
    if (type === 'abort') {
      const set = live.listeners.get(this);
      set?.delete(listener);
      if (set?.size === 0) live.listeners.delete(this);
    }
    return removeL.call(this, type, listener, options);
  };
  const fetchFn = g.fetch;
  g.fetch = function fetch(...args) {
    live.fetches += 1;
    started.fetches += 1;
    let p;
    try {
      p = fetchFn.apply(g, args);
    } catch (err) {
      live.fetches -= 1;
      throw err;
    }
    const done = () => {
      live.fetches -= 1;
    };
    p.then(done, done);
    return p;
  };
  return function snapshot() {
    let listeners = 0;
    for (const set of live.listeners.values()) listeners += set.size;
    return { timers: live.timers.size, listeners, fetches: live.fetches, started: { ...started } };
  };
}

/**
 * Shows the probe counts what it claims: a timer, an abort listener and a fetch left alive are
 * seen, and gone once released. Returns [while alive, after release].
 */
export async function probeSelfCheck(snapshot, url) {
  const timer = setTimeout(() => {}, 60_000);
  const controller = new AbortController();
  const listener = () => {};
  controller.signal.addEventListener('abort', listener);
  const pending = fetch(url, { signal: controller.signal }).catch(() => null);
  const alive = snapshot();
  clearTimeout(timer);
  controller.signal.removeEventListener('abort', listener);
  controller.abort();
  await pending;
  return [alive, snapshot()];
}

const tick = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * `cycles` search/abort cycles: two searches of the same query start together (so they may share
 * a fetch), one is aborted at a point that varies with the cycle (at once, after a microtask,
 * after a timer of 0–2 ms), the other runs to its end. Returns {aborted, completed, errors}.
 */
export async function abortCycles(kb, queries, cycles, from = 0) {
  const out = { aborted: 0, completed: 0, errors: [] };
  for (let i = from; i < from + cycles; i++) {
    const q = queries[i % queries.length];
    const controller = new AbortController();
    const victim = kb.search(q, { limit: 10, signal: controller.signal });
    const survivor = kb.search(q, { limit: 10 });
    switch (i % 4) {
      case 0:
        controller.abort();
        break;
      case 1:
        await Promise.resolve();
        controller.abort();
        break;
      default:
        await tick(i % 4 === 2 ? 0 : 2);
        controller.abort();
    }
    for (const [p, abortable] of [
      [victim, true],
      [survivor, false],
    ]) {
      try {
        await p;
        out.completed += 1;
      } catch (err) {
        if (abortable && err?.name === 'AbortError') out.aborted += 1;
        else if (out.errors.length < 5) out.errors.push(`${q}: ${err?.name} ${err?.code ?? ''} ${err?.message}`);
        else out.errors.push('…');
      }
    }
  }
  return out;
}

/** `n` queries, `concurrency` at a time. Returns {ok, hits, errors}. */
export async function queryLoad(kb, queries, n, { from = 0, concurrency = 8 } = {}) {
  const out = { ok: 0, hits: 0, errors: [] };
  let next = from;
  const end = from + n;
  async function lane() {
    while (next < end) {
      const q = queries[next++ % queries.length];
      try {
        const r = await kb.search(q, { limit: 10 });
        out.ok += 1;
        out.hits += r.hits.length;
      } catch (err) {
        if (out.errors.length < 5) out.errors.push(`${q}: ${err?.name} ${err?.code ?? ''} ${err?.message}`);
      }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, lane));
  return out;
}

/** What the soak checks at rest, from one place: kb.stats(), the probe, the wasm memory. */
export function restState(kb, snapshot, memory) {
  const s = kb.stats();
  return { inFlight: s.inFlight, bytesHeld: s.bytesHeld, budget: s.budget, evictions: s.evictions, requests: s.requests, memoryBytes: memory.buffer.byteLength, ...snapshot() };
}
