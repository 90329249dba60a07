//! Set-up shared by the top-level tests: a warm environment per variant.

#![allow(dead_code)] // each test file uses a part of it

use fraudcheck::{build, data, Env, FraudCheck, Payment, Variant};

/// The seed every test uses, so figures are reproducible.
pub const SEED: u64 = 2024;

/// A variant over `users` risky users, warmed by one request, and payments
/// of which about a tenth are by risky users.
pub fn warm(variant: Variant, users: usize) -> (Env, Box<dyn FraudCheck>, Vec<Payment>) {
    let env = Env::new(users, SEED);
    let check = build(variant, &env);
    let payments = data::payments(512, SEED + 1, &env.store.active_ids(), 0.1);
    check.is_risky(&payments[0]).expect("warm-up request");
    (env, check, payments)
}

/// The `i`-th payment, cycling.
pub fn nth(payments: &[Payment], i: u64) -> &Payment {
    &payments[i as usize % payments.len()]
}
