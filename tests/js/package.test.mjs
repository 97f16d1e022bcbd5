// The npm package `edgekb` as users get it: packed with `npm pack` from the folder `./build.sh
// build` assembles (target/npm/package/), installed from the tarball into fresh temporary projects
// (offline), and used the way the package README says: Node ESM, `npx edgekb build` without Rust,
// an esbuild bundle in headless Chromium, the example Worker under `wrangler dev` (local R2 and
// static assets) and `wrangler deploy --dry-run`, and the types under `tsc --noEmit`.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdir, readFile, readdir, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium } from 'playwright-core';
import { startServer } from '../../scripts/serve.mjs';
import {
  CLI,
  CUT_ARGS,
  DOCS_JSONL,
  FIXTURE,
  ROOT,
  assertMatchesGolden,
  caseName,
  freePort,
  requirePath,
  sleep,
  tempDir,
  tryLoadGolden,
  waitFor,
} from './support.mjs';

const STAGE = join(ROOT, 'target/npm/package');
const BIN = join(ROOT, 'node_modules/.bin');
const WRANGLER = join(BIN, 'wrangler');
const TSC = join(BIN, 'tsc');
const CHROMIUM = process.env.EDGEKB_CHROMIUM ?? '/usr/bin/chromium';
const { golden, goldenError } = await tryLoadGolden();
const CASES = (golden?.cases ?? []).slice(0, 8);

/** Runs a command; resolves to {code, stdout, stderr} (never rejects on a non-zero exit). */
function run(cmd, args, { cwd, env = process.env, input, timeout = 120_000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { cwd, env, timeout, maxBuffer: 64 << 20, encoding: 'buffer' }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') return reject(new Error(`${cmd} ${args.join(' ')}: ${err.message}\n${stderr}`));
      resolve({ code: err ? err.code : 0, stdout: stdout.toString(), stderr: stderr.toString(), raw: stdout });
    });
    if (input !== undefined) child.stdin.end(input);
  });
}

async function runOk(cmd, args, opts) {
  const r = await run(cmd, args, opts);
  assert.equal(r.code, 0, `${cmd} ${args.join(' ')} exited ${r.code}\n${r.stdout}\n${r.stderr}`);
  return r;
}

/** Every file under `dir` (relative paths, sorted) with its bytes. */
async function tree(dir) {
  const out = new Map();
  async function walk(d, prefix) {
    for (const e of await readdir(d, { withFileTypes: true })) {
      if (e.isDirectory()) await walk(join(d, e.name), `${prefix}${e.name}/`);
      else out.set(prefix + e.name, await readFile(join(d, e.name)));
    }
  }
  await walk(dir, '');
  return new Map([...out].sort(([a], [b]) => a.localeCompare(b)));
}

function assertSameTree(actual, expected, what) {
  assert.deepEqual([...actual.keys()], [...expected.keys()], `${what}: the same file names`);
  for (const [name, bytes] of expected) {
    assert.ok(actual.get(name).equals(bytes), `${what}: ${name} differs (${actual.get(name).length} vs ${bytes.length} bytes)`);
  }
}

let tmp;
let tarball;

/** A fresh project with the tarball installed (offline: the package has no dependencies). */
async function project(name, extra = {}) {
  const dir = join(tmp.dir, name);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name, private: true, type: 'module', ...extra }, null, 2));
  await runOk('npm', ['install', '--offline', '--no-audit', '--no-fund', '--loglevel=error', tarball], { cwd: dir });
  return dir;
}

test('prerequisites: the package is assembled, the CLI built, the golden file there', () => {
  requirePath(join(STAGE, 'package.json'));
  requirePath(CLI);
  if (goldenError) throw goldenError;
});

