// The demo search page: loads the wasm engine, opens ./kb/sample.ekb and searches as you type.
import init, { KnowledgeBase } from './pkg/edgekb.js';

const INDEX_URL = './kb/sample.ekb';
const LIMIT = 20;
const DEBOUNCE_MS = 80;

const input = document.getElementById('q');
const statusLine = document.getElementById('status');
const results = document.getElementById('results');

let kb = null;
let timer = 0;

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

// Only http(s) links are rendered as links: an index is data, and data can hold `javascript:`.
function safeHref(url) {
  try {
    const u = new URL(url, document.baseURI);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : null;
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
  return li;
}

function runSearch() {
  timer = 0;
  if (!kb) return;
  const query = input.value;
  if (query.trim() === '') {
    results.replaceChildren();
    results.dataset.query = query;
    setStatus(`${plural(kb.docCount, 'document')} indexed. Type to search.`);
    return;
  }
  let res;
  const t0 = performance.now();
  try {
    res = kb.search(query, { limit: LIMIT });
  } catch (err) {
    results.replaceChildren();
    results.dataset.query = query;
    setStatus(`Search failed: ${err.message ?? err}`, true);
    return;
  }
  const ms = performance.now() - t0;
  results.replaceChildren(...res.hits.map(renderHit));
  results.dataset.query = query;
  const shown = res.hits.length < res.total ? ` (showing ${res.hits.length})` : '';
  setStatus(`${plural(res.total, 'result')} in ${formatMs(ms)} ms${shown}`);
}

function scheduleSearch() {
  clearTimeout(timer);
  timer = setTimeout(runSearch, DEBOUNCE_MS);
  const url = new URL(location.href);
  if (input.value) url.searchParams.set('q', input.value);
  else url.searchParams.delete('q');
  history.replaceState(null, '', url);
}

async function main() {
  try {
    const t0 = performance.now();
    await init();
    kb = await KnowledgeBase.open(INDEX_URL);
    const ms = performance.now() - t0;
    setStatus(`${plural(kb.docCount, 'document')} loaded in ${formatMs(ms)} ms. Type to search.`);
  } catch (err) {
    const code = err && err.code ? ` (${err.code})` : '';
    setStatus(`Could not load the knowledge base: ${err && err.message ? err.message : err}${code}`, true);
    document.documentElement.dataset.state = 'error';
    return;
  }
  input.disabled = false;
  input.addEventListener('input', scheduleSearch);
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
