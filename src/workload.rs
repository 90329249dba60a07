//! The traffic every command sends: payments by a seeded mix of risky and
//! ordinary users, generated once and cycled through.

use fraudcheck::{data, Payment};

/// Share of payments made by a user on the risky list. The reference
/// measurements used even ids for about 50%.
pub const RISKY_SHARE: f64 = 0.5;

/// Payments in the replay's pool (fewer when the replay is shorter).
pub const REPLAY_POOL: usize = 65_536;

/// Payments in the pool of `compare` and `profile` (fewer when `profile`
/// runs fewer requests).
pub const SHORT_POOL: usize = 4_096;

/// A pool of payments over the risky users of one seed.
///
/// ```
/// use heaplab::workload::Workload;
/// let w = Workload::new(1_000, 42, 4);
/// assert_eq!(w.payment(5), w.payment(1)); // the pool cycles
/// assert_eq!(w.request(5).id, 6);          // requests are renumbered
/// ```
#[derive(Clone, Debug)]
pub struct Workload {
    pool: Vec<Payment>,
}

impl Workload {
    /// `pool` payments (at least one) for the store of
    /// [`data::risky_user_ids`]`(users, seed)`, about [`RISKY_SHARE`] of
    /// them by a risky user.
    pub fn new(users: usize, seed: u64, pool: usize) -> Workload {
        let ids = data::risky_user_ids(users, seed);
        Workload {
            pool: data::payments(pool.max(1), seed, &ids, RISKY_SHARE),
        }
    }

    /// The `i`-th payment of the pool, cycling.
    pub fn payment(&self, i: u64) -> &Payment {
        &self.pool[i as usize % self.pool.len()]
    }

    /// Request `k` of a long run: the pool's payment with the id `k + 1`,
    /// so every request is a distinct payment.
    pub fn request(&self, k: u64) -> Payment {
        Payment {
            id: k + 1,
            ..*self.payment(k)
        }
    }
}
