//! How figures are written: counts, clock times, durations.

use std::time::Duration;

/// A count with thousands separators: `1,440,000`.
pub fn count(n: u64) -> String {
    indicatif::HumanCount(n).to_string()
}

/// A virtual time as `h:mm:ss` (`0:33:05`); hours go past 24.
pub fn clock_time(d: Duration) -> String {
    let s = d.as_secs();
    let (h, m, sec) = (s / 3600, s / 60 % 60, s % 60);
    format!("{h}:{m:02}:{sec:02}")
}

/// A duration as the user would write it: `4h`, `1h30m`, `200ms`, `45s`.
pub fn human_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms == 0 {
        return "0s".to_owned();
    }
    if !ms.is_multiple_of(1000) {
        return if ms >= 1000 {
            format!("{:.3}s", d.as_secs_f64())
        } else {
            format!("{ms}ms")
        };
    }
    let s = d.as_secs();
    let (h, m, sec) = (s / 3600, s / 60 % 60, s % 60);
    let mut out = String::new();
    for (value, unit) in [(h, "h"), (m, "m"), (sec, "s")] {
        if value > 0 {
            out += &format!("{value}{unit}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_get_a_comma_every_three_digits() {
        assert_eq!(count(1_440_000), "1,440,000");
        assert_eq!(count(12), "12");
        assert_eq!(count(0), "0");
        assert_eq!(count(1_000), "1,000");
    }

    #[test]
    fn clock_times_read_as_hours_minutes_seconds() {
        assert_eq!(clock_time(Duration::from_secs(1985)), "0:33:05");
        assert_eq!(clock_time(Duration::from_secs(90_000)), "25:00:00");
    }

    #[test]
    fn durations_print_as_they_are_typed() {
        assert_eq!(human_duration(Duration::from_secs(5400)), "1h30m");
        assert_eq!(human_duration(Duration::from_secs(4 * 3600)), "4h");
        assert_eq!(human_duration(Duration::from_millis(200)), "200ms");
        assert_eq!(human_duration(Duration::from_millis(1500)), "1.500s");
        assert_eq!(human_duration(Duration::ZERO), "0s");
    }
}
