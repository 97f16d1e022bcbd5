//! A bounds-checked validation of an `fst` byte image (the term dictionary) before
//! [`fst::Map`] is allowed to traverse it.
//!
//! The `fst` crate (0.4) trusts its bytes: `Map::new` reads the version and the footer and
//! nothing else, so a damaged node is only noticed when a lookup or a stream decodes it, by an
//! out-of-bounds slice, a failed `assert!` in `unpack_uint`, an address subtraction that
//! underflows or an output sum that overflows. [`check`] decodes every node reachable from the
//! root with reads that are all checked, and refuses anything that would make the crate panic.
//!
//! # The format, as `fst` 0.4.7 writes and reads it
//!
//! ```text
//! 0        8        16                                  root      +8      +16     +20
//! | version | type  | nodes ...                       | root node | n keys | root  | crc32c |
//! ```
//!
//! All integers are little-endian. The footer holds the number of keys and the *root address*;
//! version 3 adds a checksum (versions 1 and 2 end at the root address). A node's address is
//! the address of its **last** byte; its fields are read downwards from there, so a node
//! occupies `end..=addr`. Nodes are written bottom-up, each after the nodes it points to, so
//! every transition points to a lower address, and the root is the last node: it ends 21
//! bytes (17 before version 3) before the end of the image. Address 0 is not a real node but
//! the "empty final" state: final, no transitions, output 0 (a map whose only key is the empty
//! key with output 0 has root address 0 and no nodes at all).
//!
//! The last byte of a node (its *state byte*) gives its kind in its two high bits:
//!
//! - `11`: one transition to the node that ends just before this one, output 0. The low six
//!   bits are a "common input" code; 0 means the input byte is stored just below.
//! - `10`: one transition. Below the state byte: the input byte if the code is 0, then a
//!   *pack sizes* byte (high nibble: bytes of the address delta, low nibble: bytes of the
//!   output, 0 for "output 0"), then the delta, then the output.
//! - `0f`: any number of transitions, `f` the final flag. The low six bits are the number of
//!   transitions; 0 means it is stored in the byte below (where 1 stands for 256). Then, going
//!   down: the pack sizes byte, a 256-byte table from input byte to transition number (version
//!   2 and later, more than 32 transitions), the inputs (transition 0 highest), the address
//!   deltas, the outputs, and the final output (final nodes with a nonzero output size).
//!
//! A transition's target is `end - delta` (`end` being the node's lowest byte), or address 0
//! when the delta is 0. Values are packed in 1 to 8 bytes; a width of 0 is legal only for an
//! output ("every output is 0") or for the addresses of a node without transitions.
//!
//! # What [`check`] establishes
//!
//! Beyond every read being in bounds, it checks the facts `fst`'s traversals rely on without
//! checking them: transitions point strictly backwards (so every walk ends), inputs are sorted
//! and the input table agrees with them (so `get`, `range` and streams agree), no sum of
//! outputs along a path overflows a `u64` (`Output::cat` adds without checking), and the key
//! count in the footer is the real number of keys (`Map::len`).
//!
//! # How: a walk, or a sweep
//!
//! It first follows every path from the root, depth first ([`Image::walk`]): one frame per
//! byte of the current key, nothing per node, so checking a dictionary while the whole index
//! sits in wasm memory adds a few kilobytes to it, not a megabyte. The paths are the distinct
//! prefixes of the keys, fewer than the image's bytes for a dictionary of words; an image with
//! many times more (keys sharing long suffixes), keys of over [`WALK_DEPTH`] bytes, or nodes
//! from which no key can be reached is swept instead, node by node from the root downwards
//! ([`Image::reachable`], [`Image::key_count`]), in time proportional to its length and with
//! 8 bytes of memory per node. Both check the same facts; the tests compare them.
#![forbid(unsafe_code)]

/// Version and type, two `u64`s, precede the first node.
const HEADER_LEN: usize = 16;
/// The newest format version `fst` 0.4.7 reads.
const MAX_VERSION: u64 = 3;
/// Nodes with more transitions than this carry a 256-byte input table (version 2 and later).
const TABLE_THRESHOLD: usize = 32;
const TABLE_LEN: usize = 256;
/// Paths from the root, per byte of the image, that [`Image::walk`] follows before it leaves
/// the image to the sweep. There is one path per distinct prefix of a key: a dictionary of
/// words has fewer than bytes (Debian's 340,756 in 754,722 bytes), keys that share long
/// suffixes can have many more.
const WALK_BUDGET: usize = 8;
/// The longest key [`Image::walk`] follows (its frames are ~100 bytes each); edgekb's terms
/// are at most 64 bytes, its facet values 256.
const WALK_DEPTH: usize = 1024;

/// Validates the `fst` image `bytes` (a whole `fst::Map`/`fst::Set`, header to checksum).
///
/// Contract: never panics, for any input; runs in O(`bytes.len()`) time. Memory: first a walk
/// of every path from the root ([`Image::walk`]), which holds one frame per byte of the key
/// being walked, within [`WALK_BUDGET`] paths per byte of the image; a dictionary of words
/// needs no more. Only an image whose paths exceed that budget, whose keys are longer than
/// [`WALK_DEPTH`] or whose nodes may lead to no key is checked by a sweep of its nodes
/// instead, which holds a bitmap and a rank table of `bytes.len()` bits each and 8 bytes per
/// node reachable from the root (16 when a node's key count or output sum does not fit in 32
/// bits).
/// When it returns `Ok(())`, `fst::Map::new(bytes)` succeeds and no operation of the map
/// (`get`, `contains_key`, `get_key`, `stream`, `range`, `search` with any automaton, set
/// operations) can panic or loop: every node it can reach decodes within the buffer, every walk
/// is finite, output sums fit in a `u64`, and `len()` is the number of keys. `Err` carries a
/// description of the first problem found.
///
/// It does not verify `fst`'s own checksum (edgekb checks a CRC32 of the whole section), nor
/// anything about the values: a caller that uses an output as an ordinal must still bound it,
/// and must compare `len()` with its own count. The number of keys can be exponential in the
/// size of a (crafted) image, so an unbounded stream is bounded by `len()`, not by the size.
pub(crate) fn check(bytes: &[u8]) -> Result<(), String> {
    let footer = Footer::read(bytes)?;
    let fst = Image {
        bytes,
        version: footer.version,
        root: footer.root,
    };
    let keys = if footer.root == 0 {
        1 // the empty-final root: the map {"" → 0}
    } else {
        match fst.walk(footer.keys)? {
            Some(keys) => keys,
            None => {
                let reachable = fst.reachable()?;
                fst.key_count(&reachable)?
            }
        }
    };
    if keys != footer.keys {
        return Err(format!(
            "fst footer says {} keys, the nodes hold {keys}",
            footer.keys
        ));
    }
    if usize::try_from(keys).is_err() {
        return Err(format!(
            "fst has {keys} keys, more than this platform can count"
        ));
    }
    Ok(())
}

struct Footer {
    version: u64,
    root: usize,
    keys: u64,
}

