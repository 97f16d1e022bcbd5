// The demo's Service Worker: after one visit, search keeps working offline.
//
// What it keeps, and how:
//  - the page and the engine (index.html, app.mjs, style.css, pkg/edgekb.js, pkg/edgekb_bg.wasm):
//    cached at install; network first (so a new build is never mixed with an old one), the cached
//    copy when the network fails;
//  - manifest.json of an index: network first (it is the one mutable file), the cached copy when
//    the network fails. A manifest is kept only if it passes the rules the engine's loader
//    applies (`Manifest::validate` in src/split/mod.rs): layout version 2 to 6, six or seven file entries
//    (a pack's entry may list the pieces it is written as, layout 3), each name
//    `<kind>.<16 hex>.bin` (so it cannot leave the manifest's directory or name another host),
//    each URL of the same origin and the same directory as the manifest, sizes and SHA-256
//    well-formed, at most 64 KiB of JSON. A manifest that fails is passed to the page untouched
//    (the engine refuses it) and nothing it names is fetched or cached. Each kept manifest
//    brings its dictionary into the cache, and files that neither it nor the manifest before it
//    name are dropped;
//  - dictionary.bin of an index (the dictionary under its fixed name, which holds the manifest
//    from layout 6: the engine opens the index from it alone, and asks for no manifest): network
//    first, as the engine asks; the worker then refreshes its kept manifest of that directory in
//    the background (this is when it learns of a new version), and offline it answers with the
//    dictionary its kept manifest names;
//  - the content-addressed index files: cache first, forever. The engine asks for byte ranges; a
//    range of a file held whole is sliced from the cache. A range of a file not held yet goes to
//    the network (a partial response is never cached); then, if a kept manifest of that
//    directory names the file, the whole file is fetched once in the background, checked
//    against that manifest's size and SHA-256, and cached. So every file a search touched is
//    available offline, and `kb.prefetch()` makes a whole index available.
//
// The budget: the data cache never holds more than DATA_BUDGET_BYTES (48 MiB; a test may lower
// it with `sw.js?budget=N`) of index files and manifests, and no single file over
// MAX_FILE_BYTES is stored. Whole-file fills run one at a time, only for files a kept manifest
// names (six per index directory, or more when packs are in pieces), and a file that would take the cache past the budget
// is not fetched at all: it stays online-only. Nothing is evicted to make room; a new manifest
// frees the files of the version before the previous one.
//
// The index the page opens is warmed at install (its manifest and dictionary), because the
// first visit is not under the worker's control yet.
const VERSION = 'v1';
const SHELL_CACHE = `edgekb-shell-${VERSION}`;
const DATA_CACHE = 'edgekb-data';
const SHELL = ['./', './index.html', './app.mjs', './style.css', './pkg/edgekb.js', './pkg/edgekb_bg.wasm'];
const INDEXES = ['./kb/sample/manifest.json'];
const DATA_BUDGET_BYTES = budgetFromScriptUrl() ?? 48 << 20;
const MAX_FILE_BYTES = 32 << 20;
const MAX_MANIFEST_BYTES = 64 * 1024; // src/split.rs MAX_MANIFEST_BYTES
const MANIFEST_VERSIONS = [2, 3, 4, 5, 6]; // src/split/mod.rs OLDEST_MANIFEST_VERSION..=NEWEST_MANIFEST_VERSION
const MAX_PIECES = 256; // src/split.rs MAX_PIECES
const MANIFEST_FILES = ['dictionary', 'postings', 'positions', 'store', 'terms', 'display'];
const NORMS_MANIFEST_VERSION = 4; // src/split.rs NORMS_MANIFEST_VERSION: the `norms` pack
const FILE_NAME = /^[a-z]{1,32}\.[0-9a-f]{16}\.bin$/; // src/split.rs valid_file_name
const CONTENT_ADDRESSED = /\/([a-z]{1,32})\.([0-9a-f]{16})\.bin$/;

function budgetFromScriptUrl() {
  const n = Number(new URL(self.location.href).searchParams.get('budget') ?? NaN);
  return Number.isSafeInteger(n) && n >= 0 ? n : null;
}

const scoped = (path) => new URL(path, self.registration.scope).href;
const withoutSearch = (href) => {
  const u = new URL(href);
  u.search = '';
  u.hash = '';
  return u.href;
};

