//! Accounts: what is usual for each account (baselines, kept as events are written) and its
//! sessions (stitched on demand), the ground that "which account was taken over" stands on.
//!
//! - `baseline.rs` — first occurrence per account of each country, network, IP, client, user agent
//!   and app (migration 6), and the `new:` query condition built on it.
//! - `sessions.rs` — an account's sessions with their networks and the replay mark.

pub mod baseline;
pub mod sessions;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::case::CaseReader;
use crate::error::Result;
use crate::time::iso_ms;

/// One account of the case, with what its baseline knows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct AccountSummary {
    /// The account (actor, lower-cased).
    pub account: String,
    /// First event, ISO 8601 UTC: the start of its baseline window.
    pub first_time: String,
    /// Last event, ISO 8601 UTC.
    pub last_time: String,
    /// Events with it as actor.
    #[ts(type = "number")]
    pub events: i64,
    /// Distinct countries, networks, IPs, clients, user agents and apps seen (in [`baseline::KINDS`] order).
    pub distinct: Vec<i64>,
    /// Events that were its first with some value after a day of its history ("new" values).
    #[ts(type = "number")]
    pub new_values: i64,
}

impl CaseReader {
    /// Every account of the case, most events first (ties by name).
    pub fn accounts(&self) -> Result<Vec<AccountSummary>> {
        let mut st = self.conn.prepare_cached(
            "SELECT a.account, a.first_ms, a.last_ms, a.events, \
                    (SELECT count(*) FROM account_first f WHERE f.account = a.account AND f.first_ms >= a.first_ms + ?1) \
             FROM account a ORDER BY a.events DESC, a.account",
        )?;
        let rows: Vec<(String, i64, i64, i64, i64)> = st
            .query_map([baseline::HISTORY_MS], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))?
            .collect::<rusqlite::Result<_>>()?;
        // How many values of each kind every account has, in one pass over the baseline.
        let mut distinct: std::collections::HashMap<(String, String), i64> = std::collections::HashMap::new();
        let mut kinds =
            self.conn.prepare_cached("SELECT account, kind, count(*) FROM account_first GROUP BY account, kind")?;
        for row in kinds.query_map([], |r| Ok(((r.get(0)?, r.get(1)?), r.get(2)?)))? {
            let (key, n) = row?;
            distinct.insert(key, n);
        }
        let mut out = Vec::with_capacity(rows.len());
        for (account, first, last, events, new_values) in rows {
            let distinct = baseline::KINDS
                .iter()
                .map(|k| distinct.get(&(account.clone(), (*k).to_owned())).copied().unwrap_or(0))
                .collect();
            out.push(AccountSummary {
                account,
                first_time: iso_ms(first),
                last_time: iso_ms(last),
                events,
                distinct,
                new_values,
            });
        }
        Ok(out)
    }
}