impl Footer {
    /// Reads the version and the footer, with the conditions `fst::raw::Fst::new` applies
    /// (the length test there only bites for root address 0; here it is applied always).
    fn read(bytes: &[u8]) -> Result<Footer, String> {
        let len = bytes.len();
        // `Fst::new` refuses fewer than 36 bytes (even for versions without a checksum).
        if len < 36 {
            return Err(format!(
                "fst of {len} bytes is shorter than its header and footer"
            ));
        }
        let version = u64_at(bytes, 0)?;
        if version == 0 || version > MAX_VERSION {
            return Err(format!("fst version {version} is not 1 to {MAX_VERSION}"));
        }
        let (end, root_offset) = if version >= 3 {
            (len - 4, 21)
        } else {
            (len, 17)
        };
        let root = u64_at(bytes, end - 8)?;
        let keys = u64_at(bytes, end - 16)?;
        if root == 0 {
            // Only a version-3 image of exactly header + footer may have no nodes.
            if version < 3 || len != 36 {
                return Err(format!("fst of {len} bytes has root address 0"));
            }
            return Ok(Footer {
                version,
                root: 0,
                keys,
            });
        }
        let expected = len - root_offset;
        if root != expected as u64 {
            return Err(format!("fst root address {root}, expected {expected}"));
        }
        Ok(Footer {
            version,
            root: expected,
            keys,
        })
    }
}

fn u64_at(bytes: &[u8], at: usize) -> Result<u64, String> {
    let b = at
        .checked_add(8)
        .and_then(|e| bytes.get(at..e))
        .ok_or_else(|| format!("fst: 8 bytes at {at} are out of bounds"))?;
    let mut le = [0u8; 8];
    le.copy_from_slice(b);
    Ok(u64::from_le_bytes(le))
}

/// `a - b`, or an error naming the node that would extend below address 0.
fn below(a: usize, b: usize, node: usize) -> Result<usize, String> {
    a.checked_sub(b)
        .ok_or_else(|| format!("fst node at {node} extends below address 0"))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// One transition to the node just below, output 0.
    Next,
    /// One transition with its own delta and output.
    One,
    /// Any number of transitions, possibly final.
    Any,
}

/// One node's layout, decoded and bounds-checked. All positions lie within `end..=addr`.
struct Node {
    addr: usize,
    kind: Kind,
    /// The node's lowest byte.
    end: usize,
    is_final: bool,
    final_output: u64,
    ntrans: usize,
    /// Bytes per address delta and per output.
    tsize: usize,
    osize: usize,
    /// Input `i` is the byte at `inputs_top - 1 - i` (`Any` only; also the input table's start).
    inputs_top: usize,
    /// Delta `i` is packed in the `tsize` bytes just below `deltas_top - i * tsize`.
    deltas_top: usize,
    /// Output `i` is packed in the `osize` bytes just below `outputs_top - i * osize`.
    outputs_top: usize,
    has_table: bool,
}

struct Image<'a> {
    bytes: &'a [u8],
    version: u64,
    root: usize,
}

