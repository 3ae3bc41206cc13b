//! `OrderTracker`: every order the engine made, keyed by cloid, through its lifecycle:
//! Queued → Sent → Resting → PartiallyFilled → Filled; CancelPending → Cancelled or
//! FilledDuringCancel; Rejected; UnknownOutcome (sent, no answer: the venue's state decides);
//! Dropped (purged by HardStop before it was sent).
//!
//! An order stays *active* (its unfilled size counted as pending exposure) until it is terminal
//! AND every fill the venue reported for it has been applied: a post result saying "filled" can
//! arrive before the fills themselves, and the exposure must not vanish in between.

use super::positions::Pending;
use super::types::{Cloid, MarketId, Side, StrategyId, Tif};
use plugin_api::OrderStatus;
use rust_decimal::Decimal;
use std::collections::{HashMap, VecDeque};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrderState {
    Queued,
    Sent,
    Resting,
    PartiallyFilled,
    Filled,
    CancelPending,
    Cancelled,
    FilledDuringCancel,
    Rejected,
    UnknownOutcome,
    Dropped,
}

impl OrderState {
    pub fn is_terminal(self) -> bool {
        use OrderState::*;
        matches!(
            self,
            Filled | Cancelled | FilledDuringCancel | Rejected | Dropped
        )
    }

    /// The status code a plugin sees.
    pub fn status(self) -> OrderStatus {
        use OrderState::*;
        match self {
            Queued | Sent => OrderStatus::PENDING,
            Resting => OrderStatus::RESTING,
            PartiallyFilled => OrderStatus::PARTIALLY_FILLED,
            Filled => OrderStatus::FILLED,
            CancelPending => OrderStatus::CANCEL_PENDING,
            Cancelled | Dropped => OrderStatus::CANCELLED,
            FilledDuringCancel => OrderStatus::FILLED_DURING_CANCEL,
            Rejected => OrderStatus::REJECTED,
            UnknownOutcome => OrderStatus::UNKNOWN_OUTCOME,
        }
    }
}

/// Why the host made the order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// A strategy's Place intent.
    Strategy,
    /// One leg of a strategy's PlacePair.
    PairLeg(u32),
    /// A Flatten (strategy intent, HardStop, disabled strategy, failed pair leg).
    Flatten,
    /// An open venue order this run did not make, found by reconciliation.
    Adopted,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrackedOrder {
    pub cloid: Cloid,
    pub oid: Option<u64>,
    pub market: MarketId,
    /// The strategy whose intent made it (None for the host's own flattens).
    pub owner: Option<StrategyId>,
    pub tag: u64,
    pub side: Side,
    pub px: Decimal,
    pub sz: Decimal,
    pub tif: Tif,
    pub reduce_only: bool,
    pub purpose: Purpose,
    pub state: OrderState,
    /// Size filled so far, from fills applied.
    pub filled: Decimal,
    /// Σ px × sz of the fills applied (average fill price = fill_value / filled).
    pub fill_value: Decimal,
    /// Total size the venue says will have filled once the order is done (known once terminal).
    pub final_filled: Option<Decimal>,
    pub created_ns: u64,
}

impl TrackedOrder {
    pub fn avg_fill_px(&self) -> Decimal {
        if self.filled.is_zero() {
            Decimal::ZERO
        } else {
            self.fill_value / self.filled
        }
    }

    /// Size that may still fill (counted as pending exposure while active).
    pub fn unfilled(&self) -> Decimal {
        let cap = if self.state.is_terminal() {
            self.final_filled.unwrap_or(self.filled)
        } else {
            self.final_filled.unwrap_or(self.sz)
        };
        (cap - self.filled).max(Decimal::ZERO)
    }

    /// Active: may still change the position.
    pub fn is_active(&self) -> bool {
        !self.state.is_terminal() || self.unfilled() > Decimal::ZERO
    }
}

/// Terminal orders kept for late fills and lookups before the oldest are forgotten.
const KEEP_TERMINAL: usize = 50_000;

/// Hashes cloids, which the host makes itself (a venue never chooses them, so there is nothing
/// to defend against collisions with SipHash's cost): one multiply-xorshift mix of the two
/// halves. An order's placement hashes its cloid several times before it is sent.
#[derive(Debug, Clone, Copy, Default)]
pub struct CloidHasher(u64);

