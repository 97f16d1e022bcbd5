#!/usr/bin/env node
// `npx edgekb build`: the native `edgekb build`'s options and output, with the builder compiled
// to WebAssembly (Node 20 or newer, nothing else).
import { readFileSync } from 'node:fs';
import { build, summary } from '../build.mjs';

const VERSION = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version;

const USAGE = `Build edgekb knowledge-base indexes (the builder of edgekb ${VERSION}, in WebAssembly)

Usage: edgekb build [OPTIONS] --out <OUT> <INPUTS>...

Arguments:
  <INPUTS>...  Input files (JSONL; \`-\` for standard input)

Options:
      --out <OUT>        Where to write the index
      --config <CONFIG>  Schema, analyzer and ranking settings (TOML)
      --split            Write a split index (a directory with manifest.json) for lazy loading
                         over HTTP. Without --split or --single, an index above 16 MB is split
      --single           Always write one file
      --resident-dictionary-bytes <N>
                         Split index: cut a term dictionary larger than this many bytes into
                         parts behind a small resident router (default 131072)
      --dictionary-part-bytes <N>
                         Split index: target bytes of one dictionary part (default 32768)
      --resident-display-bytes <N>
                         Split index: keep hit-display data up to this many bytes in the
                         resident dictionary (default 65536)
      --max-file-bytes <N>
                         Split index: write a pack larger than this many bytes as pieces of at
                         most this size (default 25165824)
  -h, --help             Print help
  -V, --version          Print version

Searching is done with the library: import { KnowledgeBase } from 'edgekb'.`;

class UsageError extends Error {}

const VALUE_OPTIONS = {
  '--out': 'out',
  '--config': 'config',
  '--resident-dictionary-bytes': 'residentDictionaryBytes',
  '--dictionary-part-bytes': 'dictionaryPartBytes',
  '--resident-display-bytes': 'residentDisplayBytes',
  '--max-file-bytes': 'maxFileBytes',
};
const BYTE_OPTIONS = new Set(['residentDictionaryBytes', 'dictionaryPartBytes', 'residentDisplayBytes', 'maxFileBytes']);

function parseBuild(args) {
  const options = {};
  const inputs = [];
  let onlyInputs = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (onlyInputs || arg === '-' || !arg.startsWith('-')) {
      inputs.push(arg);
      continue;
    }
    if (arg === '--') {
      onlyInputs = true;
      continue;
    }
    if (arg === '--split' || arg === '--single') {
      options[arg.slice(2)] = true;
      continue;
    }
    const eq = arg.indexOf('=');
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const key = VALUE_OPTIONS[flag];
    if (!key) throw new UsageError(`unexpected argument '${arg}' found`);
    if (key in options) throw new UsageError(`the argument '${flag} <${flag.slice(2).toUpperCase()}>' cannot be used multiple times`);
    let value;
    if (eq > 0) value = arg.slice(eq + 1);
    else if (i + 1 < args.length) value = args[++i];
    else throw new UsageError(`a value is required for '${flag}' but none was supplied`);
    if (BYTE_OPTIONS.has(key)) {
      if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value))) {
        throw new UsageError(`invalid value '${value}' for '${flag} <N>': invalid digit found in string`);
      }
      value = Number(value);
    }
    options[key] = value;
  }
  if (options.split && options.single) throw new UsageError("the argument '--split' cannot be used with '--single'");
  if (inputs.length === 0) throw new UsageError('the following required arguments were not provided:\n  <INPUTS>...');
  if (options.out === undefined) throw new UsageError('the following required arguments were not provided:\n  --out <OUT>');
  return { inputs, options };
}

const MB = 1e6;

/** A one-line progress bar on stderr, redrawn at most ten times a second; only on a terminal. */
function progressBar(stream) {
  if (!stream.isTTY) return { update() {}, clear() {} };
  let shown = false;
  return {
    update({ bytesRead, totalBytes, docs }) {
      const width = 30;
      let line;
      if (totalBytes) {
        const f = Math.min(1, bytesRead / totalBytes);
        const filled = Math.round(f * width);
        line = `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${(f * 100).toFixed(0).padStart(3)}%  ${(bytesRead / MB).toFixed(1)}/${(totalBytes / MB).toFixed(1)} MB  ${docs.toLocaleString('en')} documents`;
      } else {
        line = `${(bytesRead / MB).toFixed(1)} MB read  ${docs.toLocaleString('en')} documents`;
      }
      stream.write(`\r${line.slice(0, (stream.columns || 80) - 1)}\x1b[K`);
      shown = true;
    },
    clear() {
      if (shown) stream.write('\r\x1b[K');
      shown = false;
    },
  };
}

async function main(argv) {
  const [command, ...rest] = argv;
  if (command === undefined || command === '-h' || command === '--help' || command === 'help') {
    console.log(USAGE);
    return command === undefined ? 2 : 0;
  }
  if (command === '-V' || command === '--version') {
    console.log(`edgekb ${VERSION}`);
    return 0;
  }
  if (command !== 'build') {
    console.error(`edgekb: '${command}' is not a command of this package's edgekb, which only builds (search, inspect and verify come with the native edgekb)\n\n${USAGE}`);
    return 2;
  }
  if (rest.includes('-h') || rest.includes('--help')) {
    console.log(USAGE);
    return 0;
  }
  let parsed;
  try {
    parsed = parseBuild(rest);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`error: ${err.message}\n\nUsage: edgekb build [OPTIONS] --out <OUT> <INPUTS>...\n\nFor more information, try '--help'.`);
    return 2;
  }
  const bar = progressBar(process.stderr);
  try {
    const result = await build(parsed.inputs, { ...parsed.options, onProgress: (p) => bar.update(p) });
    bar.clear();
    console.error(summary(result));
    return 0;
  } catch (err) {
    bar.clear();
    if (err?.name === 'EdgekbError') {
      console.error(`edgekb: ${err.message}`);
      return 1;
    }
    throw err;
  }
}

process.exitCode = await main(process.argv.slice(2));
