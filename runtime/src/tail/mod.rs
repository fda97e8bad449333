//! Tail sampling (#28): keep every failed and every slow trace, and a
//! share of the rest, decided when the trace's part in this process has
//! ended.
//!
//! | file | owns |
//! | --- | --- |
//! | `rule.rs` | the rules ([`TailRule`]) and the decision over a fragment, with the consistent-probability ratio |
//! | `parse.rs` | `TRACED_TAIL_SAMPLING` |
//! | `hold.rs` | the held traces, their bounds and the decision cache, driven by a clock given in |
//! | `processor.rs` | [`TailSampling`], the SDK span processor the hold runs in |
//! | `stats.rs` | [`TailStats`] and [`tail_stats`] |

mod hold;
#[cfg_attr(not(feature = "init"), allow(dead_code))]
pub(crate) mod parse;
mod processor;
mod rule;
mod stats;
#[cfg(test)]
mod tests;

#[cfg(any(feature = "init", feature = "testing"))]
pub(crate) use processor::Fanout;
pub use processor::TailSampling;
pub use rule::{KeepFn, TailRule};
pub use stats::{TailStats, tail_stats};
