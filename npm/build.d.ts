// Types of `edgekb/build` (Node only).
import type { EdgekbError } from './index.js';

/** Options of {@link build}: the native `edgekb build`'s flags. */
export interface BuildOptions {
  /** Where to write the index: a file, or a directory for a split index (`--out`). */
  out: string;
  /** Path of an `edgekb.toml` with schema, analyzer and ranking settings (`--config`). */
  config?: string;
  /** Write a split index, a directory with manifest.json, for lazy loading over HTTP (`--split`).
   *  Without `split` or `single`, an index above 16 MB is split. */
  split?: boolean;
  /** Always write one file (`--single`). */
  single?: boolean;
  /** Split index: cut a term dictionary larger than this into parts (default 131072). */
  residentDictionaryBytes?: number;
  /** Split index: target bytes of one dictionary part (default 32768). */
  dictionaryPartBytes?: number;
  /** Split index: keep hit-display data up to this size resident (default 65536). */
  residentDisplayBytes?: number;
  /**
   * Split index: write a pack larger than this as pieces of at most this size (default
   * 25165824, 24 MiB: static hosts such as Cloudflare's refuse files over 25 MiB).
   */
  maxFileBytes?: number;
  /** Called as the input is read (at most every 100 ms, and after each input). */
  onProgress?: (progress: BuildProgress) => void;
}

export interface BuildProgress {
  bytesRead: number;
  /** Bytes of all inputs, or null when one is standard input. */
  totalBytes: number | null;
  /** Documents added so far. */
  docs: number;
}

/** What {@link build} wrote. */
export interface BuildResult {
  out: string;
  split: boolean;
  docs: number;
  terms: number;
  /** Bytes of the index as one file. */
  totalBytes: number;
  /** Split index: the file names written in `out` (dictionary.bin, then manifest.json last); [] for one file. */
  files: string[];
  /** Split index: bytes of the resident dictionary, its parts, the terms pack, the data packs. */
  dictionaryBytes?: number;
  dictionaryParts?: number;
  termsBytes?: number;
  dataBytes?: number;
  seconds: number;
}

/**
 * Builds an index from JSON Lines files (`"-"`: standard input), byte for byte as the native
 * `edgekb build`. Rejects with an {@link EdgekbError} (`InvalidDocument`, `InvalidConfig`, `Io`,
 * `InvalidArgument`, `LimitExceeded`).
 */
export declare function build(inputs: string | string[], options: BuildOptions): Promise<BuildResult>;

/** The line `edgekb build` prints when done, for a {@link BuildResult}. */
export declare function summary(result: BuildResult): string;
