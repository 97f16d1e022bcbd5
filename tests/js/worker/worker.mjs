// A Cloudflare Worker (ES module syntax) serving searches over an edgekb index.
//
//   GET /search?q=<query>[&limit=N]   -> 200 {"total": N, "hits": [...]}
//   GET /health                       -> 200 {"ok": true}   (does not load the index)
//
// Errors are JSON too: {"error": {"code": "...", "message": "..."}} with 400 for a bad request,
// 404 for an unknown path, 405 for a method other than GET/HEAD, 502 when the index cannot be
// loaded. The index is fetched from env.INDEX_URL on the first search and kept for the life of
// the isolate.
import wasm from './edgekb_bg.wasm';
import { initSync, KnowledgeBase } from './edgekb.js';

initSync({ module: wasm });

const DEFAULT_LIMIT = 10;
const MAX_LIMIT = 1000;
const MAX_QUERY_CHARS = 1024;

let kbPromise = null;

function loadIndex(env) {
  if (!kbPromise) {
    if (typeof env.INDEX_URL !== 'string' || env.INDEX_URL === '') {
      return Promise.reject(Object.assign(new Error('INDEX_URL is not configured'), { code: 'NotConfigured' }));
    }
    kbPromise = KnowledgeBase.open(env.INDEX_URL);
    // A failed load is not cached: the next request tries again.
    kbPromise.catch(() => {
      kbPromise = null;
    });
  }
  return kbPromise;
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

export default {
  async fetch(request, env) {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      return error(405, 'MethodNotAllowed', `${request.method} is not allowed`, { allow: 'GET, HEAD' });
    }
    const url = new URL(request.url);
    if (url.pathname === '/health') return json(200, { ok: true });
    if (url.pathname !== '/search') return error(404, 'NotFound', `no route for ${url.pathname}`);

    const q = url.searchParams.get('q');
    if (q === null) return error(400, 'BadRequest', 'missing query parameter q');
    if (q.length > MAX_QUERY_CHARS) return error(400, 'BadRequest', `q is longer than ${MAX_QUERY_CHARS} characters`);
    const limit = parseLimit(url.searchParams.get('limit'));
    if (limit === null) return error(400, 'BadRequest', `limit must be an integer from 1 to ${MAX_LIMIT}`);

    let kb;
    try {
      kb = await loadIndex(env);
    } catch (err) {
      return error(502, err?.code ?? 'IndexUnavailable', `could not load the index: ${err?.message ?? err}`);
    }
    try {
      return json(200, kb.search(q, { limit }));
    } catch (err) {
      if (err?.name === 'EdgekbError') return error(400, err.code ?? 'BadRequest', err.message);
      return error(500, 'Internal', String(err?.message ?? err));
    }
  },
};