impl Image<'_> {
    fn byte(&self, at: usize) -> Result<u8, String> {
        self.bytes
            .get(at)
            .copied()
            .ok_or_else(|| format!("fst: byte {at} is out of bounds"))
    }

    /// A little-endian integer of `n` (1 to 8) bytes starting at `at`.
    fn uint(&self, at: usize, n: usize) -> Result<u64, String> {
        if !(1..=8).contains(&n) {
            return Err(format!("fst: integer width {n} at {at}"));
        }
        let b = at
            .checked_add(n)
            .and_then(|e| self.bytes.get(at..e))
            .ok_or_else(|| format!("fst: {n} bytes at {at} are out of bounds"))?;
        Ok(b.iter().rev().fold(0u64, |v, &x| (v << 8) | u64::from(x)))
    }

    /// Decodes the layout of the node at `addr` (not 0), checking that it lies between the
    /// header and the root and that its pack sizes are ones `fst` can unpack.
    fn node(&self, addr: usize) -> Result<Node, String> {
        if addr < HEADER_LEN || addr > self.root {
            return Err(format!(
                "fst node address {addr} is outside {HEADER_LEN}..={}",
                self.root
            ));
        }
        let state = self.byte(addr)?;
        let mut n = Node {
            addr,
            kind: Kind::Any,
            end: addr,
            is_final: false,
            final_output: 0,
            ntrans: 1,
            tsize: 0,
            osize: 0,
            inputs_top: addr,
            deltas_top: addr,
            outputs_top: addr,
            has_table: false,
        };
        let input_len = usize::from(state & 0b0011_1111 == 0);
        match state >> 6 {
            0b11 => {
                n.kind = Kind::Next;
                n.end = below(addr, input_len, addr)?;
            }
            0b10 => {
                n.kind = Kind::One;
                let sizes_at = below(addr, input_len + 1, addr)?;
                let sizes = self.byte(sizes_at)?;
                n.tsize = usize::from(sizes >> 4);
                n.osize = usize::from(sizes & 0x0f);
                if !(1..=8).contains(&n.tsize) || n.osize > 8 {
                    return Err(format!("fst node at {addr}: pack sizes {sizes:#04x}"));
                }
                n.deltas_top = sizes_at;
                n.outputs_top = below(sizes_at, n.tsize, addr)?;
                n.end = below(n.outputs_top, n.osize, addr)?;
            }
            _ => {
                n.is_final = state & 0b0100_0000 != 0;
                let (ntrans, ntrans_len) = match usize::from(state & 0b0011_1111) {
                    0 => match self.byte(below(addr, 1, addr)?)? {
                        1 => (256, 1), // 1 transition would fit in the state byte
                        k => (usize::from(k), 1),
                    },
                    k => (k, 0),
                };
                n.ntrans = ntrans;
                let sizes_at = below(addr, ntrans_len + 1, addr)?;
                let sizes = self.byte(sizes_at)?;
                n.tsize = usize::from(sizes >> 4);
                n.osize = usize::from(sizes & 0x0f);
                // Address deltas need 1 to 8 bytes as soon as there is a transition.
                let tsize_ok = if ntrans == 0 {
                    n.tsize == 0
                } else {
                    (1..=8).contains(&n.tsize)
                };
                if !tsize_ok || n.osize > 8 {
                    return Err(format!(
                        "fst node at {addr}: pack sizes {sizes:#04x} for {ntrans} transitions"
                    ));
                }
                n.has_table = self.version >= 2 && ntrans > TABLE_THRESHOLD;
                n.inputs_top = below(sizes_at, if n.has_table { TABLE_LEN } else { 0 }, addr)?;
                n.deltas_top = below(n.inputs_top, ntrans, addr)?;
                n.outputs_top = below(n.deltas_top, ntrans * n.tsize, addr)?;
                let outputs_end = below(n.outputs_top, ntrans * n.osize, addr)?;
                n.end = outputs_end;
                if n.is_final && n.osize > 0 {
                    n.end = below(outputs_end, n.osize, addr)?;
                    n.final_output = self.uint(n.end, n.osize)?;
                }
                n.kind = Kind::Any;
            }
        }
        if n.end < HEADER_LEN {
            return Err(format!(
                "fst node at {addr} starts at {}, inside the header",
                n.end
            ));
        }
        Ok(n)
    }

    /// Input byte of transition `i` of an `Any` node.
    fn input(&self, n: &Node, i: usize) -> Result<u8, String> {
        self.byte(below(n.inputs_top, i + 1, n.addr)?)
    }

    /// Output and target address of transition `i < n.ntrans`.
    fn transition(&self, n: &Node, i: usize) -> Result<(u64, usize), String> {
        let (output, target) = if n.kind == Kind::Next {
            (0, below(n.end, 1, n.addr)?)
        } else {
            self.packed_transition(n, i)?
        };
        if target != 0 && target < HEADER_LEN {
            return Err(format!(
                "fst node at {}: transition {i} to {target}",
                n.addr
            ));
        }
        Ok((output, target))
    }

    /// Output and target of transition `i` of a `One` or `Any` node.
    fn packed_transition(&self, n: &Node, i: usize) -> Result<(u64, usize), String> {
        let delta_at = below(n.deltas_top, (i + 1) * n.tsize, n.addr)?;
        let delta = self.uint(delta_at, n.tsize)?;
        let output = if n.osize == 0 {
            0
        } else {
            self.uint(below(n.outputs_top, (i + 1) * n.osize, n.addr)?, n.osize)?
        };
        let target = if delta == 0 {
            0 // the empty-final state
        } else {
            match usize::try_from(delta)
                .ok()
                .and_then(|d| n.end.checked_sub(d))
            {
                Some(t) => t,
                None => {
                    return Err(format!(
                        "fst node at {}: transition {i} jumps {delta} bytes back from {}",
                        n.addr, n.end
                    ))
                }
            }
        };
        Ok((output, target))
    }

    /// Checks the inputs of an `Any` node: strictly increasing, and the input table (if any)
    /// maps exactly the inputs to their transition numbers.
    fn check_inputs(&self, n: &Node) -> Result<(), String> {
        if n.kind != Kind::Any {
            return Ok(());
        }
        let mut previous: Option<u8> = None;
        for i in 0..n.ntrans {
            let b = self.input(n, i)?;
            if previous.is_some_and(|p| p >= b) {
                return Err(format!(
                    "fst node at {}: inputs out of order at {i}",
                    n.addr
                ));
            }
            previous = Some(b);
        }
        if n.has_table {
            let mut mapped = 0;
            for b in 0..TABLE_LEN {
                let i = usize::from(self.byte(n.inputs_top + b)?);
                if i < n.ntrans {
                    if usize::from(self.input(n, i)?) != b {
                        return Err(format!(
                            "fst node at {}: input table sends byte {b} to transition {i}",
                            n.addr
                        ));
                    }
                    mapped += 1;
                }
            }
            // Inputs are distinct, so `mapped` entries name `mapped` distinct transitions.
            if mapped != n.ntrans {
                return Err(format!(
                    "fst node at {}: input table maps {mapped} of {} transitions",
                    n.addr, n.ntrans
                ));
            }
        }
        Ok(())
    }

    /// Counts the keys by following every path from the root, depth first, and checks every
    /// node each path reaches (its layout, its inputs, its transitions) and every output sum
    /// along the way. It holds one frame per byte of the key being walked and nothing per node,
    /// which is what makes an open of a whole index cost no more memory than its bytes.
    ///
    /// `Ok(None)`, and the caller sweeps the nodes instead (in time proportional to the
    /// image), when the paths exceed [`WALK_BUDGET`] per byte of the image, when a key is
    /// longer than [`WALK_DEPTH`], or when some node leads to no key: each path is a distinct
    /// prefix of some key when every node leads to a final state (as in every image `fst`
    /// writes), so the paths walked so far never exceed one (the root) plus the lengths of the
    /// keys found plus the depth, and a walk that exceeds that is wandering through dead ends,
    /// possibly exponentially many. Every error it returns the sweep would return too.
    fn walk(&self, most_keys: u64) -> Result<Option<u64>, String> {
        struct Frame {
            node: Node,
            next: usize,
            sum: u64,
        }
        let budget = WALK_BUDGET
            .saturating_mul(self.bytes.len())
            .saturating_add(WALK_DEPTH) as u64;
        let root = self.node(self.root)?;
        self.check_inputs(&root)?;
        // A final root is the empty key, whose output is its final output alone: no sum.
        let (mut keys, mut key_bytes, mut paths) = (u64::from(root.is_final), 0u64, 1u64);
        let mut stack = vec![Frame {
            node: root,
            next: 0,
            sum: 0,
        }];
        let overflow =
            |addr: usize| format!("fst node at {addr}: outputs along a path overflow a u64");
        while let Some(top) = stack.last_mut() {
            if top.next == top.node.ntrans {
                stack.pop();
                continue;
            }
            let i = top.next;
            top.next += 1;
            let (output, target) = self.transition(&top.node, i)?;
            let sum = top
                .sum
                .checked_add(output)
                .ok_or_else(|| overflow(top.node.addr))?;
            // The new path's length: the root's frame is at depth 0.
            let depth = stack.len() as u64;
            if stack.len() > WALK_DEPTH {
                return Ok(None);
            }
            paths += 1;
            if paths > budget {
                return Ok(None);
            }
            let node = match target {
                0 => None, // the empty-final state: a key, nothing to decode
                t => {
                    let n = self.node(t)?;
                    self.check_inputs(&n)?;
                    Some(n)
                }
            };
            let is_final = node.as_ref().is_none_or(|n| n.is_final);
            if is_final {
                let last = node.as_ref().map_or(0, |n| n.final_output);
                sum.checked_add(last).ok_or_else(|| overflow(target))?;
                keys += 1;
                key_bytes += depth;
                if keys > most_keys {
                    return Err(format!(
                        "fst footer says {most_keys} keys, the nodes hold more"
                    ));
                }
            }
            if paths > 1 + key_bytes + depth {
                return Ok(None); // nodes that lead to no key: `fst` never writes them
            }
            if let Some(node) = node {
                stack.push(Frame { node, next: 0, sum });
            }
        }
        Ok(Some(keys))
    }

    /// Marks every node reachable from the root, validating each once. Transitions point to
    /// lower addresses, so a sweep from the root downwards reaches every node after all the
    /// nodes that point to it: no stack, no recursion. Nodes must not overlap (they never do in
    /// a written fst), which bounds the decoding work by the image's length.
    fn reachable(&self) -> Result<Bitmap, String> {
        let mut marks = Bitmap::new(self.root + 1);
        marks.set(self.root);
        // Everything at or above `floor` belongs to a node already decoded.
        let mut floor = self.root + 1;
        let mut cursor = Some(self.root);
        while let Some(addr) = cursor.and_then(|c| marks.last_at_or_below(c)) {
            cursor = addr.checked_sub(1);
            if addr == 0 {
                break; // the empty-final state: nothing to decode
            }
            if addr >= floor {
                return Err(format!(
                    "fst: a transition points to {addr}, inside another node"
                ));
            }
            let n = self.node(addr)?;
            floor = n.end;
            self.check_inputs(&n)?;
            for i in 0..n.ntrans {
                let (_, target) = self.transition(&n, i)?;
                // Targets are below `n.end` (or 0), hence below `addr`: still to be swept.
                marks.set(target);
            }
        }
        Ok(marks)
    }

    /// Counts the keys, and checks that no path's output sum overflows, from the lowest node
    /// up (children first): for each node, the number of final states reachable from it and
    /// the largest output sum of a walk from it (counting a final output where it ends).
    fn key_count(&self, marks: &Bitmap) -> Result<u64, String> {
        // Every edgekb dictionary fits in 32-bit counts (8 bytes per node); a 64-bit pass (16
        // bytes per node) runs only when some count or sum does not.
        match self.key_count_as::<u32>(marks)? {
            Some(keys) => Ok(keys),
            None => self
                .key_count_as::<u64>(marks)?
                .ok_or_else(|| "fst: counts do not fit in 64 bits".to_string()),
        }
    }

    /// [`Image::key_count`] keeping each node's (keys, largest output sum) as a `T`; `None` when
    /// a value does not fit in `T`.
    fn key_count_as<T: Copy + TryFrom<u64> + Into<u64>>(
        &self,
        marks: &Bitmap,
    ) -> Result<Option<u64>, String> {
        let ranks = marks.ranks();
        // (keys, largest output sum) per reachable node, in address order.
        let mut below_nodes: Vec<(T, T)> = Vec::with_capacity(marks.count());
        let narrow = |v: u64| T::try_from(v).ok();
        let mut cursor = Some(0);
        while let Some(addr) = cursor.and_then(|c| marks.first_at_or_above(c)) {
            cursor = addr.checked_add(1);
            if addr == 0 {
                let (Some(one), Some(zero)) = (narrow(1), narrow(0)) else {
                    return Ok(None);
                };
                below_nodes.push((one, zero));
                continue;
            }
            let n = self.node(addr)?;
            let mut keys = u64::from(n.is_final);
            let mut most = n.final_output;
            for i in 0..n.ntrans {
                let (output, target) = self.transition(&n, i)?;
                let &(k, m) = below_nodes
                    .get(marks.rank(&ranks, target))
                    .filter(|_| target < addr && marks.contains(target))
                    .ok_or_else(|| format!("fst node at {addr}: target {target} not decoded"))?;
                keys = keys
                    .checked_add(k.into())
                    .ok_or_else(|| format!("fst: more than 2^64 keys below node {addr}"))?;
                let sum = output.checked_add(m.into()).ok_or_else(|| {
                    format!("fst node at {addr}: outputs along a path overflow a u64")
                })?;
                most = most.max(sum);
            }
            let (Some(k), Some(m)) = (narrow(keys), narrow(most)) else {
                return Ok(None);
            };
            below_nodes.push((k, m));
        }
        below_nodes
            .last()
            .map(|&(k, _)| Some(k.into()))
            .ok_or_else(|| "fst: the root was not visited".to_string())
    }
}

