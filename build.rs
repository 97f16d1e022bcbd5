//! The search module's stack. Rust's wasm32 targets give a module a 1 MiB stack at the bottom of
//! its linear memory, which a page keeps for as long as the module lives; the search module (the
//! `binding` feature) needs far less (`tests/js/stack.test.mjs` measures its deepest use and
//! fails when that passes half the stack), so it is linked with `SEARCH_STACK_BYTES`, or
//! `EDGEKB_WASM_STACK_BYTES` when set (to measure another size). Native builds and the builder's
//! module keep their toolchain's stack.

const SEARCH_STACK_BYTES: u32 = 128 << 10;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=EDGEKB_WASM_STACK_BYTES");
    let wasm = std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("wasm32");
    let binding = std::env::var_os("CARGO_FEATURE_BINDING").is_some();
    if wasm && binding {
        let bytes = match std::env::var("EDGEKB_WASM_STACK_BYTES") {
            Ok(v) => v
                .parse::<u32>()
                .ok()
                .filter(|b| b % 16 == 0 && *b >= 16 << 10)
                .unwrap_or_else(|| {
                    panic!("EDGEKB_WASM_STACK_BYTES={v}: a multiple of 16, at least 16 KiB")
                }),
            Err(_) => SEARCH_STACK_BYTES,
        };
        println!("cargo:rustc-link-arg-cdylib=-zstack-size={bytes}");
    }
}
