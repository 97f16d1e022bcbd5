//! Shared by the targets that open index files.
//!
//! `EDGEKB_FUZZ_SKIP_KNOWN_BUGS=1` lets the fuzzer go past the bugs it already found (listed in
//! `fuzz/README.md`, inputs in `fuzz/regressions/`) until they are fixed, so it can look for
//! others. Without the variable nothing is skipped.
//!
//! Known bug 1: the `fst` crate trusts the bytes of a term dictionary and panics on a damaged
//! one. With the variable set, a panic raised inside the fst crate's own source is caught and
//! the input skipped; every other panic still aborts through libFuzzer's hook, with its stack
//! trace, as usual. (Known bug 2 is filtered in `split_search.rs`.)

use std::cell::Cell;
use std::panic;
use std::sync::OnceLock;

thread_local! {
    static FST_PANICKED: Cell<bool> = const { Cell::new(false) };
}

/// Whether inputs that hit a known bug are skipped.
pub fn skip_known_bugs() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("EDGEKB_FUZZ_SKIP_KNOWN_BUGS").is_some_and(|v| v != "0"))
}

/// Whether known fst panics are skipped; installs the filtering panic hook once.
fn ignore_fst_panics() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| {
        let on = skip_known_bugs();
        if on {
            let fuzzer_hook = panic::take_hook(); // libfuzzer-sys's: prints and aborts
            panic::set_hook(Box::new(move |info| {
                let in_fst = info
                    .location()
                    .is_some_and(|l| l.file().contains("/fst-0.4."));
                if in_fst {
                    FST_PANICKED.set(true);
                } else {
                    fuzzer_hook(info);
                }
            }));
        }
        on
    })
}

/// Runs `f`, skipping the input if it hits the known fst panic and the variable is set.
pub fn run_guarded(f: impl FnOnce() + panic::UnwindSafe) {
    if ignore_fst_panics() {
        if panic::catch_unwind(f).is_err() {
            assert!(
                FST_PANICKED.replace(false),
                "a panic outside fst got past the hook"
            );
        }
    } else {
        f();
    }
}
