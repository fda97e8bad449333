//! The spans of the shapes `#[traced]` accepts: impl blocks, trait
//! methods, `#[track_caller]`, entry points.

mod common;

use common::*;
use opentelemetry::Value;
use opentelemetry::trace::Status;
use traced::testing::capture;
use traced::{traced, untraced};

struct Cart {
    items: Vec<u32>,
}

#[traced(attributes(shop = "demo"))]
impl Cart {
    fn new() -> Self {
        Cart { items: Vec::new() }
    }

    fn add(&mut self, price: u32) -> usize {
        self.items.push(price);
        self.count()
    }

    #[traced(name = "checkout", ret)]
    fn total(&self, discount: u32) -> u32 {
        self.items.iter().sum::<u32>() - discount
    }

    #[untraced]
    fn count(&self) -> usize {
        self.items.len()
    }
}

trait Pricing {
    fn price(&self, base: u32) -> Result<u32, String>;
}

#[traced]
impl Pricing for Cart {
    fn price(&self, base: u32) -> Result<u32, String> {
        if base == 0 {
            Err("free is not a price".into())
        } else {
            Ok(base)
        }
    }
}

#[test]
fn impl_blocks_name_spans_after_the_type() {
    let spans = capture(|| {
        let mut cart = Cart::new();
        cart.add(3);
        cart.add(4);
        assert_eq!(cart.total(1), 6);
        assert!(cart.price(0).is_err());
    });
    assert_eq!(spans.named("Cart::new").len(), 1);
    let adds = spans.named("Cart::add");
    assert_eq!(adds.len(), 2);
    assert_eq!(attr(adds[0], "price"), Some(&Value::I64(3)));
    assert_eq!(attr(adds[0], "shop"), Some(&Value::String("demo".into())));
    assert_eq!(
        attr(adds[0], "code.function.name"),
        Some(&Value::String("shapes::Cart::add".into()))
    );
    // The method's own options replace the block's.
    let checkout = spans.one("checkout");
    assert_eq!(attr(checkout, "return"), Some(&Value::I64(6)));
    assert_eq!(attr(checkout, "discount"), Some(&Value::I64(1)));
    // `#[untraced]` opts out.
    assert!(spans.named("Cart::count").is_empty());
    let price = spans.one("Cart::price");
    assert!(is_error(price));
    assert_eq!(spans.len(), 5);
}

#[traced]
#[track_caller]
fn located(fail: bool) -> Result<u32, String> {
    if fail {
        Err(format!("at {}", std::panic::Location::caller().line()))
    } else {
        Ok(1)
    }
}

#[test]
fn track_caller_keeps_the_callers_location() {
    let spans = capture(|| {
        let line = line!() + 1;
        let err = located(true).expect_err("fails");
        assert_eq!(err, format!("at {line}"));
        assert!(located(false).is_ok());
    });
    let located = spans.named("located");
    assert_eq!(located.len(), 2);
    assert!(is_error(located[0]));
    assert_eq!(located[1].status, Status::Unset);
}
