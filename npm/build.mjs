// `import { build } from 'edgekb/build'`: builds an index from JSON Lines in Node, no Rust needed.
// The builder is the native CLI's, compiled to a WebAssembly module of its own (builder/), loaded
// on the first build; the files it writes are byte for byte those of `edgekb build`.
//
//   import { build } from 'edgekb/build';
//   const r = await build('docs.jsonl', { out: 'public/kb', split: true });
//   console.log(`${r.docs} documents in ${r.out}`);
import { closeSync, openSync, readSync, fstatSync } from 'node:fs';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { constants } from 'node:os';

let builderModule = null;

async function loadBuilder() {
  if (!builderModule) {
    const mod = await import('./builder/edgekb_build.js');
    mod.initSync({ module: await readFile(new URL('./builder/edgekb_build_bg.wasm', import.meta.url)) });
    builderModule = mod;
  }
  return builderModule;
}

/** An `Error` like the engine's: `name` "EdgekbError" and a `code`. */
function edgekbError(code, message) {
  const e = new Error(message);
  e.name = 'EdgekbError';
  e.code = code;
  return e;
}

// The messages Rust's std::io::Error prints for the errors a build can meet (glibc's strerror),
// so that `npx edgekb build` says what the native `edgekb build` says.
const STRERROR = {
  EPERM: 'Operation not permitted',
  ENOENT: 'No such file or directory',
  EIO: 'Input/output error',
  EACCES: 'Permission denied',
  EEXIST: 'File exists',
  ENOTDIR: 'Not a directory',
  EISDIR: 'Is a directory',
  EMFILE: 'Too many open files',
  EFBIG: 'File too large',
  ENOSPC: 'No space left on device',
  EROFS: 'Read-only file system',
  ENAMETOOLONG: 'File name too long',
  ELOOP: 'Too many levels of symbolic links',
  EDQUOT: 'Disk quota exceeded',
};

function osMessage(err) {
  const errno = constants.errno[err?.code];
  if (errno !== undefined && STRERROR[err.code]) return `${STRERROR[err.code]} (os error ${errno})`;
  return err?.message ?? String(err);
}

/** An I/O error as the native CLI reports it: `I/O error: <path>: <what>`. */
function ioError(path, err) {
  const e = edgekbError('Io', `I/O error: ${path}: ${osMessage(err)}`);
  e.cause = err;
  return e;
}

/** `dir.join(name)` as Rust's Path displays it (no normalisation). */
function joinPath(dir, name) {
  return dir.endsWith('/') ? dir + name : `${dir}/${name}`;
}

const CHUNK = 1 << 20;

function openInput(path) {
  try {
    return openSync(path, 'r');
  } catch (err) {
    throw ioError(path, err);
  }
}

function* readChunks(fd) {
  try {
    const buf = Buffer.allocUnsafe(CHUNK);
    for (;;) {
      let n;
      try {
        n = readSync(fd, buf, 0, CHUNK, null);
      } catch (err) {
        // The native CLI reports a failed read (a directory, say) without the file name.
        throw edgekbError('Io', osMessage(err));
      }
      if (n === 0) return;
      yield buf.subarray(0, n);
    }
  } finally {
    closeSync(fd);
  }
}

function fileSize(path) {
  try {
    const fd = openSync(path, 'r');
    try {
      return fstatSync(fd).size;
    } finally {
      closeSync(fd);
    }
  } catch {
    return null;
  }
}

function byteCount(name, value) {
  if (value === undefined || value === null) return undefined;
  if (!Number.isSafeInteger(value) || value < 0) {
    throw edgekbError('InvalidArgument', `${name} must be a whole number of bytes, not ${value}`);
  }
  return value;
}

/**
 * Builds an index from JSON Lines files (`-`: standard input) into `options.out`: one file, or a
 * split index (a directory with manifest.json) with `split: true` or when the index is above
 * 16 MB and `single` is not set. Resolves to what was built; rejects with an `EdgekbError`
 * (`code` InvalidDocument, InvalidConfig, Io, InvalidArgument, ...).
 */
