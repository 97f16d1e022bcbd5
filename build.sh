#!/usr/bin/env bash
# edgekb's single entry point. Idempotent: every step is skipped when what it makes is there.
#
#   ./build.sh setup   install what is missing, at pinned versions
#   ./build.sh build   native CLI + wasm package (pkg/), prints the .wasm size raw and gzipped
#   ./build.sh demo    build, make a sample knowledge base, serve www/ on 127.0.0.1
#   ./build.sh test    every test: cargo test, then the wasm in Node, Chromium and workerd
#   ./build.sh bench   benchmark figures natively: corpus and hostile queries (see BENCHMARKS.md)
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
  # devDependencies from the committed lockfile: binaryen (wasm-opt), playwright-core, workerd.
  if [ -x node_modules/.bin/wasm-opt ] && [ -x node_modules/.bin/workerd ] &&
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
# The wasm build, through wasm-pack, with whichever Rust has a wasm32 std. Optimized for speed
# (opt-level 3, wasm-opt -O3): against opt-level "z"/-Oz it costs ~22 KB gzip and halves the
# gap to native latency (BENCHMARKS.md).
wasm_env() {
  if have_rustup_wasm32; then
    WASM_CARGO_ENV=(env CARGO_PROFILE_RELEASE_OPT_LEVEL=3 CARGO_PROFILE_RELEASE_PANIC=abort)
    WASM_PACK_MODE=normal
  else
    # Debian's Rust 1.96 with the std sources, rebuilding std for wasm32 (build-std).
    WASM_CARGO_ENV=(env CARGO_PROFILE_RELEASE_OPT_LEVEL=3 CARGO_PROFILE_RELEASE_PANIC=abort PATH="/usr/bin:$PATH" RUSTC_BOOTSTRAP=1 CARGO_UNSTABLE_BUILD_STD=std,panic_abort
                    CARGO_TARGET_DIR="$ROOT/target/wasm-debian")
    WASM_PACK_MODE=force
  fi
}

cmd_build_native() {
  log "cargo build --release (CLI)"
  cargo build --release --quiet --bin edgekb
}

cmd_build_wasm() {
  wasm_env
  log "wasm-pack build (--target web, mode $WASM_PACK_MODE)"
  "${WASM_CARGO_ENV[@]}" wasm-pack --quiet build --release --target web --mode "$WASM_PACK_MODE" \
      --out-dir pkg --out-name edgekb --no-opt -- --no-default-features
  local wasm=pkg/edgekb_bg.wasm
  [ -x node_modules/.bin/wasm-opt ] || die "node_modules/.bin/wasm-opt is missing: run ./build.sh setup"
  node_modules/.bin/wasm-opt -O3 --strip-debug --strip-producers --enable-bulk-memory --enable-nontrapping-float-to-int \
      --enable-sign-ext --enable-mutable-globals "$wasm" -o "$wasm.opt"
  mv "$wasm.opt" "$wasm"
  rm -f pkg/.gitignore
  local raw gz
  raw=$(stat -c %s "$wasm"); gz=$(gzip -9c "$wasm" | wc -c)
  printf 'edgekb .wasm: %d bytes raw, %d bytes gzip (%.1f KB / %.1f KB)\n' "$raw" "$gz" \
      "$(echo "$raw/1000" | bc -l)" "$(echo "$gz/1000" | bc -l)" | tee target/wasm-size.txt
  # Smoke-load the package in Node: a broken wasm-opt output would only show here.
  node --input-type=module -e "import {loadNode} from './js/node.mjs'; await loadNode(); console.log('wasm package loads in node')"
}

cmd_build() { cmd_build_native; cmd_build_wasm; }

sample_kb() {
  # A sample knowledge base: the first 5,000 Debian package descriptions when ../shared/data is
  # beside the checkout, else the committed fixture. Written split (manifest.json + content-
  # addressed files) so the page loads it lazily, the way a real site would.
  local src=../shared/data/debian-packages.jsonl.gz
  mkdir -p target/sample
  if [ -f "$src" ]; then
    [ -s target/sample/docs.jsonl ] || { gzip -dc "$src" || true; } | head -n 5000 > target/sample/docs.jsonl
  else
    cp tests/fixtures/docs.jsonl target/sample/docs.jsonl
  fi
  rm -rf www/kb/sample
  ./target/release/edgekb build target/sample/docs.jsonl --out www/kb/sample --split
}

cmd_demo() {
  cmd_build
  sample_kb
  rm -rf www/pkg && cp -r pkg www/pkg
  log "serving www/ (Ctrl-C to stop)"
  exec node scripts/serve.mjs www "${PORT:-8080}"
}

cmd_test() {
  cmd_build
  log "cargo fmt --check, cargo clippy (warnings are errors), benches compile"
  cargo fmt --check
  cargo clippy --quiet --all-targets -- -D warnings
  cargo bench --quiet --no-run
  log "cargo test"
  cargo test --quiet
  log "wasm in Node, Chromium and workerd"
  node --test --test-concurrency=1 tests/js/*.test.mjs
}

cmd_bench() {
  # Natively on the Debian corpus beside the checkout (or the file given): build, size,
  # latency, typo/prefix rates (benches/corpus.rs), then the worst hostile query
  # (benches/hostile.rs). BENCHMARKS.md records their figures.
  cmd_build_native
  cargo bench --quiet --bench corpus -- "${@}"
  cargo bench --quiet --bench hostile -- "${@}"
}

main() {
  local cmd=${1:-}
  shift || true
  case $cmd in
    setup) cmd_setup ;;
    build) cmd_setup; cmd_build ;;
    demo)  cmd_setup; cmd_demo ;;
    test)  cmd_setup; cmd_test ;;
    bench) cmd_setup; cmd_bench "$@" ;;
    *) sed -n '2,10p' "$0"; exit 2 ;;
  esac
}
main "$@"
