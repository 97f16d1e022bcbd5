// The demo search page: loads the wasm engine, opens the split index ./kb/sample/manifest.json
// (the dictionary now, the rest in ranges as queries need it) and searches as you type. A new
// keystroke aborts the search still running. Hits show their best passage with the matched words
// highlighted; tag chips with counts (over every match) narrow the results when clicked, chips of
// active filters widen them again; an Order menu (shown when the index has sortable fields) sorts
// by a field either way; Previous/Next page through; ↑/↓ move through the hits and
// Enter opens the selected one. A Service Worker (sw.js) keeps the page, the engine and every
// index file fetched, so the page keeps working offline after a visit.
import init, { KnowledgeBase, highlightHtml } from './pkg/edgekb.js'; // the npm package's browser entry: www/pkg/ is its unpacked tarball (./build.sh demo)

const INDEX_URL = './kb/sample/manifest.json';
const LIMIT = 20;
const DEBOUNCE_MS = 80;
const FACET = 'tags';
const CHIPS = 12;

const input = document.getElementById('q');
const statusLine = document.getElementById('status');
const statsLine = document.getElementById('stats');
const results = document.getElementById('results');
const facetsBox = document.getElementById('facets');
const filtersBox = document.getElementById('filters');
const pagesNav = document.getElementById('pages');
const pageLabel = document.getElementById('page');
const prevButton = document.getElementById('prev');
const nextButton = document.getElementById('next');
const orderBox = document.getElementById('order');
const sortSelect = document.getElementById('sort');

// What narrows the search beside its text: tag values (ANDed) and the page.
const active = new Set();
let offset = 0;
let selected = -1; // the hit ↑/↓ selected, -1 for none

let kb = null;
let timer = 0;
let inFlight = null; // the AbortController of the search running now
// Counters for tests and the curious: searches started, aborted by a newer one, finished.
const counts = { started: 0, aborted: 0, completed: 0, failed: 0 };
window.__searches = counts;

function setStatus(text, isError = false) {
  statusLine.textContent = text;
  statusLine.classList.toggle('error', isError);
}

function plural(n, word) {
  return `${n.toLocaleString('en')} ${word}${n === 1 ? '' : 's'}`;
}

function formatMs(ms) {
  return ms < 10 ? ms.toFixed(1) : Math.round(ms).toString();
}

function formatBytes(n) {
  if (n < 1000) return `${n} B`;
  if (n < 1e6) return `${(n / 1e3).toFixed(1)} KB`;
  return `${(n / 1e6).toFixed(1)} MB`;
}

function showStats() {
  if (!kb || !statsLine) return;
  const s = kb.stats();
  if (!s.split) {
    statsLine.textContent = '';
    return;
  }
  statsLine.textContent = `${plural(s.requests, 'request')} · ${formatBytes(s.bytesFetched)} fetched · ${formatBytes(s.bytesHeld)} cached`;
}

// Only http(s) links are rendered as links: an index is data, and data can hold `javascript:`.
// A hit without a URL (empty, blank, or only a fragment or query of this page) is no link at
// all: resolved against the page, it would link to the page itself.
function safeHref(url) {
  if (typeof url !== 'string' || url.trim() === '') return null;
  try {
    const u = new URL(url.trim(), document.baseURI);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return null;
    const page = new URL(location.href);
    if (u.origin === page.origin && u.pathname === page.pathname) return null;
    return u.href;
  } catch {
    return null;
  }
}

function renderHit(hit) {
  const li = document.createElement('li');
  li.className = 'hit';
  li.dataset.id = hit.id;

  const href = safeHref(hit.url);
  const title = document.createElement(href ? 'a' : 'span');
  title.className = 'title';
  title.textContent = hit.title || hit.id;
  if (href) {
    title.href = href;
    title.rel = 'noopener noreferrer';
  }

  const meta = document.createElement('div');
  meta.className = 'meta';
  const id = document.createElement('span');
  id.className = 'id';
  id.textContent = hit.id;
  const score = document.createElement('span');
  score.className = 'score';
  score.textContent = `score ${hit.score.toFixed(3)}`;
  meta.append(id, score);

  li.append(title, meta);
  if (hit.snippet) {
    const p = document.createElement('p');
    p.className = 'snippet';
    // highlightHtml escapes the document's text; only <mark> is markup.
    p.innerHTML = highlightHtml(hit.snippet, hit.highlights ?? []);
    li.append(p);
  }
  return li;
}

function chip(label, count, pressed, onClick) {
  const b = document.createElement('button');
  b.type = 'button';
  b.className = 'chip';
  b.dataset.value = label;
  b.setAttribute('aria-pressed', String(pressed));
  b.textContent = count === null ? `${label} ✕` : `${label} `;
  if (count !== null) {
    const c = document.createElement('span');
    c.className = 'count';
    c.textContent = count.toLocaleString('en');
    b.append(c);
  }
  b.addEventListener('click', onClick);
  return b;
}

function renderFacets(res) {
  filtersBox.replaceChildren(
    ...[...active].map((v) =>
      chip(v, null, true, () => {
        active.delete(v);
        offset = 0;
        runSearch();
      }),
    ),
  );
  const counts = Object.entries(res?.facets?.[FACET] ?? {})
    .filter(([v]) => !active.has(v))
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, CHIPS);
  facetsBox.replaceChildren(
    ...counts.map(([v, n]) =>
      chip(v, n, false, () => {
        active.add(v);
        offset = 0;
        runSearch();
      }),
    ),
  );
}

// The engine pages no further than this many hits in (its `offset` limit).
const MAX_OFFSET = 100_000;

