//! `FlattenOrderBuilder`: the reduce-only IOC that closes a position, priced from the BBO with a
//! slippage bound: a long sells at bid × (1 − slip), a short buys at ask × (1 + slip). While the
//! market's data makes no sense it prices from the last book that did; without a book side, from
//! the mark, then the oracle; without any it cannot price (the caller refuses NoPrice).

use super::market_state::MarketData;
use super::types::{BPS, Side};
use rust_decimal::Decimal;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlattenOrder {
    pub side: Side,
    pub px: Decimal,
    pub sz: Decimal,
}

pub struct FlattenOrderBuilder;

impl FlattenOrderBuilder {
    pub fn build(
        position: Decimal,
        md: &MarketData,
        slippage_bps: Decimal,
    ) -> Option<FlattenOrder> {
        let side = Side::closing(position)?;
        let slip = slippage_bps.max(Decimal::ZERO) / BPS;
        // While the data makes no sense, the last book that did; then the mark, then the oracle.
        let (bid, ask) = if md.is_bad() {
            (md.sane_bid, md.sane_ask)
        } else {
            (md.bid, md.ask)
        };
        let positive = |px: Decimal| (px > Decimal::ZERO).then_some(px);
        let reference = match side {
            Side::Sell => bid.map(|l| l.px),
            Side::Buy => ask.map(|l| l.px),
        }
        .and_then(positive)
        .or_else(|| positive(md.mark))
        .or_else(|| positive(md.oracle))?;
        let px = match side {
            Side::Sell => reference * (Decimal::ONE - slip),
            Side::Buy => reference * (Decimal::ONE + slip),
        };
        (px > Decimal::ZERO).then_some(FlattenOrder {
            side,
            px,
            sz: position.abs(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::types::Level;

    #[test]
    fn prices_from_the_bbo_with_the_slippage_bound() {
        let md = MarketData {
            bid: Some(Level {
                px: Decimal::from(100),
                sz: Decimal::ONE,
            }),
            ask: Some(Level {
                px: Decimal::from(101),
                sz: Decimal::ONE,
            }),
            mark: Decimal::from(99),
            ..Default::default()
        };
        let f = FlattenOrderBuilder::build(Decimal::from(2), &md, Decimal::from(50)).unwrap();
        assert_eq!(
            (f.side, f.px, f.sz),
            (Side::Sell, Decimal::new(995, 1), Decimal::from(2))
        );
        let f = FlattenOrderBuilder::build(Decimal::from(-3), &md, Decimal::from(100)).unwrap();
        assert_eq!(
            (f.side, f.px, f.sz),
            (Side::Buy, Decimal::new(10201, 2), Decimal::from(3))
        );
        assert_eq!(
            FlattenOrderBuilder::build(Decimal::ZERO, &md, Decimal::ONE),
            None
        );
        let no_book = MarketData {
            mark: Decimal::from(99),
            ..Default::default()
        };
        assert_eq!(
            FlattenOrderBuilder::build(Decimal::ONE, &no_book, Decimal::ZERO)
                .unwrap()
                .px,
            Decimal::from(99)
        );
        assert_eq!(
            FlattenOrderBuilder::build(Decimal::ONE, &MarketData::default(), Decimal::ZERO),
            None
        );
    }
}