/// A set of addresses `0..len`, one bit each.
struct Bitmap {
    words: Vec<u64>,
}

impl Bitmap {
    fn new(len: usize) -> Bitmap {
        Bitmap {
            words: vec![0; len.div_ceil(64)],
        }
    }

    /// Adds `i` (ignored when out of range; callers only pass checked addresses).
    fn set(&mut self, i: usize) {
        if let Some(w) = self.words.get_mut(i / 64) {
            *w |= 1 << (i % 64);
        }
    }

    fn contains(&self, i: usize) -> bool {
        self.words
            .get(i / 64)
            .is_some_and(|w| w & (1 << (i % 64)) != 0)
    }

    fn count(&self) -> usize {
        self.words.iter().map(|w| w.count_ones() as usize).sum()
    }

    /// The largest member `<= i`.
    fn last_at_or_below(&self, i: usize) -> Option<usize> {
        let mut w = i / 64;
        let mut word = *self.words.get(w)? & (u64::MAX >> (63 - i % 64));
        loop {
            if word != 0 {
                return Some(w * 64 + 63 - word.leading_zeros() as usize);
            }
            w = w.checked_sub(1)?;
            word = self.words[w];
        }
    }

    /// The smallest member `>= i`.
    fn first_at_or_above(&self, i: usize) -> Option<usize> {
        let mut w = i / 64;
        let mut word = *self.words.get(w)? & (u64::MAX << (i % 64));
        loop {
            if word != 0 {
                return Some(w * 64 + word.trailing_zeros() as usize);
            }
            w += 1;
            word = *self.words.get(w)?;
        }
    }

    /// Members before each word.
    fn ranks(&self) -> Vec<usize> {
        let mut before = 0;
        self.words
            .iter()
            .map(|w| {
                let r = before;
                before += w.count_ones() as usize;
                r
            })
            .collect()
    }

    /// The number of members below `i`.
    fn rank(&self, ranks: &[usize], i: usize) -> usize {
        match (ranks.get(i / 64), self.words.get(i / 64)) {
            (Some(&r), Some(&w)) => r + (w & ((1u64 << (i % 64)) - 1)).count_ones() as usize,
            _ => usize::MAX,
        }
    }
}

/// The `fst` release whose format this checker reads (`Cargo.toml` pins it exactly; a test
/// fails when the lock file moves to another, until the format is read again against it).
#[cfg(test)]
pub(crate) const WRITTEN_AGAINST: &str = "0.4.7";

#[cfg(test)]
mod tests {
    #[test]
    fn the_locked_fst_is_the_release_this_checker_reads() {
        let lock = include_str!("../Cargo.lock");
        let at = lock.find("name = \"fst\"\n").expect("fst in Cargo.lock");
        let version = lock[at..]
            .lines()
            .nth(1)
            .and_then(|l| l.strip_prefix("version = \""))
            .and_then(|l| l.strip_suffix('"'))
            .expect("a version line after the name");
        assert_eq!(
            version,
            super::WRITTEN_AGAINST,
            "fst moved: check src/fstcheck.rs against its format before updating the pin"
        );
        let toml = include_str!("../Cargo.toml");
        assert!(toml.contains(&format!(
            "fst = {{ version = \"={}\"",
            super::WRITTEN_AGAINST
        )));
    }

    use std::collections::BTreeMap;
    use std::panic::{catch_unwind, AssertUnwindSafe};
    use std::path::PathBuf;

    use fst::automaton::{Levenshtein, Str, Subsequence};
    use fst::{Automaton, IntoStreamer, Map, MapBuilder, Streamer};
    use proptest::prelude::*;

    use super::check;

    type Entries = BTreeMap<Vec<u8>, u64>;

    fn build(entries: &Entries) -> Vec<u8> {
        let mut b = MapBuilder::memory();
        for (k, v) in entries {
            b.insert(k, *v).unwrap();
        }
        b.into_inner().unwrap()
    }

    fn stream_all(map: &Map<&[u8]>) -> Vec<(Vec<u8>, u64)> {
        let mut out = Vec::new();
        let mut s = map.into_stream();
        while let Some((k, v)) = s.next() {
            out.push((k.to_vec(), v));
        }
        out
    }

