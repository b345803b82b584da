//! The sim's notion of "now".
//!
//! The tenant's data is fixed by the seed (the scenario ends at a fixed date), but the Microsoft rules
//! the sim enforces are relative to the present: content older than 7 days expires, device codes expire
//! after 15 minutes, tokens after an hour. So the sim runs its own clock: it starts at a chosen instant
//! (by default shortly after the scenario ends) and then advances with real time, and tests can move it
//! forward through the admin endpoint instead of sleeping. All logic takes this clock; only
//! [`TenantClock::starting_at`] reads the machine's monotonic time.

use std::fmt::Debug;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Instant;

/// Milliseconds since the Unix epoch, as the sim sees them.
pub trait SimClock: Send + Sync + Debug {
    /// The current simulated time in Unix milliseconds.
    fn now_ms(&self) -> i64;
    /// Moves the clock forward (or back, with a negative value) by `ms`.
    fn advance_ms(&self, ms: i64);
}

/// Simulated time = a start instant + real elapsed time + an adjustable offset.
#[derive(Debug)]
pub struct TenantClock {
    started: Instant,
    start_ms: i64,
    offset_ms: AtomicI64,
}

impl TenantClock {
    /// A clock that reads `start_ms` now and then runs at real speed.
    pub fn starting_at(start_ms: i64) -> Self {
        TenantClock { started: Instant::now(), start_ms, offset_ms: AtomicI64::new(0) }
    }
}

impl SimClock for TenantClock {
    fn now_ms(&self) -> i64 {
        self.start_ms + self.started.elapsed().as_millis() as i64 + self.offset_ms.load(Ordering::SeqCst)
    }

    fn advance_ms(&self, ms: i64) {
        self.offset_ms.fetch_add(ms, Ordering::SeqCst);
    }
}

/// A clock that stands still unless advanced (unit tests, exports).
#[derive(Debug)]
pub struct FrozenClock(AtomicI64);

impl FrozenClock {
    /// A clock fixed at `ms`.
    pub fn at(ms: i64) -> Self {
        FrozenClock(AtomicI64::new(ms))
    }
}

impl SimClock for FrozenClock {
    fn now_ms(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }

    fn advance_ms(&self, ms: i64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }
}
