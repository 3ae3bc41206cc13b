//! The book simulated execution matches against: the replayed (or, paper, live) levels of one
//! market.

use crate::sim::matching::BookLevel;

/// Levels a side holds at most (the venue's l2Book sends 20).
const MAX_LEVELS: usize = 20;

#[derive(Debug, Clone, Default)]
pub struct Book {
    pub bids: Vec<BookLevel>,
    pub asks: Vec<BookLevel>,
    /// An l2Book snapshot was seen: a bbo updates its top and keeps its deeper levels.
    /// Otherwise the book is the bbo alone.
    has_depth: bool,
}

impl Book {
    /// A full snapshot (`depth`) replaces the book; a best bid and offer replaces the top and
    /// drops the levels it passed.
    pub fn update(&mut self, bids: &[BookLevel], asks: &[BookLevel], depth: bool) {
        if depth {
            self.has_depth = true;
            self.bids.clear();
            self.bids
                .extend_from_slice(&bids[..bids.len().min(MAX_LEVELS)]);
            self.asks.clear();
            self.asks
                .extend_from_slice(&asks[..asks.len().min(MAX_LEVELS)]);
        } else {
            replace_top(&mut self.bids, bids.first().copied(), true, self.has_depth);
            replace_top(&mut self.asks, asks.first().copied(), false, self.has_depth);
        }
    }
}

/// Sets the best level of one side: with a snapshot's depth, the levels the new best passed are
/// dropped and the rest kept (at most `MAX_LEVELS`); without, the side is that level alone.
fn replace_top(side: &mut Vec<BookLevel>, best: Option<BookLevel>, bids: bool, depth: bool) {
    let Some((px, sz)) = best else {
        side.clear();
        return;
    };
    if !depth {
        side.clear();
        side.push((px, sz));
        return;
    }
    side.retain(|(p, _)| if bids { *p < px } else { *p > px });
    side.insert(0, (px, sz));
    side.truncate(MAX_LEVELS);
}
