#!/usr/bin/env bash
# Runs every fuzz target (or the ones named) for SECONDS each (default 60), one after another,
# from the seed corpus. Exits non-zero if any target crashes, leaks past the memory limits, or
# still crashes on one of its saved regression inputs.
#
#   fuzz/run.sh                 # every target, 60 s each
#   fuzz/run.sh 300             # every target, 5 min each
#   fuzz/run.sh 30 query_parser # one target
#
# Needs `cargo +nightly` and cargo-fuzz (`cargo install cargo-fuzz --locked`). Extra libFuzzer
# flags can be passed in FUZZ_ARGS. One fuzzer process at a time: the machine is shared.
# EDGEKB_FUZZ_SKIP_KNOWN_BUGS=1 skips inputs that hit the bugs already found (see README.md) so
# the targets can fuzz past them; the saved regression inputs are still run without it.
set -uo pipefail

FUZZ=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SECONDS_PER_TARGET=${1:-60}
shift $(( $# > 0 ? 1 : 0 ))
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(open_and_search query_parser postings_decode split_search query_budget facets inflate lz4)
# -timeout: libFuzzer's default (1200 s) is longer than a run, so a hang would go unreported.
LIMITS=(-rss_limit_mb=2048 -malloc_limit_mb=512 -timeout=10 -jobs=1 -workers=1)
LOGS=$FUZZ/target/fuzz-logs   # git-ignored, like the rest of fuzz/target

cd "$FUZZ"
python3 seeds.py || { echo "run.sh: could not write the seed corpora" >&2; exit 2; }
cargo +nightly fuzz build || { echo "run.sh: the fuzz targets do not build" >&2; exit 2; }
failed=()
for t in "${TARGETS[@]}"; do
  mkdir -p "$LOGS/$t"
  # libFuzzer writes fuzz-0.log into the working directory when -jobs is given.
  cd "$LOGS/$t" || exit 2
  rm -f fuzz-*.log
  if compgen -G "$FUZZ/regressions/$t/*" >/dev/null; then
    echo "== $t: saved regression inputs"
    # Never with the known-bug switch: a saved input must pass on its own.
    if ! env -u EDGEKB_FUZZ_SKIP_KNOWN_BUGS cargo +nightly fuzz run --fuzz-dir "$FUZZ" "$t" \
        "$FUZZ/regressions/$t" -- -runs=0 "${LIMITS[@]:0:3}" >regressions.log 2>&1; then
      echo "   FAILED: an input in fuzz/regressions/$t still crashes (log: $LOGS/$t/regressions.log)"
      failed+=("$t (regression)")
    else
      echo "   ok"
    fi
  fi
  echo "== $t: fuzzing for ${SECONDS_PER_TARGET}s"
  cargo +nightly fuzz run --fuzz-dir "$FUZZ" "$t" -- -max_total_time="$SECONDS_PER_TARGET" \
      "${LIMITS[@]}" ${FUZZ_ARGS:-} >run.log 2>&1
  rc=$?
  grep -hE '^#[0-9]+[[:space:]]+DONE' fuzz-0.log run.log 2>/dev/null | tail -1 | sed 's/^/   /'
  if [ $rc -ne 0 ]; then
    echo "   FAILED (exit $rc): see $LOGS/$t/fuzz-0.log; inputs in $FUZZ/artifacts/$t/"
    grep -hE -A1 'panicked at|^SUMMARY|==ERROR' fuzz-0.log run.log 2>/dev/null \
      | awk '!seen[$0]++' | head -6 | sed 's/^/   /'
    failed+=("$t")
  fi
  cd "$FUZZ" || exit 2
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "run.sh: failed: ${failed[*]}" >&2
  exit 1
fi
echo "run.sh: every target ran ${SECONDS_PER_TARGET}s without a crash"
