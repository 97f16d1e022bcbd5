//! The JavaScript binding: a thin layer over the core, compiled only for `wasm32`.
//!
//! One file per JS class; errors become JS errors in one place ([`error`]); option values are
//! checked by the core ([`crate::lazy::options`]), requests planned and retried by it.

mod error;
mod io;
mod knowledge_base;
mod options;
mod remote;
mod value;

pub use knowledge_base::KnowledgeBase; // re-exported for rustdoc
