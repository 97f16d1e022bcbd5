
// ---- edgekb: the browser and bundler entry (the `browser` and `default` conditions) ----------
// The wasm-bindgen glue above, then: the engine is fetched and compiled when this module is
// imported (top-level await), from the .wasm beside this file. Bundlers that understand
// `new URL(…, import.meta.url)` (Vite, webpack 5, Parcel) emit the .wasm as an asset; with
// esbuild, copy node_modules/edgekb/edgekb_bg.wasm next to the bundle.
await __wbg_init({ module_or_path: new URL('./edgekb_bg.wasm', import.meta.url) });

/** Whether `err` is an error of edgekb (`name` "EdgekbError", with a `code`). */
export function isEdgekbError(err) {
  return err instanceof Error && err.name === 'EdgekbError' && typeof err.code === 'string';
}
