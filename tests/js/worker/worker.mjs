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
// away. Each index is opened on its first request and kept for the life of the isolate (its
// cache too); a search stops (and releases its fetches) when the client disconnects or timeoutMs
// passes. Requests run concurrently: in Workers, the engine gives every search its own fetches
// (`shareFetches` is off there), because I/O belongs to the request that started it.
// env.SPLIT_OPTIONS may hold JSON options for KnowledgeBase.open (timeoutMs, retries, ...).
import wasm from './edgekb_bg.wasm';
import { initSync, KnowledgeBase } from './edgekb.js';

initSync({ module: wasm });

const DEFAULT_LIMIT = 10;
const MAX_LIMIT = 1000;
const MAX_QUERY_CHARS = 1024;
const MAX_TIMEOUT_MS = 60_000;

const indexes = new Map(); // env key -> Promise<KnowledgeBase>

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

// Runs fn(kb) with the index `key` opened (on first use); stops waiting for the open when the
// request's signal aborts.
async function withIndex(env, key, signal, fn) {
  try {
    let kb;
    try {
      kb = await raceSignal(loadIndex(env, key), signal);
    } catch (err) {
      if (err?.name === 'AbortError' || err?.name === 'TimeoutError') throw err;
      return error(502, err?.code ?? 'IndexUnavailable', `could not load the index: ${err?.message ?? err}`);
    }
    return await fn(kb);
  } catch (err) {
    return failure(err);
  }
}

function raceSignal(promise, signal) {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise((ok, fail) => {
    const onAbort = () => fail(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(ok, fail).finally(() => signal.removeEventListener('abort', onAbort));
  });
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
