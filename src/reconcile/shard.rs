//! `--shard K/N`: a stable share of the ad accounts, so a CI matrix of N jobs covers every
//! account exactly once.
//!
//! The share of an account is `u64::from_be_bytes(SHA-256("act_<digits>")[0..8]) mod N`, and
//! shard `K` (1-based, as CI matrices count) owns the accounts whose share is `K - 1`. SHA-256 is
//! used on purpose: the assignment must be the same on every machine, every Rust version and
//! every run (a job on Linux and another on macOS must agree), which rules out `std`'s randomly
//! seeded `DefaultHasher`. The hash input is the normalised id (`act_` + digits), so `123` and
//! `act_123` land in the same shard.
//!
//! This module only decides membership; it must never talk to the network or read manifests.

use crate::model::ids::AdAccountId;
use sha2::{Digest, Sha256};
use std::fmt;

/// A text that is not `K/N`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not a shard: {why}")]
pub struct ShardError {
    text: String,
    why: ShardProblem,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
enum ShardProblem {
    #[error("write K/N, for example 1/4 (job 1 of 4)")]
    NoSlash,
    #[error("{0} `{1}` is not a whole number; write K/N, for example 1/4")]
    NotANumber(&'static str, String),
    #[error("N (the number of shards) must be at least 1")]
    NoShards,
    #[error("K must be between 1 and {0} (shards count from 1)")]
    OutOfRange(u64),
}

/// Shard `index` of `count` (1 ≤ index ≤ count).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    index: u64,
    count: u64,
}

impl Shard {
    /// Parses `K/N` (for example `2/4`): N ≥ 1 and K in 1..=N. Errors say what is expected.
    pub fn parse(text: &str) -> Result<Shard, ShardError> {
        let trimmed = text.trim();
        let bad = |why: ShardProblem| ShardError {
            text: trimmed.to_string(),
            why,
        };
        let (k, n) = trimmed
            .split_once('/')
            .ok_or_else(|| bad(ShardProblem::NoSlash))?;
        let number = |part: &str, what: &'static str| {
            part.trim()
                .parse::<u64>()
                .map_err(|_| bad(ShardProblem::NotANumber(what, part.trim().to_string())))
        };
        let index = number(k, "K")?;
        let count = number(n, "N")?;
        if count == 0 {
            return Err(bad(ShardProblem::NoShards));
        }
        if index == 0 || index > count {
            return Err(bad(ShardProblem::OutOfRange(count)));
        }
        Ok(Shard { index, count })
    }

    #[cfg(test)]
    /// The whole set: shard 1 of 1 contains every account.
    pub(crate) fn all() -> Shard {
        Shard { index: 1, count: 1 }
    }

    #[cfg(test)]
    /// K, counted from 1.
    pub(crate) fn index(&self) -> u64 {
        self.index
    }

    #[cfg(test)]
    /// N.
    pub(crate) fn count(&self) -> u64 {
        self.count
    }