/**
 * The files a manifest names, as [{href, size, sha256}], or null when the manifest breaks a rule
 * the engine's loader holds (see the top of this file). `manifestHref` is the manifest's URL.
 */
function manifestFiles(manifest, manifestHref) {
  if (manifest === null || typeof manifest !== 'object' || !MANIFEST_VERSIONS.includes(manifest.manifest_version)) return null;
  const base = new URL('./', manifestHref);
  if (base.origin !== self.location.origin) return null;
  // One file entry, checked: {href, size, sha256}, or null.
  const fileOf = (entry) => {
    if (entry === null || typeof entry !== 'object') return null;
    const { name, size, sha256 } = entry;
    if (typeof name !== 'string' || !FILE_NAME.test(name)) return null;
    if (!Number.isSafeInteger(size) || size < 0) return null;
    if (typeof sha256 !== 'string' || !/^[0-9a-fA-F]{64}$/.test(sha256)) return null;
    const url = new URL(name, base);
    // Implied by the name's form; checked anyway, as the Rust loader does.
    if (url.origin !== base.origin || url.href !== base.href + name) return null;
    return { href: url.href, size, sha256: sha256.toLowerCase() };
  };
  const files = [];
  // The norms pack: required from layout 4, refused before it.
  const hasNorms = manifest.norms !== undefined;
  if (hasNorms !== manifest.manifest_version >= NORMS_MANIFEST_VERSION) return null;
  for (const key of hasNorms ? [...MANIFEST_FILES, 'norms'] : MANIFEST_FILES) {
    const entry = manifest[key];
    const whole = fileOf(entry);
    if (!whole) return null;
    if (entry.pieces === undefined) {
      files.push(whole);
      continue;
    }
    // A pack written as pieces (layout 3): the pieces are its files; the pack is not one.
    const { pieces } = entry;
    if (manifest.manifest_version < 3 || key === 'dictionary' || !Array.isArray(pieces)) return null;
    if (pieces.length < 2 || pieces.length > MAX_PIECES) return null;
    let total = 0;
    for (const p of pieces) {
      const piece = fileOf(p);
      if (!piece || p.pieces !== undefined) return null;
      total += piece.size;
      files.push(piece);
    }
    if (total !== whole.size) return null;
  }
  return files;
}

/** The body of `response` as text, or null past `max` bytes (it stops reading there). */
async function readText(response, max) {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > max) {
      await reader.cancel().catch(() => null);
      return null;
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.byteLength;
  }
  return new TextDecoder().decode(bytes);
}

