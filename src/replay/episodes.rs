//! Store queries grouped into miss episodes: a query more than `window`
//! after the first query of the current episode starts a new one.

use std::time::Duration;

use serde::Serialize;

/// Store queries grouped into miss episodes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Episodes {
    /// Number of episodes (the cold start included).
    pub episodes: u64,
    /// Mean queries per episode.
    pub mean: f64,
    /// Most queries in one episode.
    pub max: u64,
}

impl Episodes {
    /// The episodes of these per-episode query counts.
    fn of(counts: &[u64]) -> Episodes {
        let total: u64 = counts.iter().sum();
        Episodes {
            episodes: counts.len() as u64,
            mean: if counts.is_empty() {
                0.0
            } else {
                total as f64 / counts.len() as f64
            },
            max: counts.iter().copied().max().unwrap_or(0),
        }
    }
}

/// Every store query of a replay: when it was asked and by which pod.
#[derive(Debug, Default)]
pub(crate) struct QueryLog {
    queries: Vec<(Duration, usize)>,
}

impl QueryLog {
    /// `asked` queries made at `t` by pod `pod`.
    pub(crate) fn record(&mut self, t: Duration, pod: usize, asked: u64) {
        for _ in 0..asked {
            self.queries.push((t, pod));
        }
    }

    /// The episodes as the store sees them (all pods together), and as
    /// each of `pods` pods sees its own, pooled.
    pub(crate) fn episodes(&self, window: Duration, pods: usize) -> (Episodes, Episodes) {
        let all = counts(self.queries.iter().map(|&(t, _)| t), window);
        let mut per_pod = Vec::new();
        for p in 0..pods {
            per_pod.extend(counts(
                self.queries.iter().filter(|q| q.1 == p).map(|&(t, _)| t),
                window,
            ));
        }
        (Episodes::of(&all), Episodes::of(&per_pod))
    }
}

/// Query counts per miss episode: `times` in arrival order, one entry per
/// query.
fn counts(times: impl IntoIterator<Item = Duration>, window: Duration) -> Vec<u64> {
    let mut out: Vec<u64> = Vec::new();
    let mut start: Option<Duration> = None;
    for t in times {
        match (start, out.last_mut()) {
            (Some(s), Some(last)) if t < s + window => *last += 1,
            _ => {
                start = Some(t);
                out.push(1);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_after_the_window_starts_a_new_episode() {
        let s = Duration::from_secs;
        let counts = counts([s(0), s(0), s(1), s(400), s(401), s(900)], s(150));
        assert_eq!(counts, vec![3, 2, 1]);
        let e = Episodes::of(&counts);
        assert_eq!((e.episodes, e.mean, e.max), (3, 2.0, 3));
    }

    #[test]
    fn no_query_is_no_episode_and_a_zero_mean() {
        assert_eq!(Episodes::of(&[]), Episodes::default());
    }

    #[test]
    fn each_pod_counts_its_own_episodes() {
        let s = Duration::from_secs;
        let mut log = QueryLog::default();
        log.record(s(0), 0, 2);
        log.record(s(0), 1, 1);
        log.record(s(500), 1, 1);
        let (db, pod) = log.episodes(s(150), 2);
        assert_eq!((db.episodes, db.max), (2, 3));
        assert_eq!((pod.episodes, pod.max), (3, 2));
    }
}
