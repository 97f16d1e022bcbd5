// Reading a WebAssembly module's bytes: unsigned LEB128 numbers and the section list. Shared by
// scripts/wasm-size.mjs (what the search .wasm's bytes are) and tests/js/stack.test.mjs (where
// its stack ends).

/** The unsigned LEB128 number of `bytes` at `at`: [value, offset after it]. */
export function uleb(bytes, at) {
  let v = 0;
  let shift = 0;
  for (;;) {
    const b = bytes[at++];
    if (b === undefined) throw new Error('a LEB128 number runs past the end of the module');
    v += (b & 0x7f) * 2 ** shift;
    shift += 7;
    if (b < 0x80) return [v, at];
  }
}

/** The sections of module `bytes`, in order: {id, start, end} of each one's contents. */
export function sections(bytes) {
  if (bytes.length < 8 || bytes[0] !== 0 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d) {
    throw new Error('not a WebAssembly module (no \\0asm magic)');
  }
  const out = [];
  for (let at = 8; at < bytes.length; ) {
    const id = bytes[at++];
    const [size, start] = uleb(bytes, at);
    out.push({ id, start, end: start + size });
    at = start + size;
  }
  return out;
}