    thread_local! {
        /// Images [`accepted_never_panics`] saw the walk decide (on this test's thread).
        static WALKED: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
    }

    /// The two ways [`check`] counts keys agree on `bytes`: a count the walk gives is the
    /// sweep's, and an error of the walk is one of the sweep's or a count the footer does not
    /// match (the sweep alone refuses nodes that overlap, which do not endanger `fst` and which
    /// the walk does not look for). Returns whether the walk decided.
    fn walk_agrees_with_sweep(bytes: &[u8]) -> bool {
        let Ok(footer) = super::Footer::read(bytes) else {
            return false;
        };
        if footer.root == 0 {
            return false;
        }
        let image = super::Image {
            bytes,
            version: footer.version,
            root: footer.root,
        };
        let swept = image.reachable().and_then(|m| image.key_count(&m));
        match image.walk(footer.keys) {
            Ok(None) => false,
            Ok(Some(k)) => {
                match swept {
                    Ok(s) => assert_eq!(s, k, "{bytes:02x?}"),
                    Err(e) => assert!(e.contains("inside another node"), "walk {k}, sweep {e}"),
                }
                true
            }
            Err(e) => {
                assert!(
                    !matches!(swept, Ok(s) if s == footer.keys),
                    "walk {e}, sweep accepts"
                );
                true
            }
        }
    }

    /// A written map passes, and streaming it after the check gives back its entries.
    fn assert_accepted(entries: &Entries) {
        let bytes = build(entries);
        walk_agrees_with_sweep(&bytes);
        if let Err(e) = check(&bytes) {
            panic!("valid fst of {} keys refused: {e}", entries.len());
        }
        let map = Map::new(&bytes[..]).unwrap();
        let want: Vec<(Vec<u8>, u64)> = entries.iter().map(|(k, v)| (k.clone(), *v)).collect();
        assert_eq!(stream_all(&map), want);
        assert_eq!(map.len(), entries.len());
    }

