#!/usr/bin/env bash
# edgekb's single entry point. Idempotent: every step is skipped when what it makes is there.
#
#   ./build.sh setup   install what is missing, at pinned versions
#   ./build.sh build   native CLI + wasm package (pkg/) + the npm package (target/npm/edgekb-*.tgz)
#   ./build.sh package the npm package alone (the builder's wasm, then npm pack), after a build
#   ./build.sh wasm    the search wasm package alone (pkg/); EDGEKB_WASM_NAMES=1 also writes
#                      target/wasm-names/edgekb_bg.wasm, the same module with its function names
#                      (for `twiggy top`/`dominators`; BENCHMARKS.md's size account)
#   ./build.sh demo    build, make a sample knowledge base, serve www/ on 127.0.0.1
#   ./build.sh test    every test: fmt, clippy, cargo test, then the wasm in Node, Chromium and
#                      workerd, and the npm package from its tarball (Node, npx edgekb build,
#                      esbuild, wrangler, tsc)
#   ./build.sh bench   benchmark figures natively (corpus and hostile queries), then edgekb beside
#                      Pagefind, MiniSearch, FlexSearch and Orama in one run (see BENCHMARKS.md)
#
# Every subcommand runs `setup` first.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$ROOT"

# ---------------------------------------------------------------- pinned versions
WASM_BINDGEN_VERSION=$(awk -F'"' '/^wasm-bindgen *= *\{ *version *= *"=/{sub("=","",$2); print $2; exit}' Cargo.toml)
WASM_PACK_VERSION=0.15.1
APT_PKGS=(chromium)
DEBIAN_WASM_PKGS=(rustc-web cargo-web rust-web-src rust-web-llvm lld-22)

export PATH="$HOME/.cargo/bin:$PATH"
TOOLS_TARGET=${EDGEKB_TOOLS_TARGET:-$HOME/.cache/edgekb-tools}

log() { printf '\n== %s\n' "$*" >&2; }
die() { printf 'build.sh: %s\n' "$*" >&2; exit 1; }

# Does the rustc first on PATH have a wasm32 std (a normal rustup machine with the target added)?
have_rustup_wasm32() {
  local dir
  dir=$(rustc --print target-libdir --target wasm32-unknown-unknown 2>/dev/null) || return 1
  compgen -G "$dir/libcore-*.rlib" >/dev/null
}

apt_install() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  command -v apt-get >/dev/null || die "missing packages ${missing[*]} and no apt-get: install them by hand"
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo=sudo
  log "apt-get install ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

tool_version() { "$1" --version 2>/dev/null | awk '{print $2}'; }

install_wasm_bindgen() {
  if [ "$(tool_version wasm-bindgen)" = "$WASM_BINDGEN_VERSION" ] &&
     [ "$(tool_version wasm-bindgen-test-runner)" = "$WASM_BINDGEN_VERSION" ]; then
    return 0
  fi
  log "cargo install wasm-bindgen-cli $WASM_BINDGEN_VERSION (a few minutes, once)"
  if CARGO_TARGET_DIR="$TOOLS_TARGET/wasm-bindgen-cli" cargo install wasm-bindgen-cli \
       --version "=$WASM_BINDGEN_VERSION" --locked --force; then
    return 0
  fi
  # Some registry mirrors lack a version pinned by the tool's own lockfile: re-lock from the
  # downloaded .crate with the nearest available versions and install from there.
  log "--locked install failed; re-locking wasm-bindgen-cli $WASM_BINDGEN_VERSION against this registry"
  local crate src
  crate=$(find "${CARGO_HOME:-$HOME/.cargo}/registry/cache" -name "wasm-bindgen-cli-$WASM_BINDGEN_VERSION.crate" | head -1)
  [ -n "$crate" ] || die "wasm-bindgen-cli-$WASM_BINDGEN_VERSION.crate was not downloaded"
  src="$TOOLS_TARGET/src"
  rm -rf "$src/wasm-bindgen-cli-$WASM_BINDGEN_VERSION"; mkdir -p "$src"
  tar xzf "$crate" -C "$src"
  (
    cd "$src/wasm-bindgen-cli-$WASM_BINDGEN_VERSION"
    cargo update -p webpki-roots --precise 1.0.10 2>/dev/null || cargo update
    CARGO_TARGET_DIR="$TOOLS_TARGET/wasm-bindgen-cli" cargo install --path . --locked --force
  )
}