    /// Whether this shard owns `account`.
    pub fn contains(&self, account: &AdAccountId) -> bool {
        share_of(account, self.count) == self.index - 1
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// The 0-based share of `account` among `count` shards: the first 8 bytes of
/// SHA-256(`act_<digits>`), big-endian, modulo `count`. Documented in docs/gitops.md; changing
/// it reshuffles every agency's matrix, so it is pinned by test vectors below.
pub(crate) fn share_of(account: &AdAccountId, count: u64) -> u64 {
    assert!(count >= 1, "a shard count is at least 1");
    let digest = Sha256::digest(account.as_str().as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(first) % count
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn act(text: &str) -> AdAccountId {
        AdAccountId::parse(text).unwrap()
    }

    #[test]
    fn parses_k_of_n() {
        let shard = Shard::parse("2/4").unwrap();
        assert_eq!((shard.index(), shard.count()), (2, 4));
        assert_eq!(shard.to_string(), "2/4");
        assert_eq!(Shard::parse(" 1 / 1 ").unwrap(), Shard::all());
    }

    #[test]
    fn rejects_bad_shards_with_a_clear_message() {
        let cases = [
            ("", "write K/N"),
            ("3", "write K/N"),
            ("0/4", "K must be between 1 and 4"),
            ("5/4", "K must be between 1 and 4"),
            ("1/0", "N (the number of shards) must be at least 1"),
            ("a/4", "K `a` is not a whole number"),
            ("1/b", "N `b` is not a whole number"),
            ("-1/4", "K `-1` is not a whole number"),
            ("1/2/3", "N `2/3` is not a whole number"),
        ];
        for (input, expected) in cases {
            let error = Shard::parse(input).unwrap_err().to_string();
            assert!(error.contains(expected), "{input:?}: {error}");
        }
    }

    /// Pinned vectors (computed independently with `sha256sum` / Python's hashlib): the
    /// assignment must never change between versions or platforms.
    #[test]
    fn shares_are_pinned_to_sha256() {
        assert_eq!(share_of(&act("act_1"), 3), 0);
        assert_eq!(share_of(&act("act_2"), 3), 2);
        assert_eq!(share_of(&act("act_1234567890"), 3), 2);
        assert_eq!(share_of(&act("act_1"), 10), 5);
        assert_eq!(share_of(&act("act_2"), 10), 4);
        assert_eq!(share_of(&act("act_1234567890"), 10), 0);
        // The worked example of docs/gitops.md.
        assert_eq!(share_of(&act("act_1234567890"), 4), 0);
        // The first 8 bytes of SHA-256("act_1") are 0x901326644743bcd5, below u64::MAX.
        assert_eq!(share_of(&act("act_1"), u64::MAX), 0x9013_2664_4743_bcd5);
    }

    #[test]
    fn bare_digits_and_prefixed_ids_share_a_shard() {
        for n in 1..20 {
            assert_eq!(
                share_of(&act("987654321"), n),
                share_of(&act("act_987654321"), n)
            );
        }
    }

    #[test]
    fn one_shard_contains_everything() {
        assert!(Shard::all().contains(&act("act_42")));
        assert!(Shard::parse("1/1").unwrap().contains(&act("act_1")));
    }

    #[test]
    fn shares_are_roughly_balanced() {
        let n = 4u64;
        let mut counts = [0usize; 4];
        for i in 0..4000u64 {
            let account = act(&format!("act_{}", 100_000_000_000 + i * 7919));
            counts[share_of(&account, n) as usize] += 1;
        }
        // 1,000 expected per shard; a fair hash stays well inside ±15%.
        for count in counts {
            assert!((850..=1150).contains(&count), "{counts:?}");
        }
    }

    proptest! {
        #[test]
        fn every_account_lands_in_exactly_one_shard(digits in "[1-9][0-9]{0,17}", n in 1u64..64) {
            let account = act(&digits);
            let owners: Vec<u64> = (1..=n)
                .filter(|k| Shard::parse(&format!("{k}/{n}")).unwrap().contains(&account))
                .collect();
            prop_assert_eq!(owners.len(), 1);
        }

        #[test]
        fn every_valid_k_of_n_parses_and_round_trips(n in 1u64..1000, k_seed in 0u64..1000) {
            let k = k_seed % n + 1;
            let shard = Shard::parse(&format!("{k}/{n}")).unwrap();
            prop_assert_eq!(shard.to_string(), format!("{k}/{n}"));
        }

        #[test]
        fn random_accounts_spread_over_shards(seed in any::<u64>()) {
            let n = 3u64;
            let mut counts = [0usize; 3];
            for i in 0..600u64 {
                let id = seed.wrapping_mul(6364136223846793005).wrapping_add(i) % 10_000_000_000_000;
                counts[share_of(&act(&format!("act_{id}")), n) as usize] += 1;
            }
            // 200 expected per shard.
            for count in counts {
                prop_assert!((120..=280).contains(&count), "{:?}", counts);
            }
        }
    }
}
