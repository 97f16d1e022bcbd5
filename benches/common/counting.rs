//! The system allocator, counting the bytes allocated now and at the peak, for the programs
//! that report memory (`benches/hostile.rs`, `examples/open_memory.rs`): figures, not the
//! library. Including this module installs it as the program's global allocator.
#![allow(dead_code)] // each program uses a part

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;
static NOW: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded unchanged to the system allocator; only counters are added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = NOW.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        NOW.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Bytes allocated now.
pub fn now() -> usize {
    NOW.load(Ordering::Relaxed)
}

/// The most bytes allocated at once since the last [`reset_peak`].
pub fn peak() -> usize {
    PEAK.load(Ordering::Relaxed)
}

/// Resets the peak to the bytes allocated now, and returns them.
pub fn reset_peak() -> usize {
    let now = now();
    PEAK.store(now, Ordering::Relaxed);
    now
}

/// Raises the peak to at least `bytes` (to carry an earlier peak across a reset).
pub fn keep_peak(bytes: usize) {
    PEAK.fetch_max(bytes, Ordering::Relaxed);
}
