//! The spans of the shapes `#[traced]` accepts: impl blocks, trait
//! methods, `#[track_caller]`, methods with every kind of receiver,
//! generics with `where` clauses, `unsafe fn`.

mod support;

use opentelemetry::Value;
use opentelemetry::trace::Status;
use support::spans::*;
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
struct Account {
    balance: i64,
}

impl Account {
    #[traced]
    fn new(balance: i64) -> Self {
        Account { balance }
    }
    #[traced]
    fn get(&self) -> i64 {
        self.balance
    }
    #[traced]
    fn add(&mut self, amount: i64) {
        self.balance += amount;
    }
    #[traced]
    fn into_balance(self) -> i64 {
        self.balance
    }
    #[traced]
    fn boxed(self: Box<Self>) -> i64 {
        self.balance
    }
}

#[traced(skip(extra))]
fn generic_where<'a, T>(items: &'a [T], extra: impl AsRef<str>) -> usize
where
    T: std::fmt::Debug + 'a,
{
    items.len() + extra.as_ref().len()
}

#[traced]
pub(crate) unsafe fn dangerous(x: u8) -> u8 {
    x
}

#[test]
fn methods_generics_and_unsafe() {
    let spans = capture(|| {
        let mut account = Account::new(10);
        account.add(5);
        assert_eq!(account.get(), 15);
        assert_eq!(Box::new(Account::new(1)).boxed(), 1);
        assert_eq!(account.into_balance(), 15);
        assert_eq!(generic_where(&[1, 2], "abc"), 5);
        // SAFETY: `dangerous` has no precondition; it is `unsafe` only to
        // show that unsafe functions can be instrumented.
        assert_eq!(unsafe { dangerous(3) }, 3);
    });
    assert_eq!(attr(spans.one("add"), "amount"), Some(&Value::I64(5)));
    assert!(
        spans
            .one("get")
            .attributes
            .iter()
            .all(|kv| !kv.key.as_str().contains("self"))
    );
    assert_eq!(spans.named("new").len(), 2);
    assert_eq!(spans.one("into_balance").status, Status::Unset);
    assert_eq!(spans.one("boxed").status, Status::Unset);
    // A generic `T: Debug` is recorded through `Debug`.
    assert_eq!(
        attr(spans.one("generic_where"), "items"),
        Some(&Value::String("[1, 2]".into()))
    );
    assert_eq!(attr(spans.one("dangerous"), "x"), Some(&Value::I64(3)));
}
