// What the binding needs of JavaScript that only JavaScript has, written in it: a wait that
// leaves no timer or listener behind, and one try of one request over `fetch`. Declared in
// io.rs; build.sh folds this file into the wasm-bindgen glue (the package stays one script).

/** Resolves to true after `ms` (a number) or when `signal` (if any) aborts, to false when
 *  `stop` aborts first; then clears its timer and removes its listeners. */
export function edgekbWait(ms, signal, stop) {
  return new Promise((resolve) => {
    let timer;
    const end = (fired) => () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', fire);
      stop.removeEventListener('abort', halt);
      resolve(fired);
    };
    const fire = end(true);
    const halt = end(false);
    if (stop.aborted || signal?.aborted) return resolve(!stop.aborted);
    if (typeof ms === 'number') timer = setTimeout(fire, ms);
    signal?.addEventListener('abort', fire);
    stop.addEventListener('abort', halt);
  });
}

// Whether `fetch` takes a `cache` option, and which: Workers before compatibility date
// 2024-11-11 reject any, and before 2025-08-07 all but 'no-store'.
let cacheModes;
function cacheOption(mode) {
  if (!mode) return undefined;
  if (cacheModes === undefined) {
    cacheModes = new Set();
    for (const m of ['no-store', 'no-cache']) {
      try {
        // A host that takes the option may still not report it back (then `undefined`).
        const probe = 'cache' in (globalThis.Request?.prototype ?? {}) ? new Request('http://127.0.0.1/', { cache: m }).cache : null;
        if (probe === m || probe === undefined) cacheModes.add(m);
      } catch {
        // Not this mode.
      }
    }
  }
  if (cacheModes.has(mode)) return mode;
  // Revalidating is asked as not storing where only that is known.
  return mode === 'no-cache' && cacheModes.has('no-store') ? 'no-store' : undefined;
}

/** One try: `fetchFn` (else the global `fetch`) of `url`, bytes `start` to `end` (exclusive)
 *  of it when given, within `ms`, with the `cache` option `cache` ('' for none, 'no-store',
 *  'no-cache') where the host has it; `stop` aborts it. Resolves to the body of a 200 or 206
 *  answer or to another status; rejects with 'timeout', 'abort' or an Error (or what has a
 *  string `message`). */
export async function edgekbFetch(fetchFn, url, start, end, cache, ms, stop) {
  const controller = new AbortController();
  const abort = () => controller.abort();
  let timedOut = false;
  const timer = setTimeout(() => { timedOut = true; abort(); }, ms);
  stop.addEventListener('abort', abort);
  try {
    if (stop.aborted) abort();
    const init = { signal: controller.signal };
    if (end !== undefined) init.headers = { Range: `bytes=${start}-${end - 1}` };
    const mode = cacheOption(cache);
    if (mode) init.cache = mode;
    if (!fetchFn && typeof fetch !== 'function') throw new Error('this JavaScript environment has no global fetch');
    const response = await (fetchFn ? fetchFn(url, init) : fetch(url, init));
    if (typeof response?.arrayBuffer !== 'function') throw new Error('fetch did not return a Response');
    if (response.status !== 200 && response.status !== 206) return response.status;
    return new Uint8Array(await response.arrayBuffer());
  } catch (e) {
    // Anything else thrown becomes an Error, so that the binding reads its `message` (and needs
    // no debug printer of arbitrary values).
    throw timedOut ? 'timeout' : e?.name === 'AbortError' ? 'abort' : typeof e?.message === 'string' ? e : new Error(String(e));
  } finally {
    clearTimeout(timer);
    stop.removeEventListener('abort', abort);
  }
}
