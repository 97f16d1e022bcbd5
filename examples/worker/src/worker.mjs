// A search API on Cloudflare Workers with edgekb:
//
//   GET /search?q=strategy+game&limit=10   -> {"total": 12, "hits": [{"id","title","url","score"}]}
//   GET /health                            -> {"ok": true, "docs": 63666, ...}
//
// The index is a split index (`npx edgekb build docs.jsonl --out public/kb --split`), read from an
// R2 bucket (INDEX_SOURCE = "r2": `env.BUCKET.get(key, {range})`, one range per page run a query
// needs) or from the Worker's static assets (INDEX_SOURCE = "assets"). The engine reads through
// the `fetch` it is given (the `fetch` option of KnowledgeBase.open): this Worker answers the
// engine's fetches of INTERNAL_ORIGIN itself, from the bucket or the assets.
//
// One engine per isolate: the first request opens the index (requests arriving meanwhile wait on
// the same open), later requests reuse it with its cache (CACHE_BYTES, 16 MiB by default: the
// engine's cache plus the resident dictionary stay far below the isolate's 128 MB).
import { KnowledgeBase, isEdgekbError } from 'edgekb';

const INTERNAL_ORIGIN = 'https://edgekb-index.internal/';
const MAX_QUERY_CHARS = 1024;
const MAX_LIMIT = 100;

// ------------------------------------------------------------------ the engine's fetch

let bindings = null; // env of the isolate (the same object for every request)
const realFetch = globalThis.fetch.bind(globalThis);

function abortError(signal) {
  return signal?.reason ?? new DOMException('The operation was aborted.', 'AbortError');
}

/** Rejects when `signal` aborts (R2 and asset reads take no signal of their own). */
function abortable(promise, signal) {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(abortError(signal));
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(abortError(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** `bytes=a-b` (the only form the engine sends) as {offset, length}, else null. */
function parseRange(header) {
  const m = /^bytes=(\d+)-(\d+)$/.exec(header ?? '');
  if (!m) return null;
  const start = Number(m[1]);
  const end = Number(m[2]);
  return end >= start ? { offset: start, length: end - start + 1 } : null;
}

async function fromBucket(key, range) {
  const object = await bindings.BUCKET.get(key, range ? { range } : undefined);
  if (object === null) return new Response('not found', { status: 404 });
  const headers = { 'Content-Type': 'application/octet-stream', ETag: object.httpEtag };
  if (!range) return new Response(object.body, { status: 200, headers });
  const start = object.range?.offset ?? range.offset;
  const length = object.range?.length ?? range.length;
  headers['Content-Range'] = `bytes ${start}-${start + length - 1}/${object.size}`;
  return new Response(object.body, { status: 206, headers });
}

async function fromAssets(path, range, request) {
  const url = new URL(path, 'https://assets.invalid/');
  const response = await bindings.ASSETS.fetch(new Request(url, { headers: range ? { Range: request.headers.get('Range') } : {} }));
  if (!range || response.status !== 200) return response;
  // The assets answered the whole file: cut the range here.
  const bytes = new Uint8Array(await response.arrayBuffer());
  const end = Math.min(bytes.length, range.offset + range.length);
  return new Response(bytes.slice(range.offset, end), {
    status: 206,
    headers: { 'Content-Range': `bytes ${range.offset}-${end - 1}/${bytes.length}` },
  });
}

async function fetchForEngine(input, init) {
  const request = new Request(input, init);
  if (!request.url.startsWith(INTERNAL_ORIGIN)) return realFetch(input, init);
  const path = request.url.slice(INTERNAL_ORIGIN.length).split(/[?#]/)[0];
  const range = parseRange(request.headers.get('Range'));
  const read = bindings.INDEX_SOURCE === 'assets' ? fromAssets(path, range, request) : fromBucket(path, range);
  return abortable(read, init?.signal ?? request.signal);
}

// ------------------------------------------------------------------ one engine per isolate

let opening = null;

function openIndex(env) {
  if (!opening) {
    bindings = env;
    const source = env.INDEX_SOURCE ?? 'r2';
    if (source !== 'r2' && source !== 'assets') throw new Error(`INDEX_SOURCE must be "r2" or "assets", not ${JSON.stringify(source)}`);
    if (source === 'r2' && !env.BUCKET) throw new Error('INDEX_SOURCE is "r2" but there is no BUCKET binding (wrangler.toml [[r2_buckets]])');
    if (source === 'assets' && !env.ASSETS) throw new Error('INDEX_SOURCE is "assets" but there is no ASSETS binding (wrangler.toml [assets])');
    const cacheBytes = Number(env.CACHE_BYTES ?? 16 << 20);
    opening = KnowledgeBase.open(INTERNAL_ORIGIN + (env.INDEX_PATH ?? 'kb/manifest.json'), { cacheBytes, fetch: fetchForEngine });
    // A failed open is not kept: the next request tries again.
    opening.catch(() => (opening = null));
  }
  return opening;
}

// ------------------------------------------------------------------ HTTP

const CORS = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Methods': 'GET, HEAD, OPTIONS',
  'Access-Control-Allow-Headers': 'Content-Type',
  'Access-Control-Max-Age': '86400',
};

function json(status, body, cacheControl = 'no-store', extra = {}) {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': cacheControl, ...CORS, ...extra },
  });
}

const error = (status, code, message, extra) => json(status, { error: { code, message } }, 'no-store', extra);

function failure(err) {
  if (err?.name === 'AbortError') return error(499, 'Aborted', 'the client went away');
  if (isEdgekbError(err)) {
    const status = ['HttpStatus', 'Network', 'Timeout'].includes(err.code) ? 503 : 500;
    return error(status, err.code, err.message);
  }
  return error(500, 'Internal', String(err?.message ?? err));
}

async function search(request, env, url) {
  const q = url.searchParams.get('q');
  if (q === null || q.trim() === '') return error(400, 'BadRequest', 'give a query: /search?q=words');
  if (q.length > MAX_QUERY_CHARS) return error(400, 'BadRequest', `the query is longer than ${MAX_QUERY_CHARS} characters`);
  const limitText = url.searchParams.get('limit') ?? '10';
  const limit = Number(limitText);
  if (!/^\d+$/.test(limitText) || limit < 1 || limit > MAX_LIMIT) {
    return error(400, 'BadRequest', `limit must be a whole number from 1 to ${MAX_LIMIT}`);
  }
  const t0 = Date.now();
  const kb = await openIndex(env);
  // request.signal aborts when the client disconnects (compatibility flag enable_request_signal).
  const results = await kb.search(q, { limit, signal: request.signal });
  // Same query, same index version: cacheable for a minute by browsers and the edge cache.
  return json(200, results, `public, max-age=${Number(env.MAX_AGE ?? 60)}`, { 'Server-Timing': `search;dur=${Date.now() - t0}` });
}

export default {
  async fetch(request, env) {
    if (request.method === 'OPTIONS') return new Response(null, { status: 204, headers: CORS });
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      return error(405, 'MethodNotAllowed', `${request.method} is not allowed`, { Allow: 'GET, HEAD, OPTIONS' });
    }
    const url = new URL(request.url);
    try {
      switch (url.pathname) {
        case '/search':
          return await search(request, env, url);
        case '/health': {
          const kb = await openIndex(env);
          return json(200, { ok: true, docs: kb.docCount, source: env.INDEX_SOURCE ?? 'r2', stats: kb.stats() });
        }
        default:
          return error(404, 'NotFound', `no route for ${url.pathname}: try /search?q=… or /health`);
      }
    } catch (err) {
      return failure(err);
    }
  },
};
