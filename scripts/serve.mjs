#!/usr/bin/env node
// A small static file server for the demo and the tests. No dependencies.
//
//   node scripts/serve.mjs <dir> [port]      (port 0 or omitted in tests = a random free port)
//
// prints exactly one line to stdout once listening: `serving http://127.0.0.1:PORT/`
// (the access log goes to stderr). Tests import `startServer` instead.
//
// Request pipeline (one place each, so later features slot in):
//   1. count the request             -> stats
//   2. resolve the path under root   -> 400/403/404 (no escaping root, no `..`)
//   3. ask the fault hook            -> `fault(ctx)` may add a delay or hold the answer, reset the
//                                       connection, replace the response with an error status,
//                                       ignore Range, cut the body short or flip bytes in it
//   4. pick the byte range           -> 200, 206 + Content-Range, or 416
//   5. stream the file, counting bytes sent
//
// Every request is also logged in stats().log ({method, pathname, range, status, bytes,
// clientAborted}); a response whose connection the *client* closed before it was finished counts
// in stats().clientAborts (connections the server cuts on purpose, for a fault, do not).
// Stats are bounded: the log keeps at most the last `maxLog` entries (stats().logDropped counts the
// others) and byPath at most `maxLog` paths (later new paths count under OTHER_PATHS), so a
// long-running demo server does not grow with every request.
//
// A directory asked for without its trailing slash is redirected to the same path with one
// slash between segments (`//kb` -> `/kb/`): a Location built from the raw path would be
// `//kb/`, which a browser reads as the host `kb`.
import { createServer } from 'node:http';
import { createReadStream } from 'node:fs';
import { stat, realpath } from 'node:fs/promises';
import { extname, join, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';

export const CONTENT_TYPES = {
  '.wasm': 'application/wasm',
  '.mjs': 'text/javascript; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.ts': 'text/plain; charset=utf-8',
  '.jsonl': 'application/x-ndjson',
  '.ekb': 'application/octet-stream',
  '.bin': 'application/octet-stream',
};

export function contentTypeFor(path) {
  return CONTENT_TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream';
}

/** Default bound of stats().log entries and stats().byPath keys. */
export const DEFAULT_MAX_LOG = 10_000;
/** The byPath key that counts requests to paths beyond the bound. */
export const OTHER_PATHS = '(other paths)';

/**
 * The Location of the redirect from a directory path without its trailing slash: an absolute
 * path on this host, empty and `.` segments dropped, so that it can never be read as `//host/...`.
 */
export function directoryLocation(pathname) {
  return `/${pathname.split('/').filter((seg) => seg !== '' && seg !== '.').join('/')}/`;
}

/**
 * Parses a Range header against a resource of `size` bytes.
 * Returns null when there is no usable single range (absent, malformed, several ranges, other
 * unit: the whole resource is served, as RFC 9110 allows), {unsatisfiable: true} for a well-formed
 * range that selects nothing, else {start, end} (inclusive).
 */
export function parseRange(header, size) {
  if (typeof header !== 'string') return null;
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!m) return null; // includes multi-range "bytes=0-1,4-5": ignored, full body
  const [, a, b] = m;
  if (a === '' && b === '') return null;
  if (a === '') {
    // suffix range: the last N bytes
    const n = Number(b);
    if (n === 0 || size === 0) return { unsatisfiable: true };
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(a);
  const end = b === '' ? size - 1 : Number(b);
  if (b !== '' && end < start) return null; // syntactically invalid: ignore
  if (start >= size) return { unsatisfiable: true };
  return { start, end: Math.min(end, size - 1) };
}

class HttpError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Waits for `promise` unless the response closes first (a client that went away must not keep a
// delayed handler alive). Resolves to true when the response closed.
function unlessClosed(res, promise) {
  if (res.destroyed || res.closed) return Promise.resolve(true);
  return new Promise((ok) => {
    const onClose = () => ok(true);
    res.once('close', onClose);
    Promise.resolve(promise).then(
      () => {
        res.off('close', onClose);
        ok(res.destroyed || res.closed);
      },
      () => {
        res.off('close', onClose);
        ok(res.destroyed || res.closed);
      },
    );
  });
}

function delay(res, ms) {
  let timer;
  const slept = new Promise((r) => {
    timer = setTimeout(r, ms);
  });
  return unlessClosed(res, slept).finally(() => clearTimeout(timer));
}

/**
 * Starts a server for `root` on 127.0.0.1.
 *
 * options:
 *   root   directory to serve (required)
 *   port   0 (default) picks a free port
 *   fault  optional hook, see setFault()
 *   log    optional function(line) for an access log
 *   mounts optional {'/prefix/': dir}: URL paths under a prefix are served from that directory
 *   maxLog bound of stats().log entries and stats().byPath keys (default DEFAULT_MAX_LOG)
 *
 * Returns {url, port, root, stats(), resetStats(), setFault(fn), close()}. stats() is a copy of
 * {requests, bytes, byPath: {pathname: {requests, bytes}}, clientAborts, log: [{method, pathname,
 * range, status, bytes, clientAborted}], logDropped} (status 0: no answer was sent).
 *
 * The fault hook: `fault(ctx)` is called for every GET/HEAD that resolved to a file, with
 * ctx = {method, pathname, headers, size, requestNumber} (requestNumber counts requests to this
 * pathname, from 1). It returns undefined for normal service, or an object with any of:
 *   delayMs        wait this long before answering (cut short when the client goes away)
 *   hold           a promise: answer only once it settles (or the client goes away)
 *   reset          destroy the connection without answering (after any delay/hold)
 *   status         answer with this status (and `body`, default a short text) instead of the file
 *   ignoreRange    answer 200 with the whole file whatever the Range header (a host without
 *                  Range support)
 *   truncateAfter  send the normal headers (full Content-Length) but only this many body bytes,
 *                  then destroy the connection
 *   shortBody      send only this many body bytes, with a Content-Length (and Content-Range) that
 *                  says so: a well-formed but short answer
 *   corrupt        flip one byte of the body (true: the middle one; a number: that body offset)
 * It may be async.
 */
export async function startServer({ root, port = 0, fault = null, log = null, mounts = {}, maxLog = DEFAULT_MAX_LOG } = {}) {
  if (!root) throw new TypeError('startServer: root is required');
  if (!Number.isInteger(maxLog) || maxLog < 1) throw new TypeError('startServer: maxLog must be a positive integer');
  const realDir = async (dir) => {
    const real = await realpath(resolve(dir));
    if (!(await stat(real)).isDirectory()) throw new Error(`startServer: ${dir} is not a directory`);
    return real;
  };
  const rootReal = await realDir(root);
  // URL prefix ('/split/') -> real directory, longest prefix first.
  const mountList = [];
  for (const [prefix, dir] of Object.entries(mounts)) {
    if (!/^\/([^/]+\/)+$/.test(prefix) || prefix.split('/').some((seg) => seg === '..' || seg === '.')) {
      throw new TypeError(`startServer: mount prefix ${JSON.stringify(prefix)} must look like /name/`);
    }
    mountList.push({ prefix, dir: await realDir(dir) });
  }
  mountList.sort((a, b) => b.prefix.length - a.prefix.length);

  let faultHook = fault;
  let stats;
  const resetStats = () => {
    stats = { requests: 0, bytes: 0, byPath: Object.create(null), clientAborts: 0, log: [], logDropped: 0 };
    pathCount = 0;
  };
  let pathCount;
  resetStats();

  function pathStats(pathname) {
    const known = Object.hasOwn(stats.byPath, pathname) ? stats.byPath[pathname] : null;
    if (known) return known;
    if (pathCount >= maxLog) return (stats.byPath[OTHER_PATHS] ??= { requests: 0, bytes: 0 });
    pathCount += 1;
    return (stats.byPath[pathname] = { requests: 0, bytes: 0 });
  }

  function addBytes(pathname, n) {
    stats.bytes += n;
    pathStats(pathname).bytes += n;
  }

  // Maps a URL pathname to a real file inside root (or a mount), or throws HttpError.
  async function resolveFile(pathname) {
    let decoded;
    try {
      decoded = decodeURIComponent(pathname);
    } catch {
      throw new HttpError(400, 'bad path encoding');
    }
    if (decoded.includes('\0') || decoded.includes('\\')) throw new HttpError(400, 'bad path');
    if (decoded.split('/').some((seg) => seg === '..')) throw new HttpError(403, 'path escapes root');
    let base = rootReal;
    const mount = mountList.find((m) => decoded.startsWith(m.prefix));
    if (mount) {
      base = mount.dir;
      decoded = '/' + decoded.slice(mount.prefix.length);
    }
    let candidate = join(base, decoded);
    let st;
    try {
      st = await stat(candidate);
    } catch {
      throw new HttpError(404, 'not found');
    }
    if (st.isDirectory()) {
      if (!decoded.endsWith('/')) return { redirect: directoryLocation(pathname) };
      candidate = join(candidate, 'index.html');
      try {
        st = await stat(candidate);
      } catch {
        throw new HttpError(404, 'not found');
      }
    }
    if (!st.isFile()) throw new HttpError(404, 'not found');
    // Symlinks must not lead outside root either.
    const real = await realpath(candidate);
    if (real !== base && !real.startsWith(base + sep)) throw new HttpError(403, 'path escapes root');
    return { file: real, size: st.size, mtime: st.mtime };
  }

  function sendText(res, status, text, extraHeaders = {}, pathname, head = false) {
    const body = Buffer.from(text + '\n');
    res.writeHead(status, {
      'Content-Type': 'text/plain; charset=utf-8',
      'Content-Length': body.length,
      'Cache-Control': 'no-store',
      ...extraHeaders,
    });
    if (head) return res.end();
    res.end(body);
    addBytes(pathname, body.length);
  }

  // Ends a response early: what was written still reaches the client, then the connection closes
  // (the client sees fewer bytes than Content-Length promised).
  function cutShort(res) {
    res.cutByServer = true;
    if (res.socket) res.socket.end();
    else res.destroy();
  }

  // `flip`: body offset of a byte to invert, or null.
  function streamFile(res, pathname, file, start, end, truncateAfter, flip = null) {
    return new Promise((resolveDone) => {
      const total = end - start + 1;
      const limit = truncateAfter == null ? total : Math.max(0, Math.min(truncateAfter, total));
      if (limit === 0 && total > 0) {
        res.flushHeaders();
        cutShort(res);
        return resolveDone();
      }
      if (total === 0) {
        res.end();
        return resolveDone();
      }
      const stream = createReadStream(file, { start, end: start + limit - 1 });
      let offset = 0;
      stream.on('data', (chunk) => {
        if (flip !== null && flip >= offset && flip < offset + chunk.length) {
          chunk = Buffer.from(chunk);
          chunk[flip - offset] ^= 0xff;
        }
        offset += chunk.length;
        addBytes(pathname, chunk.length);
        if (!res.write(chunk)) {
          stream.pause();
          res.once('drain', () => stream.resume());
        }
      });
      stream.on('end', () => {
        if (limit < total) cutShort(res);
        else res.end();
        resolveDone();
      });
      stream.on('error', () => {
        res.cutByServer = true;
        res.destroy();
        resolveDone();
      });
      res.on('close', () => {
        stream.destroy();
        resolveDone();
      });
    });
  }

  async function handle(req, res) {
    stats.requests += 1;
    // The raw path, not a URL-normalised one: a request for `/../x` must be refused, not quietly
    // turned into `/x`.
    let pathname = req.url.split(/[?#]/, 1)[0];
    if (!pathname.startsWith('/')) pathname = '/' + pathname;
    const perPath = pathStats(pathname);
    perPath.requests += 1;
    const entry = { method: req.method, pathname, range: req.headers.range ?? null, status: 0, bytes: 0, clientAborted: false };
    stats.log.push(entry);
    if (stats.log.length > maxLog) {
      // Drop the oldest half at once: amortised O(1) per request.
      const drop = stats.log.length - (maxLog >> 1 || 1);
      stats.log.splice(0, drop);
      stats.logDropped += drop;
    }
    const statsAtStart = stats;
    const bytesAtStart = perPath.bytes;
    res.on('close', () => {
      entry.bytes = perPath.bytes - bytesAtStart;
      if (!res.writableFinished && !res.cutByServer) {
        entry.clientAborted = true;
        if (stats === statsAtStart) stats.clientAborts += 1;
      }
    });
    const head = req.method === 'HEAD';
    const common = { 'Access-Control-Allow-Origin': '*', 'Cache-Control': 'no-store' };
    try {
      if (req.method === 'OPTIONS') {
        entry.status = 204;
        res.writeHead(204, {
          ...common,
          'Access-Control-Allow-Methods': 'GET, HEAD, OPTIONS',
          'Access-Control-Allow-Headers': 'Range',
        });
        return res.end();
      }
      if (req.method !== 'GET' && !head) {
        entry.status = 405;
        return sendText(res, 405, 'method not allowed', { Allow: 'GET, HEAD, OPTIONS' }, pathname);
      }
      const found = await resolveFile(pathname);
      if (found.redirect) {
        entry.status = 301;
        res.writeHead(301, { ...common, Location: found.redirect, 'Content-Length': 0 });
        return res.end();
      }
      const { file, size, mtime } = found;

      const action = faultHook
        ? (await faultHook({
            method: req.method,
            pathname,
            headers: req.headers,
            size,
            requestNumber: perPath.requests,
          })) ?? {}
        : {};
      if (action.delayMs > 0 && (await delay(res, action.delayMs))) return;
      if (action.hold && (await unlessClosed(res, action.hold))) return;
      if (action.reset) {
        res.cutByServer = true;
        req.socket.destroy();
        return;
      }
      if (action.status) {
        entry.status = action.status;
        return sendText(res, action.status, action.body ?? `injected status ${action.status}`, common, pathname, head);
      }

      const range = action.ignoreRange ? null : parseRange(req.headers.range, size);
      const headers = {
        ...common,
        'Content-Type': contentTypeFor(file),
        'Accept-Ranges': 'bytes',
        'Last-Modified': mtime.toUTCString(),
        'Access-Control-Expose-Headers': 'Content-Range, Content-Length, Accept-Ranges',
      };
      if (range?.unsatisfiable) {
        entry.status = 416;
        return sendText(res, 416, 'range not satisfiable', { ...headers, 'Content-Type': 'text/plain; charset=utf-8', 'Content-Range': `bytes */${size}` }, pathname, head);
      }
      let start = 0;
      let end = size - 1;
      let status = 200;
      if (range) {
        ({ start, end } = range);
        status = 206;
      }
      if (action.shortBody != null && end - start + 1 > action.shortBody) {
        end = start + Math.max(0, action.shortBody) - 1;
      }
      if (status === 206) headers['Content-Range'] = `bytes ${start}-${end}/${size}`;
      headers['Content-Length'] = end - start + 1;
      entry.status = status;
      res.writeHead(status, headers);
      if (head) return res.end();
      let flip = null;
      if (action.corrupt === true) flip = (end - start + 1) >> 1;
      else if (typeof action.corrupt === 'number') flip = action.corrupt;
      await streamFile(res, pathname, file, start, end, action.truncateAfter, flip);
    } catch (err) {
      if (res.headersSent) {
        res.cutByServer = true;
        res.destroy();
        return;
      }
      const status = err instanceof HttpError ? err.status : 500;
      entry.status = status;
      sendText(res, status, err instanceof HttpError ? err.message : 'internal error', common, pathname, head);
    } finally {
      if (log) log(`${req.method} ${req.url} ${res.statusCode}`);
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  // Tests start and stop servers often: do not let idle keep-alive sockets hold close() open.
  const sockets = new Set();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  await new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', fail);
      ok();
    });
  });
  const actualPort = server.address().port;
  return {
    url: `http://127.0.0.1:${actualPort}/`,
    port: actualPort,
    root: rootReal,
    stats: () => structuredClone(stats),
    resetStats,
    setFault(fn) {
      faultHook = fn ?? null;
    },
    close() {
      return new Promise((ok) => {
        server.close(() => ok());
        for (const s of sockets) s.destroy();
      });
    },
  };
}

async function main(argv) {
  const [dir, portArg] = argv;
  if (!dir || argv.length > 2) {
    process.stderr.write('usage: node scripts/serve.mjs <dir> [port]\n');
    process.exit(2);
  }
  const port = portArg === undefined ? 0 : Number(portArg);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`serve.mjs: bad port ${portArg}\n`);
    process.exit(2);
  }
  let server;
  try {
    server = await startServer({ root: dir, port, log: (line) => process.stderr.write(line + '\n') });
  } catch (err) {
    process.stderr.write(`serve.mjs: ${err.message}\n`);
    process.exit(1);
  }
  process.stdout.write(`serving ${server.url}\n`);
  const stop = () => server.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  await main(process.argv.slice(2));
}
