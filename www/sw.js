// The demo's Service Worker: after one visit, search keeps working offline.
//
// What it keeps, and how:
//  - the page and the engine (index.html, app.mjs, style.css, pkg/edgekb.js, pkg/edgekb_bg.wasm):
//    cached at install; network first (so a new build is never mixed with an old one), the cached
//    copy when the network fails;
//  - manifest.json of an index: network first (it is the one mutable file), the cached copy when
//    the network fails. Each new manifest also brings its dictionary into the cache, and files
//    that neither it nor the manifest before it name are dropped;
//  - the content-addressed index files (`<kind>.<16 hex of SHA-256>.bin`): cache first, forever.
//    The engine asks for byte ranges; a range of a file held whole is sliced from the cache. A
//    range of a file not held yet goes to the network (a partial response is never cached), and
//    the whole file is then fetched once in the background, checked against the SHA-256 in its
//    name, and cached (files over MAX_FILE_BYTES are not kept). So every file a search touched is
//    available offline, and `kb.prefetch()` makes a whole index available.
//
// The index the page opens is warmed at install (its manifest and dictionary), because the
// first visit is not under the worker's control yet.
const VERSION = 'v1';
const SHELL_CACHE = `edgekb-shell-${VERSION}`;
const DATA_CACHE = 'edgekb-data';
const SHELL = ['./', './index.html', './app.mjs', './style.css', './pkg/edgekb.js', './pkg/edgekb_bg.wasm'];
const INDEXES = ['./kb/sample/manifest.json'];
const MAX_FILE_BYTES = 64 << 20;
const CONTENT_ADDRESSED = /\/([a-z]{1,32})\.([0-9a-f]{16})\.bin$/;

const scoped = (path) => new URL(path, self.registration.scope).href;
const withoutSearch = (href) => {
  const u = new URL(href);
  u.search = '';
  u.hash = '';
  return u.href;
};

self.addEventListener('install', (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(SHELL_CACHE);
      await cache.addAll(SHELL.map((path) => new Request(scoped(path), { cache: 'no-store' })));
      // Best effort: the page works (online) without its index in the cache.
      await Promise.all(INDEXES.map((path) => refreshManifest(scoped(path)).catch(() => null)));
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      for (const key of await caches.keys()) {
        if (key.startsWith('edgekb-shell-') && key !== SHELL_CACHE) await caches.delete(key);
      }
      await self.clients.claim();
    })(),
  );
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (CONTENT_ADDRESSED.test(url.pathname)) {
    event.respondWith(contentAddressed(event, request));
  } else if (url.pathname.endsWith('/manifest.json')) {
    event.respondWith(manifest(event, request));
  } else if (request.mode === 'navigate' || SHELL.some((path) => withoutSearch(scoped(path)) === withoutSearch(url.href))) {
    event.respondWith(shell(request));
  }
});

// ------------------------------------------------------------------ the page and the engine

async function shell(request) {
  const cache = await caches.open(SHELL_CACHE);
  try {
    const response = await fetch(request);
    if (response.status === 200) await cache.put(withoutSearch(request.url), response.clone());
    return response;
  } catch (err) {
    const cached = await cache.match(request, { ignoreSearch: true });
    if (cached) return cached;
    throw err;
  }
}

// ------------------------------------------------------------------ manifests

async function manifest(event, request) {
  const key = withoutSearch(request.url);
  try {
    const response = await fetch(request, { cache: 'no-store' });
    if (response.ok) event.waitUntil(storeManifest(key, response.clone()));
    return response;
  } catch (err) {
    const cached = await (await caches.open(DATA_CACHE)).match(key);
    if (cached) return cached;
    throw err;
  }
}

async function refreshManifest(href) {
  const response = await fetch(href, { cache: 'no-store' });
  if (!response.ok) throw new Error(`${href}: HTTP ${response.status}`);
  await storeManifest(withoutSearch(href), response);
}

