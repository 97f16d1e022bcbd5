// Pagefind 1.6 on the known-item sets: indexes <dir>/docs.jsonl through Pagefind's Node API as
// one HTML page per document (`<h1>title</h1><p>body</p>`, so the title gets Pagefind's heading
// weight; a document with a `path`, from an HTML documentation set, is indexed as that page
// itself), writes the bundle to <dir>/pagefind/ (kept while docs.jsonl is older), then runs
// <dir>/queries.jsonl with Pagefind's own search (pagefind.js and its wasm, default options) in
// headless Chromium (Debian's /usr/bin/chromium through playwright-core, served from 127.0.0.1)
// and writes a TREC run (top 10) to stdout.
//   node scripts/known_item/pagefind.mjs target/known-item > run.trec
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { resolve } from 'node:path';
import * as pagefind from 'pagefind';
import { chromium } from 'playwright-core';
import { startServer } from '../serve.mjs';

const dir = resolve(process.argv[2] ?? 'target/known-item');
const bundle = `${dir}/pagefind`;
const esc = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

if (!existsSync(`${bundle}/pagefind.js`) || statSync(`${bundle}/pagefind.js`).mtimeMs < statSync(`${dir}/docs.jsonl`).mtimeMs) {
  await rm(bundle, { recursive: true, force: true });
  const t0 = performance.now();
  const { index, errors } = await pagefind.createIndex({ forceLanguage: 'en' });
  if (!index) throw new Error(`pagefind: ${errors}`);
  const lines = createInterface({ input: createReadStream(`${dir}/docs.jsonl`) });
  for await (const line of lines) {
    if (!line.trim()) continue;
    const d = JSON.parse(line);
    const body = (d.body ?? d.text ?? '').split(/\n\s*\n/).map((p) => `<p>${esc(p)}</p>`).join('');
    // A document read from an HTML page (`path`, the documentation sets) is indexed as that page.
    const content = d.path
      ? readFileSync(d.path, 'utf8')
      : `<html lang="en"><body><h1>${esc(d.title ?? '')}</h1>${body}</body></html>`;
    const r = await index.addHTMLFile({ url: `/d/${encodeURIComponent(d.id)}/`, content });
    if (r.errors?.length) throw new Error(`pagefind: ${r.errors}`);
  }
  const w = await index.writeFiles({ outputPath: bundle });
  if (w.errors?.length) throw new Error(`pagefind: ${w.errors}`);
  await pagefind.close();
  console.error(`pagefind: indexed in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

const queries = readFileSync(`${dir}/queries.jsonl`, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
const server = await startServer({ root: bundle });
const browser = await chromium.launch({
  executablePath: process.env.EDGEKB_CHROMIUM ?? '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
  timeout: 60_000,
});
try {
  const page = await browser.newPage();
  await page.goto(`${server.url}pagefind.js`);
  const result = await page.evaluate(async (queries) => {
    const pf = await import('/pagefind.js');
    await pf.init();
    const lines = [];
    const times = [];
    for (const q of queries) {
      const t0 = performance.now();
      const r = await pf.search(q.text);
      times.push(performance.now() - t0);
      const top = await Promise.all(r.results.slice(0, 10).map((x) => x.data()));
      top.forEach((d, i) => {
        const id = decodeURIComponent(d.url.split('/')[2]);
        lines.push(`${q.id} Q0 ${id} ${i + 1} ${(r.results[i].score ?? 0).toFixed(6)} pagefind`);
      });
    }
    times.sort((a, b) => a - b);
    return { lines, p50: times[times.length >> 1], p99: times[Math.floor(times.length * 0.99)] };
  }, queries);
  process.stdout.write(result.lines.join('\n') + '\n');
  console.error(`pagefind: query p50 ${result.p50.toFixed(2)} ms, p99 ${result.p99.toFixed(2)} ms (Chromium, warm after the first)`);
} finally {
  await browser.close();
  await server.close();
}
