//! How do documents reach the builder? [`add_stream`] adds what a producer hands it, on three
//! threads where the machine has the cores, and [`add_jsonl`] reads JSON Lines through it.

#[cfg(not(target_arch = "wasm32"))]
use super::Analyzed;
use super::{Document, IndexBuilder};
#[cfg(not(target_arch = "wasm32"))]
use crate::error::Error;
use crate::error::Result;
#[cfg(not(target_arch = "wasm32"))]
use crate::store::StoreWriter;

/// Adds the documents that `produce` hands to its callback (`(document, location)`, the
/// location naming it in errors), in order. When the machine has more than one core, `produce`
/// and the analysis run on a second thread and the document store on a third (see
/// `add_threaded`); in WebAssembly, or on one core, each document is added as
/// [`IndexBuilder::add`] adds it. The index is the same byte for byte either way. The first
/// error stops the build and is returned, an error of `produce` or a document refused, whichever
/// comes first in input order; the documents before it are added. Returns the number added.
pub fn add_stream<P>(builder: &mut IndexBuilder, produce: P) -> Result<u32>
where
    P: FnOnce(&mut dyn FnMut(Document, String) -> Result<()>) -> Result<()> + Send,
{
    #[cfg(not(target_arch = "wasm32"))]
    if super::more_threads() {
        return add_threaded(builder, produce);
    }
    let mut added = 0;
    produce(&mut |doc, location| {
        builder.add(&doc, &location)?;
        added += 1;
        Ok(())
    })?;
    Ok(added)
}

/// Documents handed between threads at a time (fewer wake-ups than one by one).
#[cfg(not(target_arch = "wasm32"))]
const BATCH: usize = 64;

/// [`add_stream`] on three threads: `produce`, the checks and the analyzer (with the
/// vocabulary) on one; the postings, norms, hit display and facets on the caller's; and the
/// document store (its records, the preset dictionary's training and deflate, a fifth of a
/// build) on a third, which takes the stored values of each document in order. The analyzing
/// thread refuses a bad document before any table holds it and stops there, so the other two
/// never fail. A few batches are in flight at a time, so memory stays bounded.
#[cfg(not(target_arch = "wasm32"))]
fn add_threaded<P>(builder: &mut IndexBuilder, produce: P) -> Result<u32>
where
    P: FnOnce(&mut dyn FnMut(Document, String) -> Result<()>) -> Result<()> + Send,
{
    use std::sync::mpsc::sync_channel;
    type Batch = Vec<(Document, Analyzed)>;
    let mut analysis = (builder.analysis.take())
        .expect("the analysis is back in the builder once add_stream returns");
    let (tx, rx) = sync_channel::<Batch>(4);
    let (store_tx, store_rx) = sync_channel::<Vec<Vec<Vec<String>>>>(4);
    let mut store = std::mem::replace(
        &mut builder.store,
        StoreWriter::new(0, crate::store::Codec::Lz4),
    );
    std::thread::scope(|scope| {
        let producer = scope.spawn(move || {
            let mut batch = Batch::with_capacity(BATCH);
            // A closed channel: a thread after this one panicked (its join says so).
            let stopped = || Error::Io(std::io::Error::other("the build stopped"));
            let produced = produce(&mut |doc, location| {
                let analyzed = analysis.analyze(&doc, &location)?;
                batch.push((doc, analyzed));
                if batch.len() == BATCH {
                    let full = std::mem::replace(&mut batch, Batch::with_capacity(BATCH));
                    tx.send(full).map_err(|_| stopped())?;
                }
                Ok(())
            });
            // The last batch; after an error, the documents accepted before it, which are added
            // all the same, as `add` one by one would have added them.
            let _ = tx.send(batch);
            (analysis, produced)
        });
        let storer = scope.spawn(move || {
            for batch in store_rx {
                for stored in batch {
                    store.add(&stored);
                }
            }
            store
        });
        let mut added = 0;
        for batch in rx.iter() {
            added += batch.len() as u32;
            let stored = batch
                .iter()
                .map(|(doc, analyzed)| builder.add_analyzed(doc, analyzed));
            if store_tx.send(stored.collect()).is_err() {
                break;
            }
        }
        drop(rx);
        drop(store_tx);
        let joined = producer.join().and_then(|a| Ok((a, storer.join()?)));
        let ((analysis, produced), store) =
            joined.unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        builder.analysis = Some(analysis);
        builder.store = store;
        produced.map(|()| added)
    })
}

/// Reads JSON Lines into `builder`; `name` names the input in errors. Blank lines are skipped.
pub fn add_jsonl<R: std::io::BufRead + Send>(
    builder: &mut IndexBuilder,
    reader: R,
    name: &str,
) -> Result<u32> {
    let schema = builder.schema().clone();
    add_stream(builder, move |add| {
        for (i, line) in reader.lines().enumerate() {
            let line = line?;
            if line.trim().is_empty() {
                continue;
            }
            let location = format!("{name}:{}", i + 1);
            add(
                Document::from_json_line(&line, &schema, &location)?,
                location,
            )?;
        }
        Ok(())
    })
}
