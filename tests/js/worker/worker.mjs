// A Cloudflare Worker (ES module syntax) serving searches over edgekb indexes.
//
//   GET /search?q=<query>[&limit=N]        -> 200 {"total": N, "hits": [...]}   (env.INDEX_URL)
//   GET /split/search?q=<query>[&limit=N][&timeoutMs=T]
//                                          -> the same over a split index (env.SPLIT_INDEX_URL, a
//                                             manifest.json): the dictionary is fetched when the
//                                             index is opened, the rest in ranges, per query
//   GET /cut/search?q=<query>[&limit=N]    -> the same over a split index whose dictionary is cut
//                                             into parts (env.CUT_INDEX_URL)
//   GET /split/stats                       -> 200 kb.stats() of the split index (opens it)
//   GET /split/refresh                     -> 200 {"changed": bool}: re-reads the manifest
//   GET /split/reopen                      -> 200 {"ok": true}: forgets the open split index (and
//                                             its cache); the next request opens it again
//   GET /health                            -> 200 {"ok": true}   (does not load an index)
//
// Errors are JSON too: {"error": {"code": "...", "message": "..."}} with 400 for a bad request,
// 404 for an unknown path, 405 for a method other than GET/HEAD, 502 when an index cannot be
// loaded or read, 504 when a search ran out of time (timeoutMs) and 499 when the client went
// away. Each index is opened on its first request and kept for the life of the isolate; a
// search stops (and releases its fetches) when the client disconnects or timeoutMs passes.
// Index operations of one isolate take turns (see oneAtATime below).
// env.SPLIT_OPTIONS may hold JSON options for KnowledgeBase.open (timeoutMs, retries, ...).
import wasm from './edgekb_bg.wasm';
import { initSync, KnowledgeBase } from './edgekb.js';

initSync({ module: wasm });

const DEFAULT_LIMIT = 10;
const MAX_LIMIT = 1000;
const MAX_QUERY_CHARS = 1024;
const MAX_TIMEOUT_MS = 60_000;

const indexes = new Map(); // env key -> Promise<KnowledgeBase>

// Index operations (open, search, refresh) of one isolate run one at a time. The engine drives
// every search from one task queue (wasm-bindgen-futures) and shares in-flight fetches between
// searches, so two searches running at once continue in, and start fetches from, each other's
// request contexts; workerd ties I/O and promise continuations to the request that created them
// and drops them when that request ends, which leaves the other search hanging (and workerd
// cancels it as "hung"). One at a time, each operation's work stays in its own request. A request
// waiting its turn still stops when its client goes away or its deadline passes, and stops
// waiting after MAX_TURN_WAIT_MS (a request cancelled while holding its turn never releases it).
const MAX_TURN_WAIT_MS = 30_000;
let turn = Promise.resolve();

function waitTurn(signal) {
  const previous = turn;
  let release;
  turn = new Promise((r) => (release = r));
  let timer;
  const ready = new Promise((ok, fail) => {
    if (signal?.aborted) return fail(signal.reason);
    const onAbort = () => fail(signal.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    timer = setTimeout(ok, MAX_TURN_WAIT_MS);
    previous.then(() => {
      signal?.removeEventListener('abort', onAbort);
      ok();
    });
  }).finally(() => clearTimeout(timer));
  return ready.then(
    () => release,
    (err) => {
      // The next one still waits for the previous one, not for this one that gave up.
      previous.then(release);
      throw err;
    },
  );
}

async function oneAtATime(signal, run) {
  const release = await waitTurn(signal);
  try {
    return await run();
  } finally {
    release();
  }
}

function openOptions(env, key) {
  if (key === 'INDEX_URL' || !env.SPLIT_OPTIONS) return undefined;
  return JSON.parse(env.SPLIT_OPTIONS);
}

function loadIndex(env, key) {
  let p = indexes.get(key);
  if (!p) {
    const url = env[key];
    if (typeof url !== 'string' || url === '') {
      return Promise.reject(Object.assign(new Error(`${key} is not configured`), { code: 'NotConfigured' }));
    }
    p = KnowledgeBase.open(url, openOptions(env, key));
    indexes.set(key, p);
    // A failed load is not cached: the next request tries again.
    p.catch(() => {
      if (indexes.get(key) === p) indexes.delete(key);
    });
  }
  return p;
}

function json(status, body, extraHeaders = {}) {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...extraHeaders },
  });
}

