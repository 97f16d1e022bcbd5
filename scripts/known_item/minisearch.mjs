// MiniSearch 7 on the known-item sets: indexes <dir>/docs.jsonl (title and body, title boosted
// ×2), runs <dir>/queries.jsonl with fuzzy 0.2 and prefix matching (MiniSearch's usual
// search-as-you-type settings, combined with OR, its default) and writes a TREC run (top 10).
//   node scripts/known_item/minisearch.mjs target/known-item > run.trec
import { createReadStream, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import MiniSearch from 'minisearch';

const dir = process.argv[2] ?? 'target/known-item';
const ms = new MiniSearch({
  fields: ['title', 'body'],
  storeFields: [],
  idField: 'id',
  searchOptions: { boost: { title: 2 }, fuzzy: 0.2, prefix: true },
});
const lines = createInterface({ input: createReadStream(`${dir}/docs.jsonl`) });
const batch = [];
for await (const line of lines) {
  if (!line.trim()) continue;
  const d = JSON.parse(line);
  batch.push({ id: d.id, title: d.title ?? '', body: d.body ?? d.text ?? '' });
}
let t0 = performance.now();
ms.addAll(batch);
const buildMs = performance.now() - t0;
const queries = readFileSync(`${dir}/queries.jsonl`, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
const out = [];
const times = [];
for (const q of queries) {
  t0 = performance.now();
  const res = ms.search(q.text);
  times.push(performance.now() - t0);
  res.slice(0, 10).forEach((r, i) => out.push(`${q.id} Q0 ${r.id} ${i + 1} ${r.score.toFixed(6)} minisearch`));
}
process.stdout.write(out.join('\n') + '\n');
times.sort((a, b) => a - b);
console.error(`minisearch: built in ${(buildMs / 1000).toFixed(1)} s; query p50 ${times[times.length >> 1].toFixed(2)} ms, p99 ${times[Math.floor(times.length * 0.99)].toFixed(2)} ms`);
