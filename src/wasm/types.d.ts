// The TypeScript types of the binding, added to pkg/edgekb.d.ts by wasm-bindgen.
/** Options of `KnowledgeBase.search`. */
export interface SearchOptions {
  /** Hits to return (default 10). */
  limit?: number;
  /** Match the last word as a prefix while it is typed (default true). */
  prefix?: boolean;
  /** Typo tolerance (default true). */
  typos?: boolean;
  /** Rank documents matching any word (OR) instead of AND with fallback (default false). */
  any?: boolean;
  /** Aborting rejects the search with an `AbortError` and aborts its fetches (unless another
   *  search still waits on them). */
  signal?: AbortSignal;
  /** Give each hit the best passage of its body with highlights: `true` (160 characters) or a
   *  length in characters (1 to 2000); default off. On a split index this reads the hits'
   *  document-store chunks (in the hit-display round when there is one). */
  snippet?: boolean | number;
  /** Only documents the filter accepts: `"tags:devel::lang:python"` (the query's filter syntax)
   *  or the structured form. */
  filter?: Filter;
  /** Facet fields to count over every match: results gain `facets`, hits their values. */
  facets?: string | string[];
  /** `"score"` (default), or a sortable field: `"year"`, `"year:asc"`, `"year:desc"`. */
  sort?: string;
  /** Hits skipped before the first returned (pages), 0 to 100000 (default 0). */
  offset?: number;
}
/** A filter: the filter syntax, a value, a prefix of values, or AND / OR / NOT of filters. */
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
  id: string; title: string; url: string; score: number;
  snippet?: string; highlights?: Highlight[];
  /** Its values of the fields in the `facets` option. */
  facets?: Record<string, string[]>;
}
/** The answer to a query; `truncated` when it went over a budget and was answered without some of its parts. */
export interface SearchResults {
  total: number; hits: Hit[]; truncated?: boolean;
  /** With the `facets` option: per field, per value, how many matches carry it. */
  facets?: Record<string, Record<string, number>>;
}
/** Options of `KnowledgeBase.open`. */
export interface OpenOptions {
  signal?: AbortSignal;
  /** Cache budget in bytes for a split index (default 32 MiB; 16 MiB in Cloudflare Workers). */
  cacheBytes?: number;
  /** Per-request timeout (default 10000 ms). */
  timeoutMs?: number;
  /** Retries of a failed request (default 3). */
  retries?: number;
  /** First backoff delay (default 100 ms), doubled per retry, with jitter. */
  backoffMs?: number;
  /**
   * Searches needing the same byte range wait on one fetch (default true; false in Cloudflare
   * Workers, where a fetch belongs to the request that started it, so requests must not share
   * one).
   */
  shareFetches?: boolean;
  /**
   * What to fetch with instead of the global `fetch` (a Worker answering from R2, say): called
   * as `fetch(url, {headers, signal, cache})`, it must resolve to a `Response`.
   */
  fetch?: (url: string, init: RequestInit) => Promise<Response>;
}
/** Counts of expensive steps in this thread (diagnostics; see `edgekb::counts`). */
export interface EngineCounts {
  searchers: number; parses: number; partWalks: number; dictionaryWalks: number; sectionCrcs: number;
}
/** Counters of `KnowledgeBase.stats()`. */
export interface Stats {
  split: boolean; hits: number; misses: number; evictions: number; bytesHeld: number;
  budget: number; entries: number; requests: number; bytesFetched: number; retries: number;
  aborted: number; rejected: number; roundTrips: number; inFlight: number;
  /** The last finished operation's requests, bytes and round trips (zero when all was cached). */
  last: { requests: number; bytes: number; roundTrips: number };
}