    fn key() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..12),
            // Shared prefixes and suffixes.
            proptest::collection::vec(prop::sample::select(b"ab".to_vec()), 0..16),
            proptest::collection::vec(prop::sample::select(b"abcdefghij".to_vec()), 1..8),
            // Wide nodes (more than 32 transitions get an input table).
            proptest::collection::vec(any::<u8>(), 1..3),
            // Long keys.
            proptest::collection::vec(any::<u8>(), 100..400),
        ]
    }

    fn value() -> impl Strategy<Value = u64> {
        prop_oneof![
            Just(0u64),
            0..1000u64,
            any::<u64>(),
            (1u64 << 56)..=u64::MAX,
            Just(u64::MAX),
        ]
    }

    fn entries(max: usize) -> impl Strategy<Value = Entries> {
        proptest::collection::btree_map(key(), value(), 0..max)
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 600, ..ProptestConfig::default() })]

        #[test]
        fn written_maps_are_accepted(e in entries(300)) {
            assert_accepted(&e);
        }
    }

    #[test]
    fn edge_cases_are_accepted() {
        let mut e = Entries::new();
        assert_accepted(&e); // empty map: a root without transitions
        e.insert(Vec::new(), 0);
        assert_accepted(&e); // {"" → 0}: root address 0, no nodes
        e.insert(Vec::new(), u64::MAX);
        assert_accepted(&e); // {"" → max}: a final root with an output
        let single = Entries::from([(b"a".to_vec(), 7)]);
        assert_accepted(&single);
        let all_bytes: Entries = (0..=255u8).map(|b| (vec![b], u64::from(b) << 56)).collect();
        assert_accepted(&all_bytes); // 256 transitions (count stored as 1), with an input table
        let wide: Entries = (0..=255u8).step_by(3).map(|b| (vec![b, b], 1)).collect();
        assert_accepted(&wide);
        let long = Entries::from([
            (vec![b'x'; 5000], 1),
            (vec![b'x'; 5001], 2),
            (vec![b'y'; 3], 3),
        ]);
        assert_accepted(&long);
        let words: Entries = (0..5000u64)
            .map(|i| (format!("w{i:07}").into_bytes(), i))
            .collect();
        assert_accepted(&words);
    }

    /// Which way counts: the walk for a dictionary of words, the sweep for keys longer than
    /// the walk follows and for suffixes shared so widely that paths outnumber bytes many
    /// times over.
    #[test]
    fn the_walk_decides_for_words_the_sweep_for_the_rest() {
        let walked = |e: &Entries| {
            let bytes = build(e);
            check(&bytes).unwrap();
            walk_agrees_with_sweep(&bytes)
        };
        let words: Entries = (0..20_000u64)
            .map(|i| {
                (
                    format!(
                        "{}{}",
                        ["pre", "sub", "", "un"][i as usize % 4],
                        i * 7919 % 100_003
                    )
                    .into_bytes(),
                    i,
                )
            })
            .collect();
        assert!(walked(&words));
        let long = Entries::from([(vec![b'x'; super::WALK_DEPTH + 1], 1), (b"y".to_vec(), 2)]);
        assert!(!walked(&long));
        let at_the_limit = Entries::from([(vec![b'x'; super::WALK_DEPTH], 1)]);
        assert!(walked(&at_the_limit));
        // Every 3-letter key over 16 letters with one suffix: 4,096 keys of 203 bytes share
        // one chain of nodes, so the paths are ~830,000 in a few kilobytes.
        let letters = b"abcdefghijklmnop";
        let suffix = vec![b'z'; 200];
        let shared: Entries = (0..4_096usize)
            .map(|i| {
                let mut k: Vec<u8> = (0..3).map(|d| letters[(i >> (4 * (2 - d))) & 15]).collect();
                k.extend_from_slice(&suffix);
                (k, 0)
            })
            .collect();
        assert!(!walked(&shared));
    }

    /// Keys streamed before giving up: a (crafted) image can hold exponentially many keys.
    const CAP: usize = 4_000;

    /// Transitions a [`Budget`] automaton takes before it matches nothing more.
    const STEPS: u32 = 200_000;

    /// An automaton that gives up after [`STEPS`] transitions: a damaged image may hold
    /// exponentially many paths that match nothing, which a stream walks before its next key
    /// (the engine's own automata have step budgets too).
    struct Budget<A> {
        inner: A,
        left: std::cell::Cell<u32>,
    }

    fn budget<A>(inner: A) -> Budget<A> {
        Budget {
            inner,
            left: std::cell::Cell::new(STEPS),
        }
    }

    impl<A: Automaton> Automaton for Budget<A> {
        type State = Option<A::State>;

        fn start(&self) -> Self::State {
            Some(self.inner.start())
        }

        fn is_match(&self, s: &Self::State) -> bool {
            s.as_ref().is_some_and(|s| self.inner.is_match(s))
        }

        fn can_match(&self, s: &Self::State) -> bool {
            s.as_ref().is_some_and(|s| self.inner.can_match(s))
        }

        fn accept(&self, s: &Self::State, byte: u8) -> Self::State {
            let left = self.left.get().checked_sub(1)?;
            self.left.set(left);
            s.as_ref().map(|s| self.inner.accept(s, byte))
        }
    }

    /// Up to `cap` entries of a stream, and whether it ended.
    fn drain<A: Automaton>(
        mut s: fst::map::Stream<'_, A>,
        cap: usize,
    ) -> (Vec<(Vec<u8>, u64)>, bool) {
        let mut out = Vec::new();
        while let Some((k, v)) = s.next() {
            if out.len() == cap {
                return (out, false);
            }
            out.push((k.to_vec(), v));
        }
        (out, true)
    }

    /// Opens `bytes` with `fst` and exercises every kind of traversal; panics on any
    /// inconsistency. Only called on images `check` accepted.
    fn exercise(bytes: &[u8], keys: &[Vec<u8>]) {
        let map = Map::new(bytes).expect("check accepted what Map::new refuses");
        let (all, complete) = drain(map.stream(), CAP);
        if complete {
            assert_eq!(
                all.len(),
                map.len(),
                "len() is not the number of streamed keys"
            );
        } else {
            assert!(map.len() > CAP);
        }
        for w in all.windows(2) {
            assert!(w[0].0 < w[1].0, "stream out of order");
        }
        for (k, v) in all.iter().take(2_000) {
            assert_eq!(map.get(k), Some(*v), "get disagrees with the stream");
            assert!(map.contains_key(k));
            let _ = map.as_fst().get_key(*v);
        }
        let mut probes: Vec<Vec<u8>> = keys.to_vec();
        probes.extend(
            all.iter()
                .step_by(all.len() / 20 + 1)
                .map(|(k, _)| k.clone()),
        );
        for k in &probes {
            let _ = map.get(k);
            let _ = map.contains_key(k);
            let mut longer = k.clone();
            longer.push(b'a');
            let _ = map.get(&longer);
            // Ranges starting and ending at and around existing keys.
            let _ = drain(map.range().ge(k).into_stream(), 300);
            let _ = drain(map.range().gt(k).lt(&longer).into_stream(), 300);
            let _ = drain(map.range().le(k).into_stream(), 300);
            if let Ok(s) = std::str::from_utf8(&k[..k.len().min(2)]) {
                let _ = drain(map.search(Str::new(s).starts_with()).into_stream(), 300);
            }
        }
        for p in ["", "a", "ab", "w0", "b"] {
            let (hits, done) = drain(map.search(Str::new(p).starts_with()).into_stream(), CAP);
            if complete && done {
                let want = all
                    .iter()
                    .filter(|(k, _)| k.starts_with(p.as_bytes()))
                    .count();
                assert_eq!(hits.len(), want, "prefix search for {p:?}");
            }
        }
        let _ = drain(
            map.search(budget(Subsequence::new("ab"))).into_stream(),
            300,
        );
        let _ = drain(
            map.search(budget(Str::new("a").complement())).into_stream(),
            300,
        );
        if let Ok(lev) = Levenshtein::new("abc", 1) {
            let _ = drain(map.search(budget(lev)).into_stream(), 300);
        }
        let _ = drain(map.range().ge("a").lt("b").into_stream(), 300);
        let mut union = map.op().add(map.range().ge("b")).union();
        let mut n = 0;
        while n < 300 && union.next().is_some() {
            n += 1;
        }
        let _ = map.as_fst().get_key(0);
        let _ = map.as_fst().get_key(u64::MAX);
    }

    /// Valid images to damage: small enough to exercise fully in a debug build, covering every
    /// node kind, big outputs and input tables.
    fn bases() -> Vec<(Vec<u8>, Vec<Vec<u8>>)> {
        let mut sets: Vec<Entries> = Vec::new();
        sets.push(
            [
                "a", "ab", "abc", "b", "ba", "bab", "w0", "w01", "w02", "zzz",
            ]
            .iter()
            .enumerate()
            .map(|(i, k)| (k.as_bytes().to_vec(), i as u64))
            .collect(),
        );
        sets.push(
            (0..=255u8)
                .step_by(5)
                .map(|b| (vec![b, b'a'], u64::from(b) * 1000))
                .collect(),
        );
        sets.push(
            ["", "a", "aa", "ab", "b"]
                .iter()
                .enumerate()
                .map(|(i, k)| (k.as_bytes().to_vec(), u64::MAX - i as u64))
                .collect(),
        );
        sets.push(
            (0..40u64)
                .map(|i| (format!("w{:03}", i * 7).into_bytes(), i << 40))
                .collect(),
        );
        sets.push(Entries::from([(Vec::new(), 0)]));
        sets.push(Entries::new());
        sets.into_iter()
            .map(|e| {
                let keys = e.keys().cloned().collect();
                (build(&e), keys)
            })
            .collect()
    }

    #[derive(Clone, Debug)]
    enum Damage {
        Set(usize, u8),
        Flip(usize, u8),
        Truncate(usize),
    }

    fn damage() -> impl Strategy<Value = Damage> {
        prop_oneof![
            4 => (any::<usize>(), any::<u8>()).prop_map(|(p, b)| Damage::Set(p, b)),
            4 => (any::<usize>(), 0..8u8).prop_map(|(p, b)| Damage::Flip(p, b)),
            1 => any::<usize>().prop_map(Damage::Truncate),
        ]
    }

    fn apply(bytes: &mut Vec<u8>, d: &[Damage]) {
        for d in d {
            if bytes.is_empty() {
                return;
            }
            let n = bytes.len();
            match *d {
                Damage::Set(p, b) => bytes[p % n] = b,
                Damage::Flip(p, bit) => bytes[p % n] ^= 1 << bit,
                Damage::Truncate(p) => bytes.truncate(p % n),
            }
        }
    }

    /// If `check` accepts damaged bytes, nothing `fst` does with them may panic.
    fn accepted_never_panics(bytes: &[u8], keys: &[Vec<u8>]) -> usize {
        if walk_agrees_with_sweep(bytes) {
            WALKED.with(|w| w.set(w.get() + 1));
        }
        match catch_unwind(AssertUnwindSafe(|| check(bytes))) {
            Err(_) => panic!("check panicked on {bytes:02x?}"),
            Ok(Err(_)) => 0,
            Ok(Ok(())) => {
                if catch_unwind(AssertUnwindSafe(|| exercise(bytes, keys))).is_err() {
                    panic!("check accepted bytes that make fst panic: {bytes:02x?}");
                }
                1
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

        #[test]
        fn damaged_images_never_panic_once_accepted(
            base in 0..6usize,
            d in proptest::collection::vec(damage(), 1..6),
        ) {
            let bases = bases();
            let (bytes, keys) = &bases[base];
            let mut b = bytes.clone();
            apply(&mut b, &d);
            accepted_never_panics(&b, keys);
        }
    }

    /// Both damage tests, with many more cases (`FSTCHECK_ROUNDS`, 200,000 by default); run it
    /// optimized, with overflow checks on (an output sum that wraps only panics with them):
    /// `CARGO_PROFILE_RELEASE_OVERFLOW_CHECKS=true cargo test --release --lib fstcheck --
    /// --ignored`.
    #[test]
    #[ignore]
    fn damaged_images_never_panic_long_run() {
        let bases = bases();
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let probes: Vec<Vec<u8>> = vec![vec![], b"a".to_vec(), b"ab".to_vec(), vec![0xff, 0]];
        let mut accepted = [0usize; 2];
        let rounds: u32 = std::env::var("FSTCHECK_ROUNDS")
            .ok()
            .and_then(|r| r.parse().ok())
            .unwrap_or(200_000);
        for round in 0..rounds {
            // Even rounds damage a written map, odd rounds an independently encoded image
            // (undamaged one time in four).
            let (mut b, keys) = if round % 2 == 0 {
                let (bytes, keys) = &bases[rng.below(bases.len() as u64) as usize];
                (bytes.clone(), keys)
            } else {
                (random_image(&mut rng).0, &probes)
            };
            let damages = if round % 2 == 1 && rng.below(4) == 0 {
                0
            } else {
                1 + rng.below(4)
            };
            let mut d = Vec::new();
            for _ in 0..damages {
                let (p, v) = (rng.next() as usize, rng.next() as u8);
                d.push(match rng.below(9) {
                    0..=3 => Damage::Set(p, v),
                    4..=7 => Damage::Flip(p, v % 8),
                    _ => Damage::Truncate(p),
                });
            }
            apply(&mut b, &d);
            accepted[round as usize % 2] += accepted_never_panics(&b, keys);
        }
        let walked = WALKED.with(|w| w.get());
        eprintln!(
            "{rounds} images, no panic; accepted: {} damaged written maps, {} encoded images; \
             the walk decided {walked} (the sweep the rest)",
            accepted[0], accepted[1]
        );
        // Both ways of counting were compared on many images.
        assert!(
            walked > rounds as usize / 4 && walked < rounds as usize,
            "{walked}"
        );
    }

    /// A tiny xorshift generator for the structural fuzzer below.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    fn pack(out: &mut Vec<u8>, v: u64, width: usize) {
        out.extend_from_slice(&v.to_le_bytes()[..width]);
    }

    fn width(v: u64) -> usize {
        (1..8).find(|&w| v < 1 << (8 * w)).unwrap_or(8)
    }

    /// An fst image written from scratch by an independent encoder, with random and often
    /// non-canonical choices the builder never makes (explicit transition counts, wider pack
    /// sizes, dead ends, unreachable nodes, gaps, versions 1 and 2), and a correct footer.
    fn random_image(rng: &mut Rng) -> (Vec<u8>, bool) {
        let version = [1u64, 2, 3, 3, 3][rng.below(5) as usize];
        let mut b = Vec::new();
        pack(&mut b, version, 8);
        pack(&mut b, rng.next() % 3, 8);
        // (address, number of keys below) of the nodes written so far; 0 is the empty final.
        let mut nodes: Vec<(usize, u64)> = vec![(0, 1)];
        let mut last: Option<usize> = None;
        for _ in 0..1 + rng.below(12) {
            if rng.below(8) == 0 {
                for _ in 0..1 + rng.below(3) {
                    b.push(rng.next() as u8); // a gap
                }
                last = None;
            }
            let end = b.len();
            let pick = |rng: &mut Rng| nodes[rng.below(nodes.len() as u64) as usize];
            let kind = rng.below(4);
            let keys;
            if kind == 0 && last.is_some() {
                // One transition to the node just below, output 0.
                let code = rng.below(64) as u8;
                if code == 0 {
                    b.push(rng.next() as u8);
                }
                b.push(0b1100_0000 | code);
                keys = nodes.iter().find(|n| Some(n.0) == last).unwrap().1;
            } else if kind == 1 {
                let (target, k) = pick(rng);
                let out = if rng.below(2) == 0 {
                    0
                } else {
                    rng.next() >> rng.below(64)
                };
                let osize = if out == 0 && rng.below(2) == 0 {
                    0
                } else {
                    width(out).max(rng.below(9) as usize)
                };
                let delta = if target == 0 {
                    0
                } else {
                    (end - target) as u64
                };
                let tsize = width(delta).max(rng.below(9) as usize);
                if osize > 0 {
                    pack(&mut b, out, osize);
                }
                pack(&mut b, delta, tsize);
                b.push(((tsize as u8) << 4) | osize as u8);
                let code = rng.below(64) as u8;
                if code == 0 {
                    b.push(rng.next() as u8);
                }
                b.push(0b1000_0000 | code);
                keys = k;
            } else {
                let ntrans = match rng.below(6) {
                    0 => 0,
                    1 => 256,
                    2 => 30 + rng.below(10) as usize,
                    _ => 1 + rng.below(5) as usize,
                };
                let mut inputs: Vec<u8> = (0..=255u8).collect();
                for i in (1..inputs.len()).rev() {
                    inputs.swap(i, rng.below(i as u64 + 1) as usize);
                }
                inputs.truncate(ntrans);
                inputs.sort_unstable();
                let trans: Vec<(u8, usize, u64, u64)> = inputs
                    .iter()
                    .map(|&inp| {
                        let (target, k) = pick(rng);
                        let out = if rng.below(3) == 0 {
                            rng.next() >> rng.below(64)
                        } else {
                            0
                        };
                        (inp, target, k, out)
                    })
                    .collect();
                let is_final = rng.below(2) == 0;
                let final_out = if is_final && rng.below(2) == 0 {
                    rng.next() >> rng.below(64)
                } else {
                    0
                };
                let deltas: Vec<u64> = trans
                    .iter()
                    .map(|t| if t.1 == 0 { 0 } else { (end - t.1) as u64 })
                    .collect();
                let mut tsize = deltas.iter().map(|&d| width(d)).max().unwrap_or(0);
                if ntrans > 0 && rng.below(4) == 0 {
                    tsize = tsize.max(rng.below(9) as usize);
                }
                let any_out = final_out != 0 || trans.iter().any(|t| t.3 != 0);
                let mut osize = trans
                    .iter()
                    .map(|t| width(t.3))
                    .chain([width(final_out)])
                    .max()
                    .unwrap();
                if !any_out && rng.below(2) == 0 {
                    osize = 0;
                }
                if osize > 0 {
                    if is_final {
                        pack(&mut b, final_out, osize);
                    }
                    for t in trans.iter().rev() {
                        pack(&mut b, t.3, osize);
                    }
                }
                for d in deltas.iter().rev() {
                    pack(&mut b, *d, tsize);
                }
                for t in trans.iter().rev() {
                    b.push(t.0);
                }
                if version >= 2 && ntrans > 32 {
                    let mut table = [255u8; 256];
                    for (i, t) in trans.iter().enumerate() {
                        table[t.0 as usize] = i as u8;
                    }
                    for e in table.iter_mut().filter(|e| usize::from(**e) >= ntrans) {
                        *e = (ntrans as u64 + rng.below(256 - ntrans as u64 + 1)).min(255) as u8;
                    }
                    b.extend_from_slice(&table);
                }
                b.push(((tsize as u8) << 4) | osize as u8);
                let explicit = ntrans == 0 || ntrans >= 64 || (ntrans != 1 && rng.below(3) == 0);
                let mut state = if is_final { 0b0100_0000 } else { 0 };
                if explicit {
                    b.push(if ntrans == 256 { 1 } else { ntrans as u8 });
                } else {
                    state |= ntrans as u8;
                }
                b.push(state);
                keys = trans
                    .iter()
                    .fold(u64::from(is_final), |a, t| a.saturating_add(t.2));
            }
            let addr = b.len() - 1;
            nodes.push((addr, keys));
            last = Some(addr);
        }
        // The root is the last node written (a gap would have been refused by `Fst::new`).
        let (root, keys) = *nodes.last().unwrap();
        if root + 1 != b.len() {
            return (b, false); // not an fst
        }
        pack(&mut b, keys, 8);
        pack(&mut b, root as u64, 8);
        if version >= 3 {
            pack(&mut b, rng.next(), 4);
        }
        let valid = b.len() >= 36; // `Fst::new` refuses shorter images, whatever their version
        (b, valid)
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

        /// Images from the independent encoder are accepted unless an output sum overflows,
        /// and nothing `fst` does with an accepted one panics, damaged or not.
        #[test]
        fn independently_encoded_images(seed in 1..u64::MAX, d in proptest::collection::vec(damage(), 0..3)) {
            let mut rng = Rng(seed);
            let (mut bytes, valid) = random_image(&mut rng);
            let keys: Vec<Vec<u8>> = vec![vec![], b"a".to_vec(), b"ab".to_vec(), vec![0xff, 0]];
            if d.is_empty() && valid {
                if let Err(e) = check(&bytes) {
                    prop_assert!(e.contains("overflow") || e.contains("keys"), "{e}: {bytes:02x?}");
                }
            }
            apply(&mut bytes, &d);
            accepted_never_panics(&bytes, &keys);
        }
    }

    /// An output sum that overflows a u64 makes `fst` panic in a debug build; it is refused.
    #[test]
    fn overflowing_outputs_are_refused() {
        let e = Entries::from([(b"aa".to_vec(), 1 << 63), (b"ab".to_vec(), u64::MAX)]);
        let mut bytes = build(&e);
        check(&bytes).unwrap();
        // The first transition carries 2^63; make it 0xff << 56.
        let pattern = (1u64 << 63).to_le_bytes();
        let at = bytes.windows(8).position(|w| w == pattern).unwrap();
        bytes[at + 7] = 0xff;
        let err = check(&bytes).unwrap_err();
        assert!(err.contains("overflow"), "{err}");
        if cfg!(debug_assertions) {
            let map = Map::new(&bytes[..]).unwrap();
            assert!(catch_unwind(AssertUnwindSafe(|| stream_all(&map))).is_err());
        }
    }

    #[test]
    fn footer_inconsistencies_are_refused() {
        let e: Entries = (0..50u64)
            .map(|i| (format!("k{i}").into_bytes(), i))
            .collect();
        let bytes = build(&e);
        let n = bytes.len();
        let mut wrong_len = bytes.clone();
        wrong_len[n - 20] ^= 1; // the key count
        assert!(check(&wrong_len).unwrap_err().contains("keys"));
        let mut wrong_root = bytes.clone();
        wrong_root[n - 12] ^= 2; // the root address
        assert!(check(&wrong_root).is_err());
        let mut wrong_version = bytes.clone();
        wrong_version[0] = 4;
        assert!(check(&wrong_version).is_err());
        for cut in 0..n {
            assert!(check(&bytes[..cut]).is_err(), "truncated to {cut} accepted");
        }
        assert!(check(&[]).is_err());
        assert!(check(&[0; 36]).is_err());
    }

    /// The terms section (kind 2) of an edgekb index file, found through its section table.
    fn terms_section(file: &[u8]) -> &[u8] {
        assert_eq!(&file[..8], b"EDGEKBIX");
        let u32_at = |at: usize| u32::from_le_bytes(file[at..at + 4].try_into().unwrap());
        let u64_at = |at: usize| u64::from_le_bytes(file[at..at + 8].try_into().unwrap());
        let count = u32_at(12) as usize;
        for i in 0..count {
            let entry = 24 + 24 * i;
            if u32_at(entry) == 2 {
                let offset = u64_at(entry + 8) as usize;
                let length = u64_at(entry + 16) as usize;
                return &file[offset..offset + length];
            }
        }
        panic!("no terms section");
    }

    fn repo_file(path: &str) -> Vec<u8> {
        std::fs::read(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(path)).unwrap()
    }

    #[test]
    fn known_panics_are_refused() {
        for name in ["fst-corrupt-node-tiny.ekb", "fst-corrupt-node-fixture.ekb"] {
            let file = repo_file(&format!("fuzz/regressions/open_and_search/{name}"));
            let terms = terms_section(&file);
            // `fst` itself opens them: only the nodes are wrong.
            assert!(Map::new(terms).is_ok(), "{name}");
            let err = check(terms).expect_err(name);
            eprintln!("{name}: {err}");
        }
    }

    #[test]
    fn golden_fixture_dictionary_is_accepted() {
        let file = repo_file("tests/compat/v1/fixture.ekb");
        let terms = terms_section(&file);
        check(terms).unwrap();
        let map = Map::new(terms).unwrap();
        assert_eq!(stream_all(&map).len(), map.len());
    }

    /// Timing, not a test: `cargo test --release --lib fstcheck::tests::timing -- --ignored
    /// --nocapture`. Uses the Debian corpus's words when `EDGEKB_TIMING_CORPUS` names the
    /// `.jsonl.gz`, and 300,000 pseudo-random words otherwise.
    #[test]
    #[ignore]
    fn timing() {
        use std::io::Read;
        let mut words = std::collections::BTreeSet::new();
        if let Ok(path) = std::env::var("EDGEKB_TIMING_CORPUS") {
            let mut text = String::new();
            flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap())
                .read_to_string(&mut text)
                .unwrap();
            for w in text
                .split(|c: char| !c.is_alphanumeric())
                .filter(|w| !w.is_empty())
            {
                words.insert(w.to_lowercase());
            }
        } else {
            let mut seed: u64 = 88172645463325252;
            while words.len() < 300_000 {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let len = 3 + (seed % 10) as usize;
                let w: String = (0..len)
                    .map(|i| (b'a' + ((seed >> (5 * i)) % 26) as u8) as char)
                    .collect();
                words.insert(w);
            }
        }
        let e: Entries = words
            .into_iter()
            .enumerate()
            .map(|(i, w)| (w.into_bytes(), i as u64))
            .collect();
        let bytes = build(&e);
        let mut best = std::time::Duration::MAX;
        for _ in 0..5 {
            let t = std::time::Instant::now();
            check(&bytes).unwrap();
            best = best.min(t.elapsed());
        }
        let t = std::time::Instant::now();
        let map = Map::new(&bytes[..]).unwrap();
        let n = stream_all(&map).len();
        let stream = t.elapsed();
        eprintln!(
            "{} keys, fst of {} bytes: check {:.2} ms (best of 5); a full stream takes {:.2} ms",
            n,
            bytes.len(),
            best.as_secs_f64() * 1e3,
            stream.as_secs_f64() * 1e3
        );
    }
}
