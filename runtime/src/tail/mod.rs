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
//! | `registry.rs` | the holds of the process, for the integrations that carry `traceresponse`: [`tail_keep_now`], [`tail_is_kept`] |

mod hold;
#[cfg_attr(not(feature = "init"), allow(dead_code))]
pub(crate) mod parse;
mod processor;
pub(crate) mod registry;
mod rule;
mod stats;
#[cfg(test)]
mod tests;

#[cfg(any(feature = "init", feature = "testing"))]
pub(crate) use processor::Fanout;
pub use processor::TailSampling;
pub use registry::{tail_is_kept, tail_keep_now};
pub use rule::{KeepFn, TailRule};
pub use stats::{TailStats, tail_stats};
