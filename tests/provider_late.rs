//! A call site used before any provider exists finds the one installed
//! later, and one replaced in between.
//!
//! Its own test binary: the first call must happen with nothing installed,
//! and in a binary shared with other tests, another test's capture may be
//! installed at that moment, so the call would land in that test's spans
//! (and break it) instead of checking anything here.

use traced::testing::capture;
use traced::traced;

#[traced]
fn c() -> u32 {
    1
}

#[test]
fn spans_appear_when_the_provider_is_installed_after_the_first_call() {
    // First call with no `traced` provider: the global no-op one.
    assert_eq!(c(), 1);
    let spans = capture(|| {
        c();
    });
    assert_eq!(spans.named("c").len(), 1);
    // And a provider replaced in between is seen too.
    let spans = capture(|| {
        c();
    });
    assert_eq!(spans.named("c").len(), 1);
}