const error = (status, code, message, extraHeaders) => json(status, { error: { code, message } }, extraHeaders);

function parseLimit(raw) {
  if (raw === null) return DEFAULT_LIMIT;
  if (!/^[0-9]{1,7}$/.test(raw)) return null;
  const n = Number(raw);
  return n >= 1 && n <= MAX_LIMIT ? n : null;
}

function parseTimeout(raw) {
  if (raw === null) return undefined;
  if (!/^[0-9]{1,6}$/.test(raw)) return null;
  const n = Number(raw);
  return n >= 1 && n <= MAX_TIMEOUT_MS ? n : null;
}

// Runs fn(kb) in its turn, with the index `key` opened (on first use) in that turn too.
function withIndex(env, key, signal, fn) {
  return oneAtATime(signal, async () => {
    let kb;
    try {
      kb = await loadIndex(env, key);
    } catch (err) {
      if (err?.name === 'AbortError' || err?.name === 'TimeoutError') throw err;
      return error(502, err?.code ?? 'IndexUnavailable', `could not load the index: ${err?.message ?? err}`);
    }
    return fn(kb);
  }).catch((err) => failure(err));
}

// The answer to a failed operation.
function failure(err, timeoutMs) {
  if (err?.name === 'TimeoutError') return error(504, 'Timeout', `the search took longer than ${timeoutMs ?? '?'} ms`);
  if (err?.name === 'AbortError') return error(499, 'AbortError', 'the client went away');
  if (err?.name === 'EdgekbError') {
    const status = err.code === 'InvalidArgument' || err.code === 'LimitExceeded' ? 400 : 502;
    return error(status, err.code ?? 'BadRequest', err.message);
  }
  return error(500, 'Internal', String(err?.message ?? err));
}

async function search(request, env, key, url) {
  const q = url.searchParams.get('q');
  if (q === null) return error(400, 'BadRequest', 'missing query parameter q');
  if (q.length > MAX_QUERY_CHARS) return error(400, 'BadRequest', `q is longer than ${MAX_QUERY_CHARS} characters`);
  const limit = parseLimit(url.searchParams.get('limit'));
  if (limit === null) return error(400, 'BadRequest', `limit must be an integer from 1 to ${MAX_LIMIT}`);
  const timeoutMs = parseTimeout(url.searchParams.get('timeoutMs'));
  if (timeoutMs === null) return error(400, 'BadRequest', `timeoutMs must be an integer from 1 to ${MAX_TIMEOUT_MS}`);

  // Stop when the client goes away (request.signal, with the enable_request_signal compatibility
  // flag), or when the deadline passes.
  const signals = [request.signal, timeoutMs === undefined ? null : AbortSignal.timeout(timeoutMs)].filter(Boolean);
  const signal = signals.length > 1 ? AbortSignal.any(signals) : signals[0];

  return withIndex(env, key, signal, async (kb) => {
    try {
      return json(200, await kb.search(q, { limit, signal }));
    } catch (err) {
      return failure(err, timeoutMs);
    }
  });
}

export default {
  async fetch(request, env) {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      return error(405, 'MethodNotAllowed', `${request.method} is not allowed`, { allow: 'GET, HEAD' });
    }
    const url = new URL(request.url);
    switch (url.pathname) {
      case '/health':
        return json(200, { ok: true });
      case '/search':
        return search(request, env, 'INDEX_URL', url);
      case '/split/search':
        return search(request, env, 'SPLIT_INDEX_URL', url);
      case '/cut/search':
        return search(request, env, 'CUT_INDEX_URL', url);
      case '/split/stats':
        return withIndex(env, 'SPLIT_INDEX_URL', request.signal, (kb) => json(200, kb.stats()));
      case '/split/refresh':
        return withIndex(env, 'SPLIT_INDEX_URL', request.signal, async (kb) => {
          try {
            return json(200, { changed: await kb.refresh({ signal: request.signal }) });
          } catch (err) {
            return failure(err);
          }
        });
      case '/split/reopen':
        indexes.delete('SPLIT_INDEX_URL');
        return json(200, { ok: true });
      default:
        return error(404, 'NotFound', `no route for ${url.pathname}`);
    }
  },
};
