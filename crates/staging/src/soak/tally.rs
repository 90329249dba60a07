//! Where every scheduled request ended: one bucket each, nothing dropped.

use serde::Serialize;

/// Where every scheduled request ended.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    /// Requests scheduled.
    pub scheduled: u64,
    /// `200` with a decision from the check.
    pub checked: u64,
    /// Of those, `"risky":true`.
    pub risky: u64,
    /// `200` decided by the fail policy (`"degraded"` set).
    pub degraded: u64,
    /// `503` with a reason.
    pub unavailable: u64,
    /// Any other status.
    pub other_status: u64,
    /// Connection refused, reset or closed before an answer.
    pub transport_errors: u64,
    /// No answer within the timeout.
    pub timeouts: u64,
    /// Not sent: too many requests in flight.
    pub not_sent: u64,
}

impl Tally {
    /// Requests sent: scheduled and not held back.
    pub fn sent(&self) -> u64 {
        self.scheduled - self.not_sent
    }

    /// Requests answered by the service (any status).
    pub fn answered(&self) -> u64 {
        self.checked + self.degraded + self.unavailable + self.other_status
    }

    /// Requests that got no decision.
    pub fn failed(&self) -> u64 {
        self.unavailable + self.other_status + self.transport_errors + self.timeouts + self.not_sent
    }

    /// Whether every scheduled request is in exactly one bucket: decided
    /// or failed, and every sent one answered, failed in transport or
    /// timed out.
    pub fn accounted(&self) -> bool {
        self.checked + self.degraded + self.failed() == self.scheduled
            && self.answered() + self.transport_errors + self.timeouts == self.sent()
    }

    /// Counts one sent request's ending.
    pub(crate) fn count(&mut self, e: Ending) {
        match e {
            Ending::Checked { risky } => {
                self.checked += 1;
                self.risky += u64::from(risky);
            }
            Ending::Degraded => self.degraded += 1,
            Ending::Unavailable => self.unavailable += 1,
            Ending::OtherStatus => self.other_status += 1,
            Ending::Transport => self.transport_errors += 1,
            Ending::Timeout => self.timeouts += 1,
        }
    }
}

/// How one sent request ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ending {
    Checked { risky: bool },
    Degraded,
    Unavailable,
    OtherStatus,
    Transport,
    Timeout,
}

impl Ending {
    /// Whether the service answered (its latency is a latency).
    pub(crate) fn answered(self) -> bool {
        !matches!(self, Ending::Transport | Ending::Timeout)
    }

    /// The ending of an answer with `status` and `body`.
    pub(crate) fn classify(status: u16, body: &[u8]) -> Ending {
        let has = |needle: &[u8]| body.windows(needle.len()).any(|w| w == needle);
        match status {
            200 if has(b"\"degraded\"") => Ending::Degraded,
            200 => Ending::Checked {
                risky: has(b"\"risky\":true"),
            },
            503 => Ending::Unavailable,
            _ => Ending::OtherStatus,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_ending_lands_in_one_bucket() {
        let mut t = Tally {
            scheduled: 7,
            not_sent: 1,
            ..Tally::default()
        };
        for e in [
            Ending::Checked { risky: true },
            Ending::Degraded,
            Ending::Unavailable,
            Ending::OtherStatus,
            Ending::Transport,
            Ending::Timeout,
        ] {
            t.count(e);
        }
        assert!(t.accounted());
        assert_eq!((t.sent(), t.answered(), t.failed(), t.risky), (6, 4, 5, 1));
        t.timeouts += 1;
        assert!(!t.accounted(), "an ending counted twice");
    }

    #[test]
    fn answers_are_classified_by_status_and_body() {
        assert_eq!(
            Ending::classify(200, br#"{"risky":true}"#),
            Ending::Checked { risky: true }
        );
        assert_eq!(
            Ending::classify(200, br#"{"risky":false,"degraded":"x"}"#),
            Ending::Degraded
        );
        assert_eq!(Ending::classify(503, b"{}"), Ending::Unavailable);
        assert_eq!(Ending::classify(400, b"{}"), Ending::OtherStatus);
    }
}