export async function build(inputs, options = {}) {
  const list = typeof inputs === 'string' ? [inputs] : Array.from(inputs ?? []);
  const { out, config, split = false, single = false, onProgress } = options;
  if (list.length === 0) throw edgekbError('InvalidArgument', 'no input: give one or more JSON Lines files');
  if (typeof out !== 'string' || out === '') throw edgekbError('InvalidArgument', 'options.out must name where to write the index');
  if (split && single) throw edgekbError('InvalidArgument', 'split and single cannot both be set');
  const sizes = [
    byteCount('residentDictionaryBytes', options.residentDictionaryBytes),
    byteCount('dictionaryPartBytes', options.dictionaryPartBytes),
    byteCount('residentDisplayBytes', options.residentDisplayBytes),
    byteCount('maxFileBytes', options.maxFileBytes),
  ];
  const start = performance.now();
  const { Builder } = await loadBuilder();

  let configBytes;
  if (config !== undefined && config !== null) {
    try {
      configBytes = await readFile(config);
    } catch (err) {
      throw edgekbError('InvalidConfig', `invalid configuration: ${config}: ${osMessage(err)}`);
    }
  }
  const builder = new Builder(config ?? undefined, configBytes);
  try {
    const known = list.map((p) => (p === '-' ? null : fileSize(p)));
    const totalBytes = known.includes(null) ? null : known.reduce((a, b) => a + b, 0);
    let bytesRead = 0;
    let lastReport = 0;
    const report = (force) => {
      if (!onProgress) return;
      const now = performance.now();
      if (!force && now - lastReport < 100) return;
      lastReport = now;
      onProgress({ bytesRead, totalBytes, docs: builder.docCount });
    };
    for (const input of list) {
      builder.beginInput(input);
      if (input === '-') {
        for await (const chunk of process.stdin) {
          builder.push(chunk);
          bytesRead += chunk.length;
          report(false);
        }
      } else {
        const fd = openInput(input);
        if (input.endsWith('.gz')) {
          closeSync(fd);
          throw edgekbError('InvalidConfig', `invalid configuration: ${input}: decompress it first (gzip -dc ${input} | edgekb build - --out …)`);
        }
        for (const chunk of readChunks(fd)) {
          builder.push(chunk);
          bytesRead += chunk.length;
          report(false);
        }
      }
      builder.endInput();
      report(true);
    }

    const result = builder.finish(split, single, ...sizes);
    try {
      const base = { out, docs: result.docs, terms: result.terms, totalBytes: result.totalBytes };
      if (!result.split) {
        const bytes = result.takeSingle();
        try {
          await writeFile(out, bytes);
        } catch (err) {
          throw ioError(out, err);
        }
        return { ...base, split: false, files: [], seconds: (performance.now() - start) / 1000 };
      }
      // The immutable files first, then manifest.json by rename, so that a reader never sees a
      // manifest naming files that are not there yet (as the native CLI writes them).
      try {
        await mkdir(out, { recursive: true });
      } catch (err) {
        throw ioError(out, err);
      }
      const manifestJson = result.manifestJson();
      const dictionaryName = JSON.parse(new TextDecoder().decode(manifestJson)).dictionary.name;
      const files = [];
      let dictionary;
      for (let i = 0; i < result.fileCount; i++) {
        const name = result.fileName(i);
        const path = joinPath(out, name);
        files.push(name);
        const bytes = result.takeFile(i);
        if (name === dictionaryName) dictionary = bytes;
        const exists = await stat(path).then(
          () => true,
          () => false,
        );
        if (exists) continue; // content-addressed: the same name is the same bytes
        try {
          await writeFile(path, bytes);
        } catch (err) {
          throw ioError(path, err);
        }
      }
      // The dictionary under its fixed name (src/split.rs DICTIONARY_ALIAS), which readers fetch
      // with the manifest: by rename too, and before the manifest.
      const aliasTmp = joinPath(out, 'dictionary.bin.tmp');
      try {
        await writeFile(aliasTmp, dictionary);
        await rename(aliasTmp, joinPath(out, 'dictionary.bin'));
      } catch (err) {
        throw ioError(out, err);
      }
      const tmp = joinPath(out, 'manifest.json.tmp');
      try {
        await writeFile(tmp, manifestJson);
      } catch (err) {
        throw ioError(tmp, err);
      }
      try {
        await rename(tmp, joinPath(out, 'manifest.json'));
      } catch (err) {
        throw ioError(out, err);
      }
      const [dictionaryBytes, dictionaryParts, termsBytes, dataBytes] = result.splitSizes();
      return {
        ...base,
        split: true,
        files: [...files, 'dictionary.bin', 'manifest.json'],
        dictionaryBytes,
        dictionaryParts,
        termsBytes,
        dataBytes,
        seconds: (performance.now() - start) / 1000,
      };
    } finally {
      result.free();
    }
  } finally {
    builder.free();
  }
}

/** The line the native `edgekb build` prints when it is done (stderr). */
export function summary(r) {
  if (r.split) {
    return `built ${r.out}/ (split): ${r.docs} documents, ${r.terms} terms; dictionary ${r.dictionaryBytes} bytes (${r.dictionaryParts} parts, ${r.termsBytes} bytes), data ${r.dataBytes} bytes in ${r.seconds.toFixed(2)} s`;
  }
  return `built ${r.out}: ${r.docs} documents, ${r.terms} terms, ${r.totalBytes} bytes in ${r.seconds.toFixed(2)} s`;
}
