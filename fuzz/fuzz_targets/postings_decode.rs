//! The postings, positions and stored-field decoders on their own, as they run on a byte range
//! fetched separately from the rest of an index.
//!
//! Input layout (see `fuzz/README.md`):
//! `df: u32 LE | doc_count: u32 LE | field_count: u8 | split: u16 LE | postings[..split] | tail`
//! where `field_count` is taken as `1 + byte % 16` and `tail` is used both as a positions stream
//! and as a store section.
#![no_main]

use edgekb::raw::{
    decode_positions, decode_postings, decode_postings_for, Block, Blocks, Columns, Layout, PostingList,
};
use edgekb::raw::{read_doc, Codec, StoreReader};
use libfuzzer_sys::fuzz_target;

const MAX_CHUNK: usize = 1 << 20;

fn check_postings(list: &PostingList, df: u32, doc_count: u32, field_count: usize) {
    // What `decode_postings` documents: ids ascend and stay below `doc_count`, masks stay
    // within `field_count` bits, frequencies are at least 1.
    assert_eq!(list.docs.len(), df as usize);
    assert_eq!(list.masks.len(), list.docs.len());
    assert_eq!(list.tf_start.len(), list.docs.len() + 1);
    assert!(list.docs.windows(2).all(|w| w[0] < w[1]), "ids do not ascend");
    assert!(list.docs.iter().all(|&d| d < doc_count), "id beyond doc_count");
    let allowed: u32 = (1u32 << field_count) - 1;
    for i in 0..list.len() {
        let m = list.masks[i] as u32;
        assert!(m != 0 && m & !allowed == 0, "mask {m:#x} for {field_count} fields");
        let tfs = list.tfs_of(i);
        assert_eq!(tfs.len(), m.count_ones() as usize);
        assert!(tfs.iter().all(|&t| t >= 1), "zero frequency");
    }
    assert_eq!(*list.tf_start.last().unwrap() as usize, list.tfs.len());
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 11 {
        return;
    }
    let df = u32::from_le_bytes(data[0..4].try_into().unwrap());
    let doc_count = u32::from_le_bytes(data[4..8].try_into().unwrap());
    let field_count = 1 + (data[8] % 16) as usize;
    let split = u16::from_le_bytes([data[9], data[10]]) as usize;
    let rest = &data[11..];
    let (postings, tail) = rest.split_at(split.min(rest.len()));

    for bytes in [postings, rest] {
        // Format 1 (no skip table), and candidates drawn from the tail: a partial list keeps
        // ids ascending, below doc_count, with masks and frequencies as documented.
        if let Ok(list) = decode_postings_for(bytes, df, doc_count, field_count, Layout::Blocks, None) {
            check_postings(&list, df, doc_count, field_count);
        }
        let mut candidates: Vec<u32> = tail.iter().map(|&b| b as u32 * 97 % doc_count.max(1)).collect();
        candidates.sort_unstable();
        candidates.dedup();
        for layout in [Layout::Skips, Layout::Impacts] {
            if let Ok(part) = decode_postings_for(bytes, df, doc_count, field_count, layout, Some(&candidates)) {
                assert!(part.docs.len() <= df as usize);
                assert!(part.docs.windows(2).all(|w| w[0] < w[1]), "ids do not ascend");
                assert!(part.docs.iter().all(|&d| d < doc_count), "id beyond doc_count");
                assert_eq!(part.tf_start.len(), part.docs.len() + 1);
            }
            // Block by block, as ranking reads them: any column set, any order of blocks.
            if let Ok(blocks) = Blocks::open(bytes, df, doc_count, field_count, layout) {
                let mut out = Block::default();
                for k in (0..blocks.len()).rev() {
                    let _ = blocks.impact(k);
                    let Ok((prev, last, range)) = blocks.entry(k) else { continue };
                    for columns in [Columns::Docs, Columns::Masks, Columns::All] {
                        if blocks.decode(k, range.start, prev, columns, &mut out).is_ok() {
                            assert!(out.docs.len() == blocks.block_len(k));
                            assert_eq!(out.docs.last(), Some(&last));
                            assert!(out.docs.windows(2).all(|w| w[0] < w[1]), "ids do not ascend");
                        }
                    }
                }
            }
        }
        if let Ok(list) = decode_postings(bytes, df, doc_count, field_count) {
            check_postings(&list, df, doc_count, field_count);
            for pos_bytes in [tail, bytes] {
                if let Ok(pos) = decode_positions(pos_bytes, &list) {
                    assert_eq!(pos.start.len(), list.tfs.len() + 1);
                    let total: u64 = list.tfs.iter().map(|&t| t as u64).sum();
                    assert_eq!(pos.positions.len() as u64, total);
                }
            }
        }
    }

    // The same tail as a store section (format 11's, whose deflate chunks may refer back into
    // a preset dictionary before them, when bit 7 of the field-count byte is set; else a
    // compact table when `field_count` is even, the fixed-width table of format 5 otherwise;
    // LZ4 chunks when `df` is even, deflate ones otherwise), with `field_count` stored fields.
    let version = match (data[8] & 0x80 != 0, field_count % 2 == 0) {
        (true, _) => 11,
        (false, true) => 6,
        (false, false) => 5,
    };
    let codec = if df % 2 == 0 { Codec::Lz4 } else { Codec::Deflate };
    if let Ok(store) = StoreReader::open(tail, version) {
        for i in 0..store.chunk_count().min(8) {
            let Ok(info) = store.chunk(i) else { continue };
            if let Ok(raw) = store.load_chunk(i, MAX_CHUNK, codec) {
                assert_eq!(raw.len(), info.raw_len as usize);
                for doc in info.first_doc..info.first_doc.saturating_add(8) {
                    if let Ok(d) = read_doc(&raw, info.first_doc, doc, field_count) {
                        assert_eq!(d.fields.len(), field_count);
                    }
                }
                // A document before the chunk is an error, not a panic.
                let _ = read_doc(&raw, info.first_doc, info.first_doc.wrapping_sub(1), field_count);
            }
        }
        for doc in [0, 1, df, doc_count, u32::MAX] {
            if let Ok(c) = store.chunk_of(doc) {
                assert!(c < store.chunk_count());
            }
        }
    }
});