describe('the npm package, from its tarball', { timeout: 600_000 }, () => {
  before(async () => {
    requirePath(join(STAGE, 'package.json'));
    tmp = await tempDir('package');
    const r = await runOk('npm', ['pack', '--json', '--pack-destination', tmp.dir, STAGE], { cwd: tmp.dir });
    tarball = join(tmp.dir, JSON.parse(r.stdout)[0].filename);
  });
  after(async () => {
    await tmp?.cleanup();
  });

  test('npm pack lists only what a user needs', async () => {
    const r = await runOk('npm', ['pack', '--dry-run', '--json', STAGE], { cwd: tmp.dir });
    const [info] = JSON.parse(r.stdout);
    assert.equal(info.name, 'edgekb');
    const files = info.files.map((f) => f.path).sort();
    assert.deepEqual(files, [
      'CHANGELOG.md',
      'README.md',
      'bin/edgekb.mjs',
      'build.d.ts',
      'build.mjs',
      'builder/edgekb_build.js',
      'builder/edgekb_build_bg.wasm',
      'edgekb.js',
      'edgekb_bg.wasm',
      'glue.js',
      'index.d.ts',
      'node.mjs',
      'package.json',
      'workerd.mjs',
    ]);
    const pkg = JSON.parse(await readFile(join(STAGE, 'package.json'), 'utf8'));
    assert.deepEqual(Object.keys(pkg.exports['.']), ['types', 'workerd', 'worker', 'browser', 'node', 'default']);
    console.log(`npm pack: ${info.size} bytes packed, ${info.unpackedSize} unpacked, ${info.entryCount} files`);
  });

  describe('Node ESM', () => {
    let dir;
    let server;
    let splitDir;
    before(async () => {
      dir = await project('node-app');
      splitDir = join(tmp.dir, 'node-split');
      await runOk(CLI, ['build', DOCS_JSONL, '--out', splitDir, '--split']);
      server = await startServer({ root: splitDir });
    });
    after(async () => server?.close());

    test('resolves the node entry and the .wasm subpath export', async () => {
      const r = await runOk(process.execPath, [
        '--input-type=module',
        '-e',
        `console.log(JSON.stringify([import.meta.resolve('edgekb'), import.meta.resolve('edgekb/edgekb_bg.wasm'), import.meta.resolve('edgekb/build')]))`,
      ], { cwd: dir });
      const [main, wasm, build] = JSON.parse(r.stdout);
      assert.match(main, /node_modules\/edgekb\/node\.mjs$/);
      assert.match(wasm, /node_modules\/edgekb\/edgekb_bg\.wasm$/);
      assert.match(build, /node_modules\/edgekb\/build\.mjs$/);
    });

    test('a split index over HTTP and a single file from bytes answer the golden queries; an abort rejects', async () => {
      const script = `
        // Loading the engine must not fetch: fetch throws until the import is done.
        const realFetch = globalThis.fetch;
        globalThis.fetch = () => { throw new Error('the node entry called fetch'); };
        const { KnowledgeBase, isEdgekbError } = await import('edgekb');
        globalThis.fetch = realFetch;
        const { readFile } = await import('node:fs/promises');
        const [manifestUrl, fixture, casesJson] = process.argv.slice(1);
        const cases = JSON.parse(casesJson);
        const single = KnowledgeBase.fromBytes(await readFile(fixture));
        const split = await KnowledgeBase.open(manifestUrl);
        const out = { single: [], split: [], docCount: [single.docCount, split.docCount] };
        for (const c of cases) {
          out.single.push(await single.search(c.query, c.limit === undefined ? undefined : { limit: c.limit }));
          out.split.push(await split.search(c.query, c.limit === undefined ? undefined : { limit: c.limit }));
        }
        const controller = new AbortController();
        controller.abort();
        out.aborted = await split.search('tmux', { signal: controller.signal }).then(() => 'resolved', (e) => e.name);
        out.bad = (() => { try { KnowledgeBase.fromBytes(new Uint8Array(64)); return 'opened'; } catch (e) { return [isEdgekbError(e), e.code]; } })();
        console.log(JSON.stringify(out));
      `;
      const r = await runOk(process.execPath, ['--input-type=module', '-e', script, `${server.url}manifest.json`, FIXTURE, JSON.stringify(CASES)], { cwd: dir });
      const out = JSON.parse(r.stdout);
      assert.equal(out.docCount[0], out.docCount[1]);
      for (const [i, c] of CASES.entries()) {
        assertMatchesGolden(out.single[i], c.expect, `single: ${caseName(c, i)}`);
        assertMatchesGolden(out.split[i], c.expect, `split: ${caseName(c, i)}`);
      }
      assert.equal(out.aborted, 'AbortError');
      assert.deepEqual(out.bad, [true, 'BadMagic']);
    });

    test('a search aborted while its range request is held rejects with AbortError at once', async () => {
      const script = `
        import { KnowledgeBase } from 'edgekb';
        const kb = await KnowledgeBase.open(process.argv[1]);
        const controller = new AbortController();
        const t0 = performance.now();
        setTimeout(() => controller.abort(), 100);
        const outcome = await kb.search('tmux ', { signal: controller.signal }).then(() => 'resolved', (e) => e.name);
        console.log(JSON.stringify({ outcome, ms: performance.now() - t0 }));
      `;
      server.setFault((ctx) => (ctx.pathname.startsWith('/postings.') ? { delayMs: 5000 } : undefined));
      try {
        const r = await runOk(process.execPath, ['--input-type=module', '-e', script, `${server.url}manifest.json`], { cwd: dir });
        const out = JSON.parse(r.stdout);
        assert.equal(out.outcome, 'AbortError');
        assert.ok(out.ms < 4000, `the abort did not wait for the held response (${out.ms} ms)`);
        assert.ok(server.stats().log.some((l) => l.pathname.startsWith('/postings.')), 'the search was waiting on a postings range');
      } finally {
        server.setFault(null);
      }
    });
  });

  describe('npx edgekb build (no Rust on PATH)', () => {
    let dir;
    let env;
    before(async () => {
      dir = await project('build-app');
      // PATH with node, npx and sh (npx runs a package's bin through sh) only: no cargo, no rustc.
      const bin = join(tmp.dir, 'bin-node-only');
      await mkdir(bin);
      await symlink(process.execPath, join(bin, 'node'));
      await symlink('/bin/sh', join(bin, 'sh'));
      const npx = join(dirname(process.execPath), 'npx');
      assert.ok(existsSync(npx), `no npx beside ${process.execPath}`);
      await symlink(npx, join(bin, 'npx'));
      env = { PATH: bin, HOME: tmp.dir, npm_config_cache: join(tmp.dir, 'npm-cache'), npm_config_offline: 'true', npm_config_update_notifier: 'false' };
      await writeFile(join(dir, 'edgekb.toml'), 'stop_words = false\nk1 = 1.1\nb = 0.6\n');
      await writeFile(join(dir, 'bad.toml'), 'language = "klingon"\n');
      await writeFile(join(dir, 'bad.jsonl'), '{"id":"a","title":"fine"}\n\n{"id":"b","title":\n');
      await writeFile(join(dir, 'notutf8.jsonl'), Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x7d, 0x0a]));
      await writeFile(join(dir, 'docs.jsonl.gz'), 'not really gzip');
    });

    test('PATH has no cargo', async () => {
      const r = await run(join(tmp.dir, 'bin-node-only', 'node'), ['-e', 'require("child_process").execFileSync("cargo", ["--version"])'], { env });
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /ENOENT/);
    });

    const variants = {
      single: ['--single'],
      split: ['--split'],
      'split, dictionary cut into parts': ['--split', ...CUT_ARGS],
      'split, packs in pieces of 4 KiB': ['--split', '--max-file-bytes', '4096'],
      'split with --config': ['--split', '--config', 'edgekb.toml'],
    };
    for (const [name, args] of Object.entries(variants)) {
      test(`${name}: byte for byte the native build`, async () => {
        const out = join(tmp.dir, 'out', name.replace(/\W+/g, '-'));
        // Neither build makes the parent directory of a single file.
        await mkdir(join(out, 'wasm'), { recursive: true });
        await mkdir(join(out, 'native'), { recursive: true });
        const target = args[0] === '--single' ? 'kb.ekb' : 'kb';
        const wasm = await run('npx', ['edgekb', 'build', DOCS_JSONL, '--out', join(out, 'wasm', target), ...args], { cwd: dir, env });
        assert.equal(wasm.code, 0, wasm.stderr);
        const native = await run(CLI, ['build', DOCS_JSONL, '--out', join(out, 'native', target), ...args], { cwd: dir });
        assert.equal(native.code, 0, native.stderr);
        assertSameTree(await tree(join(out, 'wasm')), await tree(join(out, 'native')), name);
        // The summary line is the native one, but for the time taken.
        const strip = (s) => s.replaceAll(join(out, 'wasm'), '').replaceAll(join(out, 'native'), '').replace(/in \d+\.\d\d s/, 'in T s').trim();
        assert.equal(strip(wasm.stderr), strip(native.stderr));
      });
    }

    test('standard input (-) builds the same index', async () => {
      const out = join(tmp.dir, 'out', 'stdin');
      await mkdir(out, { recursive: true });
      const input = await readFile(DOCS_JSONL);
      const wasm = await run('npx', ['edgekb', 'build', '-', '--out', join(out, 'wasm.ekb')], { cwd: dir, env, input });
      assert.equal(wasm.code, 0, wasm.stderr);
      await runOk(CLI, ['build', '-', '--out', join(out, 'native.ekb')], { input });
      assert.ok((await readFile(join(out, 'wasm.ekb'))).equals(await readFile(join(out, 'native.ekb'))));
    });

    const failures = {
      'a line that is not JSON': ['bad.jsonl'],
      'a missing input': ['missing.jsonl'],
      'bytes that are not UTF-8': ['notutf8.jsonl'],
      'a gzip input': ['docs.jsonl.gz'],
      'an unknown language in the config': [DOCS_JSONL, '--config', 'bad.toml'],
      'a missing config': [DOCS_JSONL, '--config', 'nope.toml'],
      'an output under a file': [DOCS_JSONL, '--out', 'edgekb.toml/kb.ekb'],
    };
    for (const [name, args] of Object.entries(failures)) {
      test(`the native CLI's error for ${name}`, async () => {
        const withOut = args.includes('--out') ? args : [...args, '--out', join(tmp.dir, 'never.ekb')];
        const wasm = await run('npx', ['edgekb', 'build', ...withOut], { cwd: dir, env });
        const native = await run(CLI, ['build', ...withOut], { cwd: dir });
        assert.equal(native.code, 1, `native: ${native.stderr}`);
        assert.equal(wasm.code, native.code, wasm.stderr);
        assert.equal(wasm.stderr, native.stderr);
        assert.match(wasm.stderr, /^edgekb: /);
      });
    }

    test('import { build } from "edgekb/build" reports progress and the same files', async () => {
      const out = join(tmp.dir, 'out', 'api');
      const script = `
        import { build } from 'edgekb/build';
        const progress = [];
        const r = await build([process.argv[1]], { out: process.argv[2], split: true, onProgress: (p) => progress.push(p) });
        let code = null;
        try { await build(['missing.jsonl'], { out: 'x.ekb' }); } catch (e) { code = [e.name, e.code]; }
        console.log(JSON.stringify({ r, last: progress.at(-1), code }));
      `;
      const r = await runOk(join(tmp.dir, 'bin-node-only', 'node'), ['--input-type=module', '-e', script, DOCS_JSONL, join(out, 'wasm')], { cwd: dir, env });
      const { r: result, last, code } = JSON.parse(r.stdout);
      assert.equal(result.split, true);
      assert.equal(result.files.at(-1), 'manifest.json');
      assert.equal(last.bytesRead, (await readFile(DOCS_JSONL)).length);
      assert.equal(last.totalBytes, last.bytesRead);
      assert.equal(last.docs, result.docs);
      assert.deepEqual(code, ['EdgekbError', 'Io']);
      await runOk(CLI, ['build', DOCS_JSONL, '--out', join(out, 'native'), '--split']);
      assertSameTree(await tree(join(out, 'wasm')), await tree(join(out, 'native')), 'build()');
    });
  });

  describe("the package README's examples, copied and run as written", () => {
    let dir;
    let readme;
    // The `lang` code blocks of the section whose heading starts with `heading`.
    const blocks = (heading, lang) => {
      const section = readme.split(/^## /m).find((sec) => sec.startsWith(heading));
      assert.ok(section, `no section "${heading}" in the package README`);
      return [...section.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]);
    };
    before(async () => {
      dir = await project('readme-app');
      readme = await readFile(join(dir, 'node_modules/edgekb/README.md'), 'utf8');
    });

    test('1. build an index: the shell commands, then the script', async () => {
      const [shell] = blocks('1. Build an index', 'sh');
      await runOk('sh', ['-ec', shell], { cwd: dir });
      assert.ok(existsSync(join(dir, 'public/kb/manifest.json')));
      assert.ok(existsSync(join(dir, 'kb.ekb')));
      const [script] = blocks('1. Build an index', 'js');
      await writeFile(join(dir, 'build-example.mjs'), script);
      const r = await runOk(process.execPath, ['build-example.mjs'], { cwd: dir });
      assert.match(r.stdout, /^2 documents, \d+ terms: .*manifest\.json$/m);
    });

    test('3. in Node: search the file built in 1', async () => {
      const [script] = blocks('3. In Node', 'js');
      await writeFile(join(dir, 'node-example.mjs'), script);
      const r = await runOk(process.execPath, ['node-example.mjs'], { cwd: dir });
      assert.match(r.stdout, /^1 \[/);
      assert.match(r.stdout, /id: '0ad'/);
    });

    test('TypeScript: the example type-checks', async () => {
      const [ts] = blocks('TypeScript', 'ts');
      await writeFile(join(dir, 'example.ts'), ts);
      await writeFile(
        join(dir, 'tsconfig.json'),
        JSON.stringify({ compilerOptions: { target: 'es2022', module: 'nodenext', moduleResolution: 'nodenext', strict: true, noEmit: true, lib: ['es2022', 'dom'], types: [] }, files: ['example.ts'] }),
      );
      const r = await run(TSC, ['--noEmit', '-p', '.'], { cwd: dir });
      assert.equal(r.code, 0, r.stdout + r.stderr);
    });
  });

  describe('an esbuild production bundle in headless Chromium', () => {
    let dir;
    let server;
    let browser;
    before(async () => {
      requirePath(CHROMIUM);
      dir = await project('page-app');
      await writeFile(
        join(dir, 'app.mjs'),
        `import { KnowledgeBase } from 'edgekb';
const kb = await KnowledgeBase.open(new URL('./kb/manifest.json', location.href).href);
const q = new URLSearchParams(location.search).get('q');
window.__result = await kb.search(q, { limit: 5 });
document.body.dataset.state = 'done';
`,
      );
      await writeFile(join(dir, 'index.html'), '<!doctype html><meta charset="utf-8"><title>t</title><script type="module" src="dist/app.js"></script>');
      const esbuild = await import('esbuild');
      await esbuild.build({
        absWorkingDir: dir,
        entryPoints: ['app.mjs'],
        bundle: true,
        minify: true,
        format: 'esm',
        platform: 'browser',
        target: 'es2022',
        outfile: 'dist/app.js',
        logLevel: 'error',
      });
      await cp(join(dir, 'node_modules/edgekb/edgekb_bg.wasm'), join(dir, 'dist/edgekb_bg.wasm'));
      await runOk(CLI, ['build', DOCS_JSONL, '--out', join(dir, 'kb'), '--split']);
      server = await startServer({ root: dir });
      browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu'] });
    });
    after(async () => {
      await browser?.close();
      await server?.close();
    });

    test('the bundle has the browser entry only (no node:fs, no builder)', async () => {
      const js = await readFile(join(dir, 'dist/app.js'), 'utf8');
      assert.ok(!js.includes('node:fs'), 'the bundle imports node:fs');
      assert.ok(!js.includes('edgekb_build'), 'the bundle carries the builder');
      assert.ok(js.includes('edgekb_bg.wasm'), 'the bundle resolves the .wasm');
    });

    test('the page searches the split index like Node does', async () => {
      const c = CASES[0];
      const page = await browser.newPage();
      const errors = [];
      page.on('pageerror', (e) => errors.push(e.message));
      try {
        await page.goto(`${server.url}index.html?${new URLSearchParams({ q: c.query })}`);
        await page.locator('body[data-state="done"]').waitFor({ state: 'attached', timeout: 30_000 });
        const result = await page.evaluate(() => window.__result);
        assert.deepEqual(errors, []);
        assertMatchesGolden(result, { ...c.expect, hits: c.expect.hits.slice(0, 5) }, caseName(c, 0));
        assert.ok(server.stats().byPath['/dist/edgekb_bg.wasm']?.requests >= 1, 'the page fetched the .wasm beside the bundle');
      } finally {
        await page.close();
      }
    });
  });

  describe('TypeScript', () => {
    let dir;
    before(async () => {
      dir = await project('ts-app');
      await writeFile(
        join(dir, 'tsconfig.json'),
        JSON.stringify({ compilerOptions: { target: 'es2022', module: 'nodenext', moduleResolution: 'nodenext', strict: true, noEmit: true, lib: ['es2022', 'dom'], types: [] } }),
      );
    });

    test('a file using the API type-checks with tsc --noEmit', async () => {
      await writeFile(
        join(dir, 'good.ts'),
        `import { KnowledgeBase, isEdgekbError, type SearchResults, type Stats, type EdgekbErrorCode } from 'edgekb';
import { build, type BuildResult } from 'edgekb/build';

export async function find(kb: KnowledgeBase, q: string): Promise<SearchResults | null> {
  try {
    const r = await kb.search(q, { limit: 5, prefix: false, typos: true, any: false, signal: AbortSignal.timeout(100) });
    const first: string | undefined = r.hits[0]?.title;
    return first === undefined ? null : r;
  } catch (err) {
    if (isEdgekbError(err)) {
      const code: EdgekbErrorCode = err.code;
      if (code === 'Timeout') return null;
    }
    throw err;
  }
}
export async function main(): Promise<number> {
  const kb = await KnowledgeBase.open('https://example.com/kb/manifest.json', { cacheBytes: 8 << 20, timeoutMs: 2000 });
  const s: Stats = kb.stats();
  const n: number = kb.docCount + s.requests + (await kb.prefetch());
  const changed: boolean = await kb.refresh({ signal: new AbortController().signal });
  const r: BuildResult = await build('docs.jsonl', { out: 'kb', split: true, onProgress: (p) => p.bytesRead });
  return n + r.docs + Number(changed);
}
`,
      );
      const r = await run(TSC, ['--noEmit', '-p', '.'], { cwd: dir });
      assert.equal(r.code, 0, r.stdout + r.stderr);
    });

    test('a misuse of the API does not type-check', async () => {
      await writeFile(
        join(dir, 'good.ts'),
        `import { KnowledgeBase } from 'edgekb';
export async function bad(kb: KnowledgeBase) {
  await kb.search('q', { limit: '5' });
  const id: number = (await kb.search('q')).hits[0].id;
  return id;
}
`,
      );
      const r = await run(TSC, ['--noEmit', '-p', '.'], { cwd: dir });
      assert.notEqual(r.code, 0);
      assert.match(r.stdout, /good\.ts\(3,.*TS2322/);
      assert.match(r.stdout, /good\.ts\(4,.*TS2322/);
    });
  });

  describe('the example Worker (examples/worker) under wrangler dev', () => {
    let dir;
    let persist;
    let manifest;
    const env = { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: '1', NO_COLOR: '1', WRANGLER_LOG: 'warn' };

    before(async () => {
      dir = join(tmp.dir, 'worker');
      await cp(join(ROOT, 'examples/worker'), dir, { recursive: true, filter: (src) => !/node_modules|\.wrangler/.test(src) });
      // The example depends on edgekb from the registry; here, on the tarball.
      const pkg = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8'));
      delete pkg.devDependencies;
      delete pkg.dependencies;
      await writeFile(join(dir, 'package.json'), JSON.stringify(pkg, null, 2));
      await runOk('npm', ['install', '--offline', '--no-audit', '--no-fund', '--loglevel=error', tarball], { cwd: dir });
      // The index: in public/kb (static assets) and in the local R2 bucket, as the README says.
      await runOk(CLI, ['build', DOCS_JSONL, '--out', join(dir, 'public/kb'), '--split']);
      persist = join(tmp.dir, 'wrangler-state');
      manifest = JSON.parse(await readFile(join(dir, 'public/kb/manifest.json'), 'utf8'));
      for (const name of await readdir(join(dir, 'public/kb'))) {
        await runOk(WRANGLER, ['r2', 'object', 'put', `edgekb-index/kb/${name}`, '--file', join(dir, 'public/kb', name), '--local', '--persist-to', persist], { cwd: dir, env });
      }
    });

    async function devServer(vars = []) {
      const port = await freePort();
      const args = ['dev', '--local', '--ip', '127.0.0.1', '--port', String(port), '--persist-to', persist, '--show-interactive-dev-session=false', '--inspector-port', String(await freePort()), ...vars.flatMap((v) => ['--var', v])];
      const proc = spawn(WRANGLER, args, { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'], detached: false });
      let output = '';
      let exited = null;
      proc.stdout.on('data', (d) => (output += d));
      proc.stderr.on('data', (d) => (output += d));
      proc.on('exit', (code, signal) => (exited = { code, signal }));
      const base = `http://127.0.0.1:${port}`;
      await waitFor(
        async () => {
          if (exited) throw Object.assign(new Error(`wrangler dev exited (${JSON.stringify(exited)}):\n${output}`), { fatal: true });
          const r = await fetch(`${base}/health`);
          return r.status === 200 || r.status === 500;
        },
        { timeoutMs: 60_000, intervalMs: 250, what: `wrangler dev on ${base}` },
      ).catch((err) => {
        proc.kill('SIGTERM');
        throw new Error(`${err.message}\n${output.slice(-3000)}`);
      });
      return {
        base,
        logs: () => output,
        async stop() {
          if (exited) return;
          proc.kill('SIGTERM');
          const deadline = Date.now() + 5000;
          while (!exited && Date.now() < deadline) await sleep(50);
          if (!exited) proc.kill('SIGKILL');
        },
      };
    }

    for (const source of ['r2', 'assets']) {
      describe(`INDEX_SOURCE = "${source}"`, () => {
        let dev;
        before(async () => {
          dev = await devServer([`INDEX_SOURCE:${source}`]);
        });
        after(async () => dev?.stop());

        test('GET /health', async () => {
          const r = await fetch(`${dev.base}/health`);
          const body = await r.json();
          assert.equal(r.status, 200, JSON.stringify(body) + dev.logs());
          assert.equal(body.ok, true);
          assert.equal(body.source, source);
          assert.equal(body.docs, manifest.doc_count);
          assert.equal(body.stats.split, true);
        });

        test('concurrent /search requests answer the golden queries, with CORS and cache headers', async () => {
          const answers = await Promise.all(
            CASES.map(async (c) => {
              const r = await fetch(`${dev.base}/search?${new URLSearchParams({ q: c.query, limit: String(c.limit ?? 10) })}`);
              return { r, body: await r.json() };
            }),
          );
          for (const [i, { r, body }] of answers.entries()) {
            assert.equal(r.status, 200, JSON.stringify(body));
            assert.equal(r.headers.get('access-control-allow-origin'), '*');
            assert.match(r.headers.get('cache-control') ?? '', /^public, max-age=\d+$/);
            assert.match(r.headers.get('content-type') ?? '', /^application\/json/);
            assertMatchesGolden(body, CASES[i].expect, caseName(CASES[i], i));
          }
        });

        test('a request the client aborts does not hurt the next ones', async () => {
          const controller = new AbortController();
          const pending = fetch(`${dev.base}/search?q=strategy+game`, { signal: controller.signal });
          controller.abort();
          await assert.rejects(pending, (e) => e.name === 'AbortError');
          const r = await fetch(`${dev.base}/search?q=tmux`);
          const body = await r.json();
          assert.equal(r.status, 200, JSON.stringify(body));
          assert.ok(body.hits.some((h) => h.id === 'tmux'));
        });

        test('one engine per isolate: /health counts the requests of every search so far', async () => {
          const { stats } = await (await fetch(`${dev.base}/health`)).json();
          // manifest.json, the dictionary, then postings ranges for the searches above.
          assert.ok(stats.requests >= 3, `requests: ${stats.requests}`);
          assert.ok(stats.bytesFetched > manifest.dictionary.size, `bytes fetched: ${stats.bytesFetched}`);
          assert.equal(stats.budget, 16 << 20, 'CACHE_BYTES from wrangler.toml');
        });

        test('bad requests get 400/404/405 JSON errors; OPTIONS is a CORS preflight', async () => {
          for (const [path, status] of [['/search', 400], ['/search?q=a&limit=0', 400], ['/search?q=a&limit=x', 400], ['/nope', 404]]) {
            const r = await fetch(dev.base + path);
            assert.equal(r.status, status, path);
            assert.equal(typeof (await r.json()).error.code, 'string');
          }
          const post = await fetch(`${dev.base}/search?q=a`, { method: 'POST' });
          assert.equal(post.status, 405);
          const pre = await fetch(`${dev.base}/search?q=a`, { method: 'OPTIONS' });
          assert.equal(pre.status, 204);
          assert.match(pre.headers.get('access-control-allow-methods') ?? '', /GET/);
        });
      });
    }

    test('wrangler deploy --dry-run bundles the Worker with the workerd entry and the .wasm module', async () => {
      const out = join(tmp.dir, 'worker-dist');
      const r = await run(WRANGLER, ['deploy', '--dry-run', '--outdir', out], { cwd: dir, env });
      assert.equal(r.code, 0, r.stdout + r.stderr);
      const files = await readdir(out);
      assert.ok(files.some((f) => f.endsWith('.wasm')), `no .wasm module in ${files}`);
      const js = await readFile(join(out, 'worker.js'), 'utf8');
      assert.ok(js.includes('initSync'), 'the bundle has the engine');
      assert.ok(!js.includes('readFileSync'), 'the bundle took the node entry');
    });
  });
});
