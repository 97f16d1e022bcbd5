// Types of the `edgekb` package (every runtime entry exports the same API).

/** Options of {@link KnowledgeBase.search}. */
export interface SearchOptions {
  /** Hits to return, 0 to 10000 (default 10). */
  limit?: number;
  /** Match the last word as a prefix while it is typed (default true). */
  prefix?: boolean;
  /** Typo tolerance (default true). */
  typos?: boolean;
  /** Rank documents matching any word (OR) instead of AND with fallback (default false). */
  any?: boolean;
  /**
   * Aborting rejects the search with an `AbortError` (a `DOMException`) and aborts its fetches,
   * unless another search still waits on them.
   */
  signal?: AbortSignal;
  /**
   * A snippet per hit: the best passage of its body, `true` for about 160 characters or a
   * length in characters (up to 2000), with the ranges of every matched word.
   */
  snippet?: boolean | number;
  /**
   * Only documents the filter accepts (filters never change scores): a string in the query's
   * filter syntax (`"tags:devel::lang:python"`, `"tags:devel::lang:*"`, `OR`, `-item`) or the
   * structured form. A field that is not a facet of the index rejects with `InvalidOption`.
   */
  filter?: Filter;
  /** Facet fields to count over every match (not only the hits): results gain `facets`, hits their values. */
  facets?: string | string[];
  /** `"score"` (default: highest first), or a sortable field: `"year"`, `"year:asc"`, `"year:desc"`. Ties in document order. */
  sort?: string;
  /** Hits skipped before the first returned, 0 to 100000 (default 0): page `n` is `offset: n * limit`. */
  offset?: number;
}

/** A filter: the filter syntax, one value, a prefix of values, or AND / OR / NOT of filters. */
export type Filter =
  | string
  | { field: string; value: string }
  | { field: string; prefix: string }
  | { and: Filter[] }
  | { or: Filter[] }
  | { not: Filter };

/** A highlight: `[start, end)` in UTF-16 code units of `Hit.snippet` (what `String.prototype.slice` takes). */
export type Highlight = [number, number];

/** One result; `snippet` and `highlights` only with the `snippet` option. */
export interface Hit {
  id: string;
  title: string;
  url: string;
  /** BM25F score: higher is better; comparable within one result list only. */
  score: number;
  snippet?: string;
  highlights?: Highlight[];
  /** Its values of the fields named in the `facets` option. */
  facets?: Record<string, string[]>;
}

/** The answer to a query. */
export interface SearchResults {
  /** Documents that matched (all of them, not only the hits returned). */
  total: number;
  /** The best `limit` documents, best first. */
  hits: Hit[];
  /** Present (true) when the query went over a budget and was answered without some of its parts. */
  truncated?: boolean;
  /** With the `facets` option: per field, per value, how many matches (all of them) carry it. */
  facets?: Record<string, Record<string, number>>;
}

/** `text` as HTML: escaped, with `<mark>` around each highlight (UTF-16 ranges, ascending). */
export function highlightHtml(text: string, highlights: Highlight[]): string;

/** Options of {@link KnowledgeBase.open}. */
export interface OpenOptions {
  /** Aborting rejects the open with an `AbortError`. */
  signal?: AbortSignal;
  /** Cache budget in bytes for a split index (default 32 MiB; 16 MiB in Cloudflare Workers). */
  cacheBytes?: number;
  /** Per-request timeout in ms, 1 to 600000 (default 10000). */
  timeoutMs?: number;
  /** Retries of a failed request, 0 to 10 (default 3). */
  retries?: number;
  /** First backoff delay in ms (default 100), doubled per retry, with jitter. */
  backoffMs?: number;
  /**
   * Searches needing the same byte range wait on one fetch (default true; false in Cloudflare
   * Workers, where a fetch belongs to the request that started it).
   */
  shareFetches?: boolean;
  /**
   * What to fetch with instead of the global `fetch` (a Worker answering from R2, say): called
   * as `fetch(url, {headers, signal, cache})`, it must resolve to a `Response`.
   */
  fetch?: (url: string, init: RequestInit) => Promise<Response>;
}

