// scripts/serve.mjs: the static server the demo and the other tests rely on.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseRange, startServer } from '../../scripts/serve.mjs';
import { ROOT, tempDir } from './support.mjs';

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
    server = await startServer({ root });
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
