//! A lazy index's counters as a host's value ([`Build`]), written once for the CLI and for
//! `kb.stats()`.

use super::{LoadStats, Stats, Wire};
use crate::cache::CacheStats;
use crate::tree::Build;

impl Stats {
    /// The cache's and the requests' counters side by side, then `split`, `inFlight` and
    /// `last` (`{requests, bytes, roundTrips}`).
    pub fn to_tree<B: Build>(&self) -> B {
        let mut fields = cache_fields(&self.cache);
        fields.extend(self.load.fields());
        fields.push(("split", B::bool(self.split)));
        fields.push(("inFlight", B::count(self.in_flight)));
        fields.push(("last", self.last.to_tree()));
        B::map(fields)
    }
}

impl LoadStats {
    /// What these counters say an operation cost on the wire (for a span of them taken with
    /// [`LoadStats::since`]): its requests, bytes and round trips.
    pub fn wire(&self) -> Wire {
        Wire {
            requests: self.requests,
            bytes: self.bytes_fetched,
            round_trips: self.round_trips,
        }
    }

    /// `requests`, `bytesFetched`, `retries`, `aborted`, `rejected`, `roundTrips`.
    fn fields<B: Build>(&self) -> Vec<(&'static str, B)> {
        vec![
            ("requests", B::count(self.requests)),
            ("bytesFetched", B::count(self.bytes_fetched)),
            ("retries", B::count(self.retries)),
            ("aborted", B::count(self.aborted)),
            ("rejected", B::count(self.rejected)),
            ("roundTrips", B::count(self.round_trips)),
        ]
    }
}

impl Wire {
    /// `{requests, bytes, roundTrips}`.
    pub fn to_tree<B: Build>(&self) -> B {
        B::map(vec![
            ("requests", B::count(self.requests)),
            ("bytes", B::count(self.bytes)),
            ("roundTrips", B::count(self.round_trips)),
        ])
    }
}

/// `hits`, `misses`, `evictions`, `bytesHeld`, `budget`, `entries`.
fn cache_fields<B: Build>(c: &CacheStats) -> Vec<(&'static str, B)> {
    vec![
        ("hits", B::count(c.hits)),
        ("misses", B::count(c.misses)),
        ("evictions", B::count(c.evictions)),
        ("bytesHeld", B::count(c.bytes_held)),
        ("budget", B::count(c.budget)),
        ("entries", B::count(c.entries)),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    #[test]
    fn every_counter_is_written_under_its_name() {
        let stats = Stats {
            cache: CacheStats {
                hits: 1,
                misses: 2,
                evictions: 3,
                bytes_held: 4,
                budget: 5,
                entries: 6,
            },
            load: LoadStats {
                requests: 7,
                bytes_fetched: 8,
                retries: 9,
                aborted: 10,
                rejected: 11,
                round_trips: 12,
            },
            split: true,
            in_flight: 13,
            last: Wire {
                requests: 14,
                bytes: 15,
                round_trips: 16,
            },
        };
        assert_eq!(
            stats.to_tree::<Value>(),
            json!({
                "hits": 1, "misses": 2, "evictions": 3, "bytesHeld": 4, "budget": 5, "entries": 6,
                "requests": 7, "bytesFetched": 8, "retries": 9, "aborted": 10, "rejected": 11,
                "roundTrips": 12, "split": true, "inFlight": 13,
                "last": {"requests": 14, "bytes": 15, "roundTrips": 16}
            })
        );
    }
}