/** Parses and checks manifest text; null when it is not a manifest the engine would accept. */
function parseManifest(text, href) {
  if (text.length > MAX_MANIFEST_BYTES) return null;
  try {
    const manifest = JSON.parse(text);
    const files = manifestFiles(manifest, href);
    return files ? { manifest, files } : null;
  } catch {
    return null;
  }
}

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
  } else if (url.pathname.endsWith('/dictionary.bin')) {
    event.respondWith(alias(event, request));
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

// dictionary.bin: from the network as the engine asks (it revalidates); the kept manifest of its
// directory is refreshed beside it. Offline, the dictionary the kept manifest names, from the
// cache (a layout 6 dictionary holds that manifest; an older one is checked against it by the
// engine, which then asks for the manifest, answered from the cache too).
async function alias(event, request) {
  const dir = new URL('./', withoutSearch(request.url)).href;
  try {
    const response = await fetch(request);
    event.waitUntil(refreshManifest(new URL('manifest.json', dir).href).catch(() => null));
    return response;
  } catch (err) {
    const cache = await caches.open(DATA_CACHE);
    const kept = await keptManifest(cache, dir);
    const dictionary = kept && (await cache.match(kept.files[0].href));
    if (dictionary) return dictionary;
    throw err;
  }
}

async function refreshManifest(href) {
  const response = await fetch(href, { cache: 'no-store' });
  if (!response.ok) throw new Error(`${href}: HTTP ${response.status}`);
  await storeManifest(withoutSearch(href), response);
}

// The kept manifest of the directory `dir` (parsed and checked), or null.
async function keptManifest(cache, dir) {
  const response = await cache.match(new URL('manifest.json', dir).href);
  if (!response) return null;
  return parseManifest(await response.text(), new URL('manifest.json', dir).href);
}

// Caches a manifest that passes the loader's rules, and its dictionary; drops files that neither
// it nor the previous manifest of the same index name (searches still running on the previous
// version may need those). A manifest that fails the rules changes nothing.
async function storeManifest(key, response) {
  const text = await readText(response, MAX_MANIFEST_BYTES);
  const next = text === null ? null : parseManifest(text, key);
  if (!next) return;
  const dir = new URL('./', key).href;
  await serialized(async () => {
    const cache = await caches.open(DATA_CACHE);
    const previous = await keptManifest(cache, dir);
    const old = await cache.match(key);
    const held = (await heldBytes(cache)) - (Number(old?.headers.get('Content-Length')) || 0);
    if (held + text.length > DATA_BUDGET_BYTES) return;
    await cache.put(key, new Response(text, { headers: { 'Content-Type': 'application/json', 'Content-Length': String(text.length) } }));
    const keep = new Set([...(previous?.files ?? []), ...next.files].map((f) => f.href));
    for (const request of await cache.keys()) {
      const href = request.url;
      if (href.startsWith(dir) && CONTENT_ADDRESSED.test(new URL(href).pathname) && !href.slice(dir.length).includes('/') && !keep.has(href)) {
        await cache.delete(request);
      }
    }
  });
  await fillWhole(next.files[0]).catch(() => null);
}

// ------------------------------------------------------------------ content-addressed files

async function contentAddressed(event, request) {
  const key = withoutSearch(request.url);
  const cache = await caches.open(DATA_CACHE);
  const range = request.headers.get('range');
  const cached = await cache.match(key);
  if (cached) return range ? slice(cached, range) : cached;
  const response = await fetch(request);
  if (response.status === 200 || response.status === 206) {
    // Only a file that a kept manifest of its directory names, with the size and SHA-256 it
    // gives, is ever stored.
    event.waitUntil(
      keptManifest(cache, new URL('./', key).href)
        .then((kept) => kept?.files.find((f) => f.href === key))
        .then((file) => file && (response.status === 200 ? serialized(() => checkAndStore(file, response.clone())) : fillWhole(file)))
        .catch(() => null),
    );
  }
  return response;
}

// One data-cache write at a time, so the budget check and the write that follows it cannot
// interleave with another fill.
let queue = Promise.resolve();
function serialized(task) {
  const run = queue.then(task, task);
  queue = run.catch(() => null);
  return run;
}

// Bytes the data cache holds (every entry is stored with its Content-Length).
async function heldBytes(cache) {
  let total = 0;
  for (const request of await cache.keys()) {
    const response = await cache.match(request);
    total += Number(response?.headers.get('Content-Length') ?? 0) || 0;
  }
  return total;
}

const filling = new Map(); // href -> Promise

// Fetches a manifest's file whole once (never twice at the same time, one file at a time),
// checks it and caches it, if it fits the budget.
function fillWhole(file) {
  if (file.size > MAX_FILE_BYTES) return Promise.resolve(false);
  let p = filling.get(file.href);
  if (!p) {
    p = serialized(async () => {
      const cache = await caches.open(DATA_CACHE);
      if (await cache.match(file.href)) return true;
      if ((await heldBytes(cache)) + file.size > DATA_BUDGET_BYTES) return false;
      const response = await fetch(file.href);
      if (response.status !== 200) throw new Error(`${file.href}: HTTP ${response.status}`);
      return checkAndStore(file, response);
    }).finally(() => filling.delete(file.href));
    filling.set(file.href, p);
  }
  return p;
}

// Stores a whole file only when it has the size and SHA-256 its manifest gives and fits the
// budget: a file damaged in transit must not be served from the cache forever. Runs serialized.
async function checkAndStore(file, response) {
  if (file.size > MAX_FILE_BYTES) return false;
  const cache = await caches.open(DATA_CACHE);
  if ((await heldBytes(cache)) + file.size > DATA_BUDGET_BYTES) return false;
  const bytes = await response.arrayBuffer();
  if (bytes.byteLength !== file.size) throw new Error(`${file.href}: ${bytes.byteLength} bytes, the manifest says ${file.size}`);
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  const hex = Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
  if (hex !== file.sha256) throw new Error(`${file.href}: SHA-256 ${hex} does not match its manifest`);
  await cache.put(
    file.href,
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