impl std::hash::Hasher for CloidHasher {
    fn write(&mut self, bytes: &[u8]) {
        // Not used by `Cloid` (which hashes as one u128); correct for anything else.
        for b in bytes {
            self.0 = (self.0.rotate_left(5) ^ u64::from(*b)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
    }

    fn write_u128(&mut self, v: u128) {
        let mut x = (v as u64) ^ ((v >> 64) as u64).rotate_left(32) ^ self.0;
        x ^= x >> 33;
        x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
        x ^= x >> 33;
        self.0 = x;
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

type CloidMap<V> = HashMap<Cloid, V, std::hash::BuildHasherDefault<CloidHasher>>;

/// Orders by cloid. The live ones (not yet inactive: a few at a time) are kept apart from the
/// up to `KEEP_TERMINAL` inactive ones, so placing and tracking an order touches a small table
/// that stays in cache, not one of tens of thousands of entries.
#[derive(Debug, Clone, Default)]
pub struct OrderTracker {
    live: CloidMap<TrackedOrder>,
    done: CloidMap<TrackedOrder>,
    by_oid: HashMap<u64, Cloid>,
    /// Active orders per market (small: one or two).
    active: Vec<Vec<Cloid>>,
    /// Orders that became inactive, oldest first (for pruning).
    retired: VecDeque<Cloid>,
}

impl OrderTracker {
    pub fn new(markets: usize) -> Self {
        OrderTracker {
            active: vec![Vec::with_capacity(4); markets],
            ..Default::default()
        }
    }

    pub fn insert(&mut self, o: TrackedOrder) {
        self.active[o.market.index()].push(o.cloid);
        self.live.insert(o.cloid, o);
    }

    pub fn get(&self, c: Cloid) -> Option<&TrackedOrder> {
        self.live.get(&c).or_else(|| self.done.get(&c))
    }

    fn get_mut(&mut self, c: Cloid) -> Option<&mut TrackedOrder> {
        match self.live.get_mut(&c) {
            Some(o) => Some(o),
            None => self.done.get_mut(&c),
        }
    }

    pub fn by_oid(&self, oid: u64) -> Option<Cloid> {
        self.by_oid.get(&oid).copied()
    }

    pub fn set_oid(&mut self, c: Cloid, oid: u64) {
        if let Some(o) = self.get_mut(c) {
            o.oid = Some(oid);
            self.by_oid.insert(oid, c);
        }
    }

    /// Active orders in a market.
    pub fn active_in(&self, m: MarketId) -> &[Cloid] {
        &self.active[m.index()]
    }

    pub fn active(&self) -> impl Iterator<Item = &TrackedOrder> {
        self.active
            .iter()
            .flatten()
            .filter_map(|c| self.live.get(c))
    }

    pub fn active_count(&self) -> usize {
        self.active.iter().map(Vec::len).sum()
    }

    /// Sets the state; returns the order after the change. Terminal states are sticky except
    /// that fills may still arrive (they update `filled`, not the state).
    pub fn set_state(&mut self, c: Cloid, state: OrderState) -> Option<TrackedOrder> {
        let o = self.get_mut(c)?;
        if !o.state.is_terminal() {
            o.state = state;
        }
        let o = *o;
        self.refresh_active(c);
        Some(o)
    }

    /// Records the final filled size the venue reported (post result or terminal update).
    pub fn set_final_filled(&mut self, c: Cloid, total: Decimal) {
        if let Some(o) = self.get_mut(c) {
            o.final_filled = Some(total.min(o.sz).max(o.filled));
        }
        self.refresh_active(c);
    }

    /// Applies a fill; moves the state to PartiallyFilled / Filled / FilledDuringCancel.
    pub fn apply_fill(&mut self, c: Cloid, px: Decimal, sz: Decimal) -> Option<TrackedOrder> {
        let o = self.get_mut(c)?;
        o.filled += sz;
        o.fill_value += px * sz;
        let done = o.filled >= o.sz;
        o.state = match o.state {
            OrderState::CancelPending if done => OrderState::FilledDuringCancel,
            OrderState::CancelPending => OrderState::CancelPending,
            s if s.is_terminal() => s,
            _ if done => OrderState::Filled,
            _ => OrderState::PartiallyFilled,
        };
        if done && o.final_filled.is_none() {
            o.final_filled = Some(o.sz);
        }
        let o = *o;
        self.refresh_active(c);
        Some(o)
    }

    /// An order that can no longer change the position leaves the live table and its market's
    /// active list for good (the oldest inactive ones are forgotten past `KEEP_TERMINAL`).
    fn refresh_active(&mut self, c: Cloid) {
        let Some(o) = self.live.get(&c) else { return };
        if o.is_active() {
            return;
        }
        let o = self.live.remove(&c).expect("just found");
        let list = &mut self.active[o.market.index()];
        if let Some(i) = list.iter().position(|x| *x == c) {
            list.swap_remove(i);
        }
        self.done.insert(c, o);
        self.retired.push_back(c);
        if self.retired.len() > KEEP_TERMINAL
            && let Some(old) = self.retired.pop_front()
            && let Some(gone) = self.done.remove(&old)
            && let Some(oid) = gone.oid
        {
            self.by_oid.remove(&oid);
        }
    }

    /// Pending aggregates of a market, for the gates.
    pub fn pending_in(&self, m: MarketId) -> Pending {
        let mut p = Pending::default();
        for c in &self.active[m.index()] {
            let o = &self.live[c];
            if o.reduce_only {
                p.reduce_count += 1;
            } else {
                p.new_count += 1;
                p.new_size += o.unfilled();
            }
        }
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(c: u128, sz: i64) -> TrackedOrder {
        TrackedOrder {
            cloid: Cloid(c),
            oid: None,
            market: MarketId(0),
            owner: None,
            tag: 0,
            side: Side::Buy,
            px: Decimal::from(100),
            sz: Decimal::from(sz),
            tif: Tif::Ioc,
            reduce_only: false,
            purpose: Purpose::Strategy,
            state: OrderState::Sent,
            filled: Decimal::ZERO,
            fill_value: Decimal::ZERO,
            final_filled: None,
            created_ns: 0,
        }
    }

    #[test]
    fn resting_partial_filled_lifecycle_with_average_price() {
        let mut t = OrderTracker::new(1);
        t.insert(order(1, 3));
        t.set_state(Cloid(1), OrderState::Resting);
        let o = t
            .apply_fill(Cloid(1), Decimal::from(100), Decimal::ONE)
            .unwrap();
        assert_eq!(o.state, OrderState::PartiallyFilled);
        let o = t
            .apply_fill(Cloid(1), Decimal::from(103), Decimal::TWO)
            .unwrap();
        assert_eq!(o.state, OrderState::Filled);
        assert_eq!(o.avg_fill_px(), Decimal::from(102));
        assert!(t.active_in(MarketId(0)).is_empty());
    }

    #[test]
    fn cancel_pending_then_filled_is_filled_during_cancel() {
        let mut t = OrderTracker::new(1);
        t.insert(order(1, 2));
        t.set_state(Cloid(1), OrderState::CancelPending);
        let o = t
            .apply_fill(Cloid(1), Decimal::from(100), Decimal::TWO)
            .unwrap();
        assert_eq!(o.state, OrderState::FilledDuringCancel);
    }

    #[test]
    fn exposure_stays_pending_until_reported_fills_arrive() {
        let mut t = OrderTracker::new(1);
        t.insert(order(1, 5));
        // The post result says the IOC filled 3 of 5 and the rest was cancelled: terminal...
        t.set_final_filled(Cloid(1), Decimal::from(3));
        t.set_state(Cloid(1), OrderState::Filled);
        // ...but none of the 3 has been applied yet: still pending exposure.
        assert_eq!(t.pending_in(MarketId(0)).new_size, Decimal::from(3));
        t.apply_fill(Cloid(1), Decimal::from(100), Decimal::from(3));
        assert_eq!(t.pending_in(MarketId(0)), Pending::default());
    }

    #[test]
    fn retired_orders_stay_findable_take_late_fills_and_are_forgotten_oldest_first() {
        let mut t = OrderTracker::new(1);
        t.insert(order(1, 2));
        t.set_oid(Cloid(1), 77);
        t.set_final_filled(Cloid(1), Decimal::ONE);
        t.set_state(Cloid(1), OrderState::Cancelled);
        // One unit of the reported fill is still to come: active until it arrives.
        assert_eq!(t.active_in(MarketId(0)), &[Cloid(1)]);
        let o = t
            .apply_fill(Cloid(1), Decimal::from(100), Decimal::ONE)
            .unwrap();
        assert_eq!(o.filled, Decimal::ONE);
        assert!(t.active_in(MarketId(0)).is_empty());
        assert!(t.live.is_empty() && t.done.contains_key(&Cloid(1)));
        // Retired: still found by cloid and by oid, and a late fill still counts.
        assert_eq!(t.by_oid(77), Some(Cloid(1)));
        assert_eq!(t.get(Cloid(1)).unwrap().state, OrderState::Cancelled);
        let o = t
            .apply_fill(Cloid(1), Decimal::from(100), Decimal::ONE)
            .unwrap();
        assert_eq!(o.filled, Decimal::TWO);
        assert!(
            t.active_in(MarketId(0)).is_empty(),
            "a retired order never comes back"
        );
        // Past KEEP_TERMINAL retired orders, the oldest (and its oid) is forgotten.
        for c in 2..=(KEEP_TERMINAL as u128 + 1) {
            t.insert(order(c, 1));
            t.set_final_filled(Cloid(c), Decimal::ZERO);
            t.set_state(Cloid(c), OrderState::Rejected);
        }
        assert_eq!(t.done.len(), KEEP_TERMINAL);
        assert!(t.get(Cloid(1)).is_none());
        assert_eq!(t.by_oid(77), None);
        assert!(t.get(Cloid(2)).is_some());
    }

    #[test]
    fn cloid_hasher_spreads_sequential_and_host_assigned_cloids() {
        use std::hash::BuildHasher;
        let b = std::hash::BuildHasherDefault::<CloidHasher>::default();
        let prefix: u128 = 0x1234_5678_9abc_def0 << 64;
        let mut seen = std::collections::HashSet::new();
        let mut buckets = [0u32; 64];
        for i in 0..4096u128 {
            for c in [prefix | i, (1u128 << 127) | i] {
                let h = b.hash_one(Cloid(c));
                assert!(seen.insert(h), "two cloids hash alike");
                buckets[(h & 63) as usize] += 1;
            }
        }
        // 8192 keys over 64 buckets: 128 each on average; none empty or swamped.
        assert!(
            buckets.iter().all(|n| (64..=256).contains(n)),
            "{buckets:?}"
        );
    }
}