/** Cache and network counters ({@link KnowledgeBase.stats}). */
export interface Stats {
  /** Whether this is a split index (manifest + files fetched in ranges). */
  split: boolean;
  hits: number;
  misses: number;
  evictions: number;
  /** Bytes held by the cache now. */
  bytesHeld: number;
  /** The cache budget in bytes. */
  budget: number;
  entries: number;
  /** HTTP requests made. */
  requests: number;
  bytesFetched: number;
  retries: number;
  aborted: number;
  rejected: number;
  /** Rounds of requests operations waited on, one round after another. */
  roundTrips: number;
  inFlight: number;
  /**
   * What the last search (or open, refresh, prefetch) to finish cost on the wire: the requests
   * it waited on (a fetch shared with another search counts for both), the bytes they
   * brought, and its round trips. All zero when everything was cached.
   */
  last: WireCost;
}

/** One operation's wire cost ({@link Stats.last}). */
export interface WireCost {
  requests: number;
  bytes: number;
  roundTrips: number;
}

/** Options of {@link KnowledgeBase.prefetch} and {@link KnowledgeBase.refresh}. */
export interface SignalOptions {
  signal?: AbortSignal;
}

/**
 * `code` of an {@link EdgekbError}.
 *
 * - the index: `BadMagic` (not an edgekb index), `UnsupportedVersion`, `Truncated`, `Corrupt`,
 *   `ChecksumMismatch`, `NotLoaded` (a bug: please report it);
 * - budgets and input: `LimitExceeded`, `InvalidDocument`, `InvalidConfig`, `Unsupported`,
 *   `InvalidArgument` (a bad option or argument: its type or range), `InvalidOption` (an option
 *   the index cannot answer: a filter, facet or sort on a field that is not one, a malformed
 *   filter);
 * - the network (split indexes and `open`): `HttpStatus`, `Network`, `Timeout`;
 * - files: `Io`.
 */
export type EdgekbErrorCode =
  | 'BadMagic'
  | 'UnsupportedVersion'
  | 'Truncated'
  | 'Corrupt'
  | 'ChecksumMismatch'
  | 'LimitExceeded'
  | 'InvalidDocument'
  | 'InvalidConfig'
  | 'Unsupported'
  | 'NotLoaded'
  | 'Io'
  | 'InvalidArgument'
  | 'InvalidOption'
  | 'HttpStatus'
  | 'Network'
  | 'Timeout';

/**
 * What every method rejects (or throws) with, except an abort: an `Error` whose `name` is
 * `"EdgekbError"` and whose `code` says what went wrong. An aborted call rejects with the
 * signal's reason, an `AbortError`.
 */
export interface EdgekbError extends Error {
  name: 'EdgekbError';
  code: EdgekbErrorCode;
}

/** Whether `err` is an {@link EdgekbError} (a type guard). */
export declare function isEdgekbError(err: unknown): err is EdgekbError;

/** An index: one file opened from its bytes, or a split index opened from its manifest's URL. */
export declare class KnowledgeBase {
  private constructor();
  /** Opens a single-file index from its bytes; checks every checksum (throws an EdgekbError). */
  static fromBytes(bytes: Uint8Array): KnowledgeBase;
  /**
   * Opens an index over the global `fetch`: a URL ending in `.json` is a split index's manifest
   * (the dictionary is fetched now, the rest in ranges on demand); anything else is a single-file
   * index, fetched whole.
   */
  static open(url: string, options?: OpenOptions): Promise<KnowledgeBase>;
  /** Number of documents. */
  readonly docCount: number;
  /** The fields hits can be sorted by (`sort: "field"` or `"field:desc"`), in schema order. */
  readonly sortFields: string[];
  /** The fields whose values can be counted (`facets`) and filtered on (`filter`). */
  readonly facetFields: string[];
  /**
   * Searches. Never fails on a malformed query; rejects on a damaged index, a network failure
   * after its retries, a budget, or an abort (`AbortError`).
   */
  search(query: string, options?: SearchOptions): Promise<SearchResults>;
  /** Cache and network counters. */
  stats(): Stats;
  /**
   * Split index: loads whole data files while they fit in the cache budget; resolves to the
   * bytes cached. A no-op for a single-file index.
   */
  prefetch(options?: SignalOptions): Promise<number>;
  /**
   * Split index: re-reads the manifest and, when it names a new version, swaps to it (searches
   * already running finish on theirs). Resolves to whether the version changed.
   */
  refresh(options?: SignalOptions): Promise<boolean>;
  /** Releases the index's memory in the wasm heap now (it is also released when collected). */
  free(): void;
}
