// scripts/serve.mjs: the static server the demo and the other tests rely on.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { OTHER_PATHS, directoryLocation, parseRange, startServer } from '../../scripts/serve.mjs';
import { ROOT, gate, sleep, tempDir, waitFor } from './support.mjs';

// Raw HTTP GET (fetch normalises away `..` segments, which is exactly what must be tested).
function rawGet(port, path, headers = {}) {
  return new Promise((ok, fail) => {
    const req = request({ host: '127.0.0.1', port, path, headers, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => ok({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks), complete: res.complete }));
      res.on('error', (err) => ok({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks), complete: false, err }));
      res.on('aborted', () => {});
    });
    req.on('error', fail);
    req.end();
  });
}

describe('scripts/serve.mjs', () => {
  let tmp;
  let server;
  const data = Buffer.from('0123456789abcdefghij'); // 20 bytes

  before(async () => {
    tmp = await tempDir('serve');
    const root = join(tmp.dir, 'root');
    await mkdir(join(root, 'sub'), { recursive: true });
    await writeFile(join(root, 'data.bin'), data);
    await writeFile(join(root, 'index.ekb'), data);
    await writeFile(join(root, 'm.wasm'), Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]));
    await writeFile(join(root, 'a.mjs'), 'export {};\n');
    await writeFile(join(root, 'b.js'), 'export {};\n');
    await writeFile(join(root, 'c.json'), '{}\n');
    await writeFile(join(root, 'empty.bin'), '');
    await writeFile(join(root, 'sub', 'index.html'), '<!doctype html><title>sub</title>\n');
    await writeFile(join(tmp.dir, 'secret.txt'), 'outside the root\n');
    await symlink(join(tmp.dir, 'secret.txt'), join(root, 'link.txt'));
    await mkdir(join(tmp.dir, 'other'), { recursive: true });
    await writeFile(join(tmp.dir, 'other', 'm.bin'), 'mounted\n');
    server = await startServer({ root, mounts: { '/mnt/': join(tmp.dir, 'other') } });
  });

  after(async () => {
    await server?.close();
    await tmp?.cleanup();
  });

  test('binds 127.0.0.1 on a random port', () => {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    assert.ok(server.port > 0);
  });

  test('content types', async () => {
    const want = {
      '/m.wasm': 'application/wasm',
      '/a.mjs': 'text/javascript',
      '/b.js': 'text/javascript',
      '/c.json': 'application/json',
      '/sub/': 'text/html',
      '/index.ekb': 'application/octet-stream',
      '/data.bin': 'application/octet-stream',
    };
    for (const [path, type] of Object.entries(want)) {
      const r = await rawGet(server.port, path);
      assert.equal(r.status, 200, path);
      assert.equal(r.headers['content-type'].split(';')[0], type, path);
    }
  });

  test('whole file, with Accept-Ranges and Content-Length', async () => {
    const r = await rawGet(server.port, '/data.bin');
    assert.equal(r.status, 200);
    assert.equal(r.headers['accept-ranges'], 'bytes');
    assert.equal(r.headers['content-length'], '20');
    assert.deepEqual(r.body, data);
  });

  test('a directory without a trailing slash redirects', async () => {
    const r = await rawGet(server.port, '/sub');
    assert.equal(r.status, 301);
    assert.equal(r.headers.location, '/sub/');
  });

  test('a redirect Location never names another host, whatever the raw path', async () => {
    // `//sub` resolves to the directory `sub`; a Location of `//sub/` would send the browser to
    // the host `sub`.
    for (const path of ['//sub', '///sub', '/./sub', '//sub?x=1']) {
      const r = await rawGet(server.port, path);
      if (r.status !== 301) continue; // refused or not found: no Location at all
      assert.equal(r.headers.location, '/sub/', path);
      assert.equal(new URL(r.headers.location, server.url).host, new URL(server.url).host, path);
    }
    assert.equal((await rawGet(server.port, '//sub')).status, 301);
    assert.equal(directoryLocation('//evil.example'), '/evil.example/');
    assert.equal(directoryLocation('/a//b'), '/a/b/');
  });

  test('missing files are 404, other methods 405', async () => {
    assert.equal((await rawGet(server.port, '/nope.bin')).status, 404);
    const r = await fetch(server.url + 'data.bin', { method: 'POST', body: 'x' });
    assert.equal(r.status, 405);
  });

  test('no escaping the root', async () => {
    for (const path of ['/../secret.txt', '/sub/../../secret.txt', '/%2e%2e/secret.txt', '/sub/%2E%2E/%2e%2e/secret.txt', '/..%2fsecret.txt']) {
      const r = await rawGet(server.port, path);
      assert.ok(r.status === 403 || r.status === 400, `${path}: ${r.status}`);
      assert.ok(!r.body.toString().includes('outside the root'), path);
    }
    const viaLink = await rawGet(server.port, '/link.txt');
    assert.equal(viaLink.status, 403, 'a symlink pointing outside the root');
  });

  test('single byte ranges', async () => {
    const cases = [
      ['bytes=0-3', 0, 3],
      ['bytes=5-', 5, 19],
      ['bytes=-4', 16, 19],
      ['bytes=18-100', 18, 19],
      ['bytes=19-19', 19, 19],
    ];
    for (const [range, start, end] of cases) {
      const r = await rawGet(server.port, '/data.bin', { Range: range });
      assert.equal(r.status, 206, range);
      assert.equal(r.headers['content-range'], `bytes ${start}-${end}/20`, range);
      assert.equal(r.headers['content-length'], String(end - start + 1), range);
      assert.deepEqual(r.body, data.subarray(start, end + 1), range);
    }
  });

  test('unsatisfiable ranges are 416 with Content-Range */size', async () => {
    for (const range of ['bytes=20-', 'bytes=100-200', 'bytes=-0']) {
      const r = await rawGet(server.port, '/data.bin', { Range: range });
      assert.equal(r.status, 416, range);
      assert.equal(r.headers['content-range'], 'bytes */20', range);
    }
    assert.equal((await rawGet(server.port, '/empty.bin', { Range: 'bytes=0-0' })).status, 416);
  });

  test('malformed or multiple ranges get the whole file', async () => {
    for (const range of ['bytes=5-2', 'bytes=0-1,4-5', 'items=0-3', 'bytes=x-y']) {
      const r = await rawGet(server.port, '/data.bin', { Range: range });
      assert.equal(r.status, 200, range);
      assert.deepEqual(r.body, data, range);
    }
  });

  test('parseRange', () => {
    assert.equal(parseRange(undefined, 10), null);
    assert.deepEqual(parseRange('bytes=2-4', 10), { start: 2, end: 4 });
    assert.deepEqual(parseRange('bytes=-20', 10), { start: 0, end: 9 });
    assert.deepEqual(parseRange('bytes=10-', 10), { unsatisfiable: true });
  });

  test('stats count requests and body bytes, per path', async () => {
    server.resetStats();
    await rawGet(server.port, '/data.bin');
    await rawGet(server.port, '/data.bin', { Range: 'bytes=0-4' });
    await rawGet(server.port, '/nope.bin');
    const s = server.stats();
    assert.equal(s.requests, 3);
    assert.deepEqual(s.byPath['/data.bin'], { requests: 2, bytes: 25 });
    assert.equal(s.byPath['/nope.bin'].requests, 1);
    assert.equal(s.bytes, 25 + s.byPath['/nope.bin'].bytes);
  });

  test('fault hook: status, delay and truncation', async () => {
    try {
      server.setFault(({ pathname, requestNumber }) =>
        pathname === '/data.bin' && requestNumber === 1 ? { status: 503 } : undefined,
      );
      server.resetStats();
      assert.equal((await rawGet(server.port, '/data.bin')).status, 503);
      assert.equal((await rawGet(server.port, '/data.bin')).status, 200, 'only the first request fails');

      server.setFault(() => ({ delayMs: 150 }));
      const t0 = Date.now();
      assert.equal((await rawGet(server.port, '/data.bin')).status, 200);
      assert.ok(Date.now() - t0 >= 140, 'delayed');

      server.setFault(() => ({ truncateAfter: 7 }));
      const r = await rawGet(server.port, '/data.bin');
      assert.equal(r.headers['content-length'], '20');
      assert.deepEqual(r.body, data.subarray(0, 7));
      assert.equal(r.complete, false, 'the client sees a short body');
    } finally {
      server.setFault(null);
    }
  });

  test('fault hook: reset destroys the connection without an answer', async () => {
    try {
      server.resetStats();
      server.setFault(() => ({ reset: true }));
      await assert.rejects(rawGet(server.port, '/data.bin'));
      const s = server.stats();
      assert.equal(s.log.length, 1);
      assert.equal(s.log[0].status, 0, 'nothing answered');
      assert.equal(s.clientAborts, 0, 'a reset by the server is not a client abort');
    } finally {
      server.setFault(null);
    }
  });

  test('fault hook: ignoreRange answers 200 with the whole file', async () => {
    try {
      server.setFault(() => ({ ignoreRange: true }));
      const r = await rawGet(server.port, '/data.bin', { Range: 'bytes=2-5' });
      assert.equal(r.status, 200);
      assert.equal(r.headers['content-range'], undefined);
      assert.deepEqual(r.body, data);
    } finally {
      server.setFault(null);
    }
  });

  test('fault hook: shortBody is a well-formed short answer', async () => {
    try {
      server.setFault(() => ({ shortBody: 3 }));
      const r = await rawGet(server.port, '/data.bin', { Range: 'bytes=2-9' });
      assert.equal(r.status, 206);
      assert.equal(r.headers['content-length'], '3');
      assert.equal(r.headers['content-range'], 'bytes 2-4/20');
      assert.deepEqual(r.body, data.subarray(2, 5));
      assert.equal(r.complete, true);
      const whole = await rawGet(server.port, '/data.bin');
      assert.equal(whole.status, 200);
      assert.deepEqual(whole.body, data.subarray(0, 3));
    } finally {
      server.setFault(null);
    }
  });

  test('fault hook: corrupt flips one byte (the middle one, or at an offset)', async () => {
    try {
      server.setFault(() => ({ corrupt: true }));
      const mid = await rawGet(server.port, '/data.bin');
      const want = Buffer.from(data);
      want[10] ^= 0xff;
      assert.deepEqual(mid.body, want);
      server.setFault(() => ({ corrupt: 1 }));
      const ranged = await rawGet(server.port, '/data.bin', { Range: 'bytes=4-7' });
      const want2 = Buffer.from(data.subarray(4, 8));
      want2[1] ^= 0xff;
      assert.deepEqual(ranged.body, want2);
    } finally {
      server.setFault(null);
    }
  });

  test('fault hook: hold answers once the promise settles', async () => {
    const g = gate();
    try {
      server.setFault(() => ({ hold: g.promise }));
      let done = false;
      const pending = rawGet(server.port, '/data.bin').then((r) => {
        done = true;
        return r;
      });
      await sleep(100);
      assert.equal(done, false, 'held');
      g.open();
      const r = await pending;
      assert.equal(r.status, 200);
      assert.deepEqual(r.body, data);
    } finally {
      g.open();
      server.setFault(null);
    }
  });

  test('stats: a client closing a delayed request counts as a client abort, and ends the delay', async () => {
    try {
      server.resetStats();
      server.setFault(() => ({ delayMs: 5000 }));
      const ac = new AbortController();
      const pending = fetch(server.url + 'data.bin', { signal: ac.signal });
      await waitFor(() => server.stats().log.length === 1, { timeoutMs: 2000, intervalMs: 5, what: 'the request' });
      ac.abort();
      await assert.rejects(pending);
      await waitFor(() => server.stats().clientAborts === 1, { timeoutMs: 2000, intervalMs: 10, what: 'a client abort' });
      const [entry] = server.stats().log;
      assert.equal(entry.clientAborted, true);
      assert.equal(entry.status, 0);
      // a completed request is not a client abort
      server.setFault(null);
      await rawGet(server.port, '/data.bin');
      await sleep(20);
      assert.equal(server.stats().clientAborts, 1);
      assert.equal(server.stats().log[1].clientAborted, false);
      assert.equal(server.stats().log[1].status, 200);
      assert.equal(server.stats().log[1].bytes, 20);
    } finally {
      server.setFault(null);
    }
  });

  test('stats stay bounded however many requests and paths', async () => {
    const small = await startServer({ root: server.root, maxLog: 50 });
    try {
      for (let i = 0; i < 400; i++) await rawGet(small.port, `/nope-${i}.bin`);
      await rawGet(small.port, '/__proto__');
      const st = small.stats();
      assert.equal(st.requests, 401);
      assert.ok(st.log.length <= 50 && st.log.length > 0, `log holds ${st.log.length}`);
      assert.equal(st.log.length + st.logDropped, 401);
      assert.equal(st.log.at(-1).pathname, '/__proto__', 'the newest entries are kept');
      const paths = Object.keys(st.byPath);
      assert.ok(paths.length <= 51, `byPath holds ${paths.length} paths`);
      assert.equal(st.byPath[OTHER_PATHS].requests, 401 - 50);
      assert.equal(Object.values(st.byPath).reduce((n, p) => n + p.requests, 0), 401);
    } finally {
      await small.close();
    }
  });

  test('stats: the log records method, path, Range header and status', async () => {
    server.resetStats();
    await rawGet(server.port, '/data.bin', { Range: 'bytes=0-3' });
    await rawGet(server.port, '/nope.bin');
    assert.deepEqual(
      server.stats().log.map((l) => [l.method, l.pathname, l.range, l.status]),
      [
        ['GET', '/data.bin', 'bytes=0-3', 206],
        ['GET', '/nope.bin', null, 404],
      ],
    );
  });

  test('mounts serve another directory under a URL prefix, without escaping it', async () => {
    const r = await rawGet(server.port, '/mnt/m.bin');
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), 'mounted\n');
    assert.equal((await rawGet(server.port, '/mnt/data.bin')).status, 404, 'the root is not visible under the mount');
    for (const path of ['/mnt/../data.bin', '/mnt/%2e%2e/secret.txt']) {
      const e = await rawGet(server.port, path);
      assert.ok(e.status === 403 || e.status === 400, `${path}: ${e.status}`);
    }
    await assert.rejects(startServer({ root: tmp.dir, mounts: { 'nope': tmp.dir } }), /mount prefix/);
  });

  test('the command line prints one "serving" line and serves', async () => {
    const proc = spawn(process.execPath, [join(ROOT, 'scripts/serve.mjs'), join(tmp.dir, 'root'), '0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const line = await new Promise((ok, fail) => {
        let out = '';
        proc.stdout.on('data', (d) => {
          out += d;
          if (out.includes('\n')) ok(out);
        });
        proc.on('exit', (code) => fail(new Error(`serve.mjs exited ${code}`)));
        setTimeout(() => fail(new Error('no output in 10 s')), 10_000).unref();
      });
      const m = /^serving (http:\/\/127\.0\.0\.1:(\d+)\/)\n$/.exec(line);
      assert.ok(m, `stdout: ${JSON.stringify(line)}`);
      const r = await rawGet(Number(m[2]), '/data.bin');
      assert.deepEqual(r.body, data);
    } finally {
      proc.kill('SIGTERM');
    }
  });
});