install_wasm_pack() {
  [ "$(tool_version wasm-pack)" = "$WASM_PACK_VERSION" ] && return 0
  log "cargo install wasm-pack $WASM_PACK_VERSION (a few minutes, once)"
  CARGO_TARGET_DIR="$TOOLS_TARGET/wasm-pack" cargo install wasm-pack --version "=$WASM_PACK_VERSION" --locked --force
}

install_npm() {
  # devDependencies from the committed lockfile: binaryen (wasm-opt), playwright-core, workerd,
  # and for the npm package's tests esbuild, typescript and wrangler (4.86: the last for Node 20).
  if [ -x node_modules/.bin/wasm-opt ] && [ -x node_modules/.bin/workerd ] &&
     [ -x node_modules/.bin/esbuild ] && [ -x node_modules/.bin/tsc ] && [ -x node_modules/.bin/wrangler ] &&
     [ -d node_modules/playwright-core ] && [ node_modules/.package-lock.json -nt package-lock.json ]; then
    return 0
  fi
  log "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
}

cmd_setup() {
  command -v cargo >/dev/null || die "cargo not found: install Rust from https://rustup.rs first"
  command -v node >/dev/null || die "node not found: install Node.js 20 or newer first"
  if have_rustup_wasm32; then
    apt_install "${APT_PKGS[@]}"
  else
    apt_install "${APT_PKGS[@]}" "${DEBIAN_WASM_PKGS[@]}"
    test -d /usr/lib/rustlib/src/rust/library/std || die "rust-web-src did not install the std sources"
    test -x "$(readlink -f /usr/bin/rust-lld)" || die "/usr/bin/rust-lld dangles: install lld-22"
  fi
  install_wasm_bindgen
  install_wasm_pack
  install_npm
  # `./build.sh test` checks formatting and lints too.
  if ! cargo fmt --version >/dev/null 2>&1 || ! cargo clippy --version >/dev/null 2>&1; then
    command -v rustup >/dev/null && rustup component add rustfmt clippy ||
      die "cargo fmt and cargo clippy are needed: install rustfmt and clippy for this toolchain"
  fi
}

# ---------------------------------------------------------------- builds
# The wasm builds, through wasm-pack, with whichever Rust has a wasm32 std, at opt-level LEVEL
# (`wasm_env LEVEL [STD_FEATURES]`). Both modules are optimized for speed (3, `wasm-opt -O3`): for
# the search module opt-level "s" saves 15 KB gzip but makes wasm latency ~1.4x slower (2.1x
# native at p50, past its 2x budget; "z" is slower still, BENCHMARKS.md); EDGEKB_WASM_OPT_LEVEL=z
# builds it that way.
# With Debian's Rust (build-std) panics abort at once, without the formatting machinery of a
# panic message (`panic = "immediate-abort"`, 11 KB gzip); no hook printed them anyway. The search
# module's std is built with STD_FEATURES `optimize_for_size` (std's small algorithms: heapsort
# and insertion sort instead of ipnsort/driftsort and their per-type instantiations; 37 KB gzip,
# p50 +11% in wasm, still 1.5x native). The builder's std keeps the fast ones: it sorts whole
# corpora. A rustup toolchain's prebuilt std has neither (its search .wasm is ~50 KB larger).
wasm_env() {
  local level=$1 std_features=${2:-}
  if have_rustup_wasm32; then
    WASM_CARGO_ENV=(env CARGO_PROFILE_RELEASE_OPT_LEVEL="$level" CARGO_PROFILE_RELEASE_PANIC=abort)
    WASM_PACK_MODE=normal
  else
    # Debian's Rust 1.96 with the std sources, rebuilding std for wasm32 (build-std).
    WASM_CARGO_ENV=(env CARGO_PROFILE_RELEASE_OPT_LEVEL="$level" CARGO_PROFILE_RELEASE_PANIC=immediate-abort
                    CARGO_UNSTABLE_PANIC_IMMEDIATE_ABORT=true PATH="/usr/bin:$PATH" RUSTC_BOOTSTRAP=1
                    CARGO_UNSTABLE_BUILD_STD=std,panic_abort CARGO_TARGET_DIR="$ROOT/target/wasm-debian")
    [ -z "$std_features" ] || WASM_CARGO_ENV+=(CARGO_UNSTABLE_BUILD_STD_FEATURES="$std_features")
    WASM_PACK_MODE=force
  fi
}