// Caches a manifest and its dictionary; drops files that neither it nor the previous manifest of
// the same index name (searches still running on the previous version may need those).
async function storeManifest(key, response) {
  const cache = await caches.open(DATA_CACHE);
  const text = await response.text();
  const next = JSON.parse(text);
  const previous = await cache.match(key).then((r) => (r ? r.json() : null)).catch(() => null);
  await cache.put(key, new Response(text, { headers: { 'Content-Type': 'application/json' } }));
  const dictionary = new URL(next.dictionary.name, key).href;
  await fillWhole(dictionary, next.dictionary.size).catch(() => null);
  const keep = new Set();
  for (const m of [previous, next]) {
    // Every file entry of the manifest ({name, size, sha256}): dictionary, parts, packs.
    for (const entry of Object.values(m ?? {})) {
      if (typeof entry?.name === 'string' && typeof entry?.sha256 === 'string') keep.add(new URL(entry.name, key).href);
    }
  }
  const dir = new URL('./', key).href;
  for (const request of await cache.keys()) {
    const href = request.url;
    if (href.startsWith(dir) && CONTENT_ADDRESSED.test(new URL(href).pathname) && !href.slice(dir.length).includes('/') && !keep.has(href)) {
      await cache.delete(request);
    }
  }
}

// ------------------------------------------------------------------ content-addressed files

async function contentAddressed(event, request) {
  const key = withoutSearch(request.url);
  const cache = await caches.open(DATA_CACHE);
  const range = request.headers.get('range');
  const cached = await cache.match(key);
  if (cached) return range ? slice(cached, range) : cached;
  const response = await fetch(request);
  if (response.status === 200) {
    // The whole file (asked for, or a host that ignores Range).
    event.waitUntil(checkAndStore(key, response.clone()).catch(() => null));
  } else if (response.status === 206) {
    const m = /\/(\d+)\s*$/.exec(response.headers.get('content-range') ?? '');
    if (m) event.waitUntil(fillWhole(key, Number(m[1])).catch(() => null));
  }
  return response;
}

const filling = new Map(); // href -> Promise

// Fetches the whole file once (never twice at the same time), checks it, caches it.
function fillWhole(href, size) {
  if (size > MAX_FILE_BYTES) return Promise.resolve(false);
  let p = filling.get(href);
  if (!p) {
    p = (async () => {
      const cache = await caches.open(DATA_CACHE);
      if (await cache.match(href)) return true;
      const response = await fetch(href);
      if (response.status !== 200) throw new Error(`${href}: HTTP ${response.status}`);
      return checkAndStore(href, response);
    })().finally(() => filling.delete(href));
    filling.set(href, p);
  }
  return p;
}

// Stores a whole content-addressed file only when its bytes hash to the name: a file damaged in
// transit must not be served from the cache forever.
async function checkAndStore(href, response) {
  const [, , prefix] = CONTENT_ADDRESSED.exec(new URL(href).pathname);
  const bytes = await response.arrayBuffer();
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  const hex = Array.from(digest.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join('');
  if (hex !== prefix) throw new Error(`${href}: SHA-256 ${hex}… does not match its name`);
  const cache = await caches.open(DATA_CACHE);
  await cache.put(
    href,
    new Response(bytes, {
      headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(bytes.byteLength) },
    }),
  );
  return true;
}

// A single `bytes=a-b` (or `a-`) range of a whole cached file, as a server would answer it.
async function slice(response, header) {
  const blob = await response.blob();
  const m = /^\s*bytes\s*=\s*(\d+)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!m) return new Response(blob, { status: 200, headers: { 'Content-Type': 'application/octet-stream' } });
  const start = Number(m[1]);
  const end = m[2] === '' ? blob.size - 1 : Math.min(Number(m[2]), blob.size - 1);
  if (start >= blob.size || end < start) {
    return new Response('', { status: 416, headers: { 'Content-Range': `bytes */${blob.size}` } });
  }
  const part = blob.slice(start, end + 1);
  return new Response(part, {
    status: 206,
    headers: {
      'Content-Type': 'application/octet-stream',
      'Content-Length': String(part.size),
      'Content-Range': `bytes ${start}-${end}/${blob.size}`,
    },
  });
}