function renderPages(res) {
  const pages = Math.min(Math.ceil((res?.total ?? 0) / LIMIT), Math.floor(MAX_OFFSET / LIMIT) + 1);
  pagesNav.hidden = pages <= 1;
  prevButton.disabled = offset === 0;
  nextButton.disabled = offset / LIMIT + 1 >= pages;
  pageLabel.textContent = pages > 1 ? `page ${offset / LIMIT + 1} of ${pages.toLocaleString('en')}` : '';
}

function select(i) {
  const items = results.querySelectorAll('.hit');
  if (items.length === 0) return;
  selected = Math.max(0, Math.min(items.length - 1, i));
  items.forEach((li, k) => li.setAttribute('aria-selected', String(k === selected)));
  items[selected].scrollIntoView({ block: 'nearest' });
}

function onKey(event) {
  if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
    event.preventDefault();
    select(selected + (event.key === 'ArrowDown' ? 1 : -1));
  } else if (event.key === 'Enter' && selected >= 0) {
    const link = results.querySelectorAll('.hit')[selected]?.querySelector('a.title');
    if (link) {
      event.preventDefault();
      window.__opened = link.href;
      link.click();
    }
  }
}

// Aborts the search still running, if any (its promise rejects with an AbortError, ignored).
function abortInFlight() {
  if (inFlight) {
    inFlight.abort();
    inFlight = null;
  }
}

async function runSearch() {
  timer = 0;
  if (!kb) return;
  abortInFlight();
  const query = input.value;
  if (query.trim() === '' && active.size === 0) {
    results.replaceChildren();
    results.dataset.query = query;
    renderFacets(null);
    renderPages(null);
    setStatus(`${plural(kb.docCount, 'document')} indexed. Type to search.`);
    return;
  }
  const controller = new AbortController();
  inFlight = controller;
  counts.started += 1;
  let res;
  const t0 = performance.now();
  try {
    const filter = active.size ? { and: [...active].map((value) => ({ field: FACET, value })) } : undefined;
    res = await kb.search(query, {
      limit: LIMIT,
      offset,
      sort: sortSelect.value || undefined,
      filter,
      facets: [FACET],
      snippet: 160,
      signal: controller.signal,
    });
  } catch (err) {
    if (controller.signal.aborted) {
      // A newer keystroke took over: its search renders.
      counts.aborted += 1;
      return;
    }
    if (inFlight === controller) inFlight = null;
    counts.failed += 1;
    results.replaceChildren();
    results.dataset.query = query;
    const code = err && err.code ? ` (${err.code})` : '';
    setStatus(`Search failed: ${err?.message ?? err}${code}`, true);
    showStats();
    return;
  }
  if (controller.signal.aborted) {
    counts.aborted += 1;
    return;
  }
  if (inFlight === controller) inFlight = null;
  counts.completed += 1;
  const ms = performance.now() - t0;
  results.replaceChildren(...res.hits.map(renderHit));
  results.dataset.query = query;
  results.dataset.offset = String(offset);
  selected = -1;
  renderFacets(res);
  renderPages(res);
  const shown = res.hits.length < res.total ? ` (showing ${res.hits.length})` : '';
  setStatus(`${plural(res.total, 'result')} in ${formatMs(ms)} ms${shown}`);
  showStats();
}

function scheduleSearch() {
  // A new keystroke: the previous search is stale, stop its fetches now.
  abortInFlight();
  clearTimeout(timer);
  offset = 0;
  timer = setTimeout(runSearch, DEBOUNCE_MS);
  const url = new URL(location.href);
  if (input.value) url.searchParams.set('q', input.value);
  else url.searchParams.delete('q');
  history.replaceState(null, '', url);
}

// The Service Worker makes the page work offline; the page works without it too.
function registerServiceWorker() {
  if (!('serviceWorker' in navigator) || !window.isSecureContext) return;
  navigator.serviceWorker.register('./sw.js').then(
    () => {
      document.documentElement.dataset.sw = 'registered';
    },
    (err) => {
      document.documentElement.dataset.sw = 'failed';
      console.info('Service Worker not registered:', err?.message ?? err);
    },
  );
}

async function main() {
  registerServiceWorker();
  try {
    const t0 = performance.now();
    await init();
    kb = await KnowledgeBase.open(INDEX_URL);
    window.__kb = kb;
    const ms = performance.now() - t0;
    setStatus(`${plural(kb.docCount, 'document')} loaded in ${formatMs(ms)} ms. Type to search.`);
    showStats();
  } catch (err) {
    const code = err && err.code ? ` (${err.code})` : '';
    setStatus(`Could not load the knowledge base: ${err && err.message ? err.message : err}${code}`, true);
    document.documentElement.dataset.state = 'error';
    return;
  }
  // Sortable fields (numbers or dates), each way; relevance stays the default.
  for (const field of kb.sortFields) {
    for (const [dir, label] of [['asc', 'ascending'], ['desc', 'descending']]) {
      sortSelect.append(new Option(`by ${field}, ${label}`, `${field}:${dir}`));
    }
  }
  orderBox.hidden = kb.sortFields.length === 0;
  sortSelect.addEventListener('change', () => {
    offset = 0;
    runSearch();
  });
  input.disabled = false;
  input.addEventListener('input', scheduleSearch);
  input.addEventListener('keydown', onKey);
  results.addEventListener('keydown', onKey);
  prevButton.addEventListener('click', () => {
    offset = Math.max(0, offset - LIMIT);
    runSearch();
  });
  nextButton.addEventListener('click', () => {
    offset += LIMIT;
    runSearch();
  });
  document.getElementById('search').addEventListener('submit', (event) => {
    event.preventDefault();
    clearTimeout(timer);
    runSearch();
  });
  const initial = new URL(location.href).searchParams.get('q');
  if (initial) {
    input.value = initial;
    runSearch();
  }
  input.focus();
  document.documentElement.dataset.state = 'ready';
}

main();