wasm_opt() { # LEVEL FILE [STRIP]: optimizes FILE in place; STRIP is --strip-debug (default) or -g (keep names)
  node_modules/.bin/wasm-opt "$1" "${3:---strip-debug}" --strip-producers --strip-target-features --enable-bulk-memory --enable-nontrapping-float-to-int \
      --enable-sign-ext --enable-mutable-globals "$2" -o "$2.opt"
  mv "$2.opt" "$2"
}

cmd_build_native() {
  log "cargo build --release (CLI)"
  cargo build --release --quiet --bin edgekb
}

# The search module is compiled with LLVM's inline threshold set to EDGEKB_WASM_INLINE_THRESHOLD
# (default 75; LLVM's own at opt-level 3 is 250): the binding's async drivers otherwise take in
# whole copies of the core's machines. 75 saves 14.9 KB gzip for +2.7% wasm instructions per query
# (V8's optimizing tier, counted by valgrind: scripts/wasm-instructions.mjs; BENCHMARKS.md,
# session 18). Loops are unrolled less (unroll threshold 50, not 300): 1.9 KB, and the same
# instruction count.
cmd_build_wasm() {
  local level=${EDGEKB_WASM_OPT_LEVEL:-3}
  wasm_env "$level" optimize_for_size
  WASM_CARGO_ENV+=(RUSTFLAGS="${RUSTFLAGS:+$RUSTFLAGS }-C llvm-args=-inline-threshold=${EDGEKB_WASM_INLINE_THRESHOLD:-75} -C llvm-args=-unroll-threshold=50")
  log "wasm-pack build (--target web, mode $WASM_PACK_MODE, opt-level $level)"
  "${WASM_CARGO_ENV[@]}" wasm-pack --quiet build --release --target web --mode "$WASM_PACK_MODE" \
      --out-dir pkg --out-name edgekb --no-opt --no-typescript -- --no-default-features --features binding,table-folding
  # The binding's own JavaScript (src/wasm/io.js), which the glue imports from pkg/snippets/,
  # folded into the glue: the package stays one script beside the .wasm. (The package's types
  # are npm/index.d.ts, hence --no-typescript.)
  node --input-type=module -e "
    import { readFileSync, rmSync, writeFileSync } from 'node:fs';
    const snippet = /^import \{[^}]*\} from '\.\/(snippets\/[^']+)';\n/gm;
    const glue = readFileSync('pkg/edgekb.js', 'utf8').replace(snippet,
      (_, file) => readFileSync('pkg/' + file, 'utf8').replace(/^export /gm, '')
        .replace(/^ *\/\/.*\n|^ *\/\*\*[^]*?\*\/\n/gm, '')); // its comments stay in src/wasm/io.js
    if (glue.includes('./snippets/')) throw new Error('pkg/edgekb.js still imports a snippet: fold it in build.sh');
    writeFileSync('pkg/edgekb.js', glue);
    rmSync('pkg/snippets', { recursive: true, force: true });"
  local wasm=pkg/edgekb_bg.wasm
  [ -x node_modules/.bin/wasm-opt ] || die "node_modules/.bin/wasm-opt is missing: run ./build.sh setup"
  if [ -n "${EDGEKB_WASM_NAMES:-}" ]; then
    # The same optimization, keeping the name section (-g): the shipped file's functions, named.
    mkdir -p target/wasm-names
    cp "$wasm" target/wasm-names/edgekb_bg.wasm
    wasm_opt "-O$level" target/wasm-names/edgekb_bg.wasm -g
  fi
  wasm_opt "-O$level" "$wasm"
  rm -f pkg/.gitignore pkg/*.d.ts
  # What a page downloads for the engine: the .wasm and its glue (gzip -9, as a server would).
  local raw gz glue
  raw=$(stat -c %s "$wasm"); gz=$(gzip -9c "$wasm" | wc -c); glue=$(gzip -9c pkg/edgekb.js | wc -c)
  printf 'edgekb .wasm: %d bytes raw, %d bytes gzip (%.1f KB / %.1f KB); glue edgekb.js %.1f KB gzip; both %.1f KB gzip\n' \
      "$raw" "$gz" "$(echo "$raw/1000" | bc -l)" "$(echo "$gz/1000" | bc -l)" "$(echo "$glue/1000" | bc -l)" \
      "$(echo "($gz+$glue)/1000" | bc -l)" | tee target/wasm-size.txt
  # Smoke-load the package in Node: a broken wasm-opt output would only show here.
  node --input-type=module -e "import {loadNode} from './js/node.mjs'; await loadNode(); console.log('wasm package loads in node')"
}

# The builder for Node (`npx edgekb build`): crates/edgekb-build, the library's IndexBuilder and
# split writer compiled the same way as the search module, into a wasm module of its own, so the
# search module does not grow.
#
# fst's builder writes differently on a 32-bit target, so the same documents would make a
# different (equally valid) index on wasm32 than natively, not the native CLI's byte for byte:
# it deduplicates nodes through a cache indexed by `(hash as usize) % 10000`, and usize
# truncates the 64-bit hash on wasm32. The builder is compiled against a copy of the crate, made
# from its own .crate file in cargo's cache into target/npm/fst-patched/, where this line
# computes what it computes on a 64-bit target ([patch.crates-io] in
# crates/edgekb-build/Cargo.toml). Nothing of the crate is committed here; the package test
# compares the outputs byte for byte. (The hit-display store's LZ4 writer, src/lz4.rs, is the
# crate's own and computes the same on both.)
unpack_crate() { # name -> target/npm/<name>-patched, fresh; echoes the directory
  local name=$1 version crate dir
  version=$(awk -v n="name = \"$name\"" '$0==n{getline; gsub(/[^0-9.]/,""); print; exit}' Cargo.lock)
  dir=target/npm/$name-patched
  crate=$(find "${CARGO_HOME:-$HOME/.cargo}/registry/cache" -name "$name-$version.crate" | head -1)
  [ -n "$crate" ] || die "$name-$version.crate is not in cargo's cache (cargo fetch failed?)"
  rm -rf "$dir" && mkdir -p "$dir"
  tar xzf "$crate" -C "$dir" --strip-components=1
  # Their warnings under a newer rustc are theirs, not ours.
  printf '\n[lints.rust]\nwarnings = "allow"\n' >> "$dir/Cargo.toml"
  echo "$dir"
}

patch_deps() {
  local stamp=target/npm/.deps-patched-$(sha256sum Cargo.lock build.sh | sha256sum | cut -c1-16) dir f
  [ -f "$stamp" ] && return 0
  cargo fetch --quiet
  dir=$(unpack_crate fst)
  f=$dir/src/raw/registry.rs
  sed -i 's/(h as usize) % self.table_size/(h % self.table_size as u64) as usize/' "$f"
  grep -q '(h % self.table_size as u64) as usize' "$f" || die "$f: the line to patch was not found (patch_deps in build.sh)"
  rm -f target/npm/.deps-patched-* && touch "$stamp"
}

cmd_build_builder_wasm() {
  patch_deps
  wasm_env 3
  log "wasm-pack build crates/edgekb-build (the builder for Node)"
  # A target directory of its own: built as the builder's dependency, edgekb's cdylib (without
  # the binding) would otherwise replace the search module's in the shared one, and the next
  # search build would package that.
  "${WASM_CARGO_ENV[@]}" CARGO_TARGET_DIR="$ROOT/target/wasm-builder" wasm-pack --quiet build crates/edgekb-build --release --target web --mode "$WASM_PACK_MODE" \
      --out-dir "$ROOT/target/npm/builder-pkg" --out-name edgekb_build --no-opt
  local wasm=target/npm/builder-pkg/edgekb_build_bg.wasm
  wasm_opt -O3 "$wasm"
  printf 'edgekb builder .wasm: %d bytes raw, %d bytes gzip\n' "$(stat -c %s "$wasm")" "$(gzip -9c "$wasm" | wc -c)"
}

# The npm package `edgekb`: npm/ (entries, types, README, CHANGELOG) plus the search module from
# pkg/ and the builder from target/npm/builder-pkg/, assembled in target/npm/package/ and packed
# with `npm pack` into target/npm/edgekb-<version>.tgz.
cmd_package() {
  local stage=target/npm/package
  grep -q '^async function __wbg_init(' pkg/edgekb.js ||
    die "pkg/edgekb.js has no __wbg_init: the browser entry (npm/browser-init.js) must follow the new wasm-bindgen glue"
  rm -rf "$stage" target/npm/edgekb-*.tgz
  mkdir -p "$stage/bin" "$stage/builder"
  cp npm/package.json npm/README.md npm/CHANGELOG.md npm/index.d.ts npm/build.d.ts npm/node.mjs npm/workerd.mjs \
     npm/build.mjs "$stage/"
  cp npm/bin/edgekb.mjs "$stage/bin/"
  cp pkg/edgekb_bg.wasm "$stage/"
  cp pkg/edgekb.js "$stage/glue.js"
  # The browser entry is the glue itself plus its initialisation, one file (and the .wasm).
  cat pkg/edgekb.js npm/browser-init.js > "$stage/edgekb.js"
  cp target/npm/builder-pkg/edgekb_build.js target/npm/builder-pkg/edgekb_build_bg.wasm "$stage/builder/"
  chmod +x "$stage/bin/edgekb.mjs"
  log "npm pack"
  (cd "$stage" && npm pack --quiet --pack-destination .. >/dev/null)
  ls target/npm/edgekb-*.tgz
}

cmd_build() { cmd_build_native; cmd_build_wasm; cmd_build_builder_wasm; cmd_package; }

sample_kb() {
  # A sample knowledge base: all 63,666 Debian package descriptions when ../shared/data is beside
  # the checkout, else the committed fixture. Written split (manifest.json + content-addressed
  # files) so the page loads it lazily, the way a real site would.
  local src=../shared/data/debian-packages.jsonl.gz docs
  mkdir -p target/sample
  if [ -f "$src" ]; then
    docs=target/sample/debian-packages.jsonl
    [ -s "$docs" ] || gzip -dc "$src" > "$docs"
  else
    docs=tests/fixtures/docs.jsonl
  fi
  rm -rf www/kb/sample
  ./target/release/edgekb build "$docs" --out www/kb/sample --split
}

cmd_demo() {
  cmd_build
  sample_kb
  # The page imports the engine from the npm package, as a site would: www/pkg/ is the packed
  # tarball unpacked (its browser entry edgekb.js and edgekb_bg.wasm).
  rm -rf www/pkg && mkdir -p www/pkg
  tar xzf target/npm/edgekb-*.tgz -C www/pkg --strip-components=1
  log "serving www/ (Ctrl-C to stop)"
  exec node scripts/serve.mjs www "${PORT:-8080}"
}

cmd_test() {
  cmd_build
  log "cargo fmt --check, cargo clippy and rustdoc (warnings are errors), benches compile"
  cargo fmt --check
  cargo clippy --quiet --all-targets -- -D warnings
  RUSTDOCFLAGS="-D warnings" cargo doc --quiet --no-deps --lib --document-private-items
  cargo bench --quiet --no-run
  log "cargo test"
  cargo test --quiet
  log "wasm in Node, Chromium and workerd; the npm package"
  node --test --test-concurrency=1 tests/js/*.test.mjs
}

cmd_bench() {
  # Natively on the Debian corpus beside the checkout (or the file given): build, size,
  # latency, typo/prefix rates (benches/corpus.rs), then the worst hostile query
  # (benches/hostile.rs). BENCHMARKS.md records their figures.
  cmd_build_native
  cargo bench --quiet --bench corpus -- "${@}"
  cargo bench --quiet --bench hostile -- "${@}"
  # The peers, on the same corpus and queries: the wasm package, the query sets (drawn once by
  # the browser benchmark), then scripts/bench-peers.mjs, which rewrites its section of
  # BENCHMARKS.md (between the bench-peers markers).
  cmd_build_wasm
  [ -f target/bench/queries-latency.jsonl ] && [ -f target/bench/queries-typo.jsonl ] ||
    node scripts/bench-browser.mjs --no-native
  node scripts/bench-peers.mjs --queries 300 --warm 200 --benchmarks BENCHMARKS.md
}

main() {
  local cmd=${1:-}
  shift || true
  case $cmd in
    setup) cmd_setup ;;
    build) cmd_setup; cmd_build ;;
    package) cmd_setup; cmd_build_builder_wasm; cmd_package ;;
    wasm)  cmd_setup; cmd_build_wasm ;;
    demo)  cmd_setup; cmd_demo ;;
    test)  cmd_setup; cmd_test ;;
    bench) cmd_setup; cmd_bench "$@" ;;
    *) sed -n '2,12p' "$0"; exit 2 ;;
  esac
}
main "$@"
