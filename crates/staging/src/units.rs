//! Reading the figures the flags of every command take: one duration
//! grammar (`replay --duration 1.5h`, `soak --duration 1.5m`, `--ttl 300s`,
//! `--store-latency 200ms`) and one byte-size grammar (`--limit 1GiB`).

use std::time::Duration;

/// A duration that could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid duration `{input}`: {reason} (examples: 4h, 90m, 30s, 200ms, 1h30m, 600)")]
pub struct DurationError {
    /// What was given.
    pub input: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

/// A byte size that could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid size `{input}`: {reason} (examples: 1GiB, 512MiB, 64KiB, 1048576)")]
pub struct SizeError {
    /// What was given.
    pub input: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

/// The figure's text without surrounding spaces; refused when empty or
/// negative.
fn unsigned(input: &str) -> Result<&str, &'static str> {
    let s = input.trim();
    if s.is_empty() {
        Err("empty")
    } else if s.starts_with('-') {
        Err("negative")
    } else {
        Ok(s)
    }
}

/// The number at the start of `s` (digits and a decimal point) and the text
/// after it.
fn leading_number(s: &str) -> Result<(f64, &str), &'static str> {
    let len = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    if len == 0 {
        return Err("expected a number");
    }
    let value = s[..len].parse().map_err(|_| "not a number")?;
    Ok((value, &s[len..]))
}

/// Reads a duration: one or more `<number><unit>` parts (`1h30m`), units
/// `ms`, `s`, `m`, `h`, `d` (and `sec`, `min`, `hr` with their plurals); a
/// plain number is seconds. Decimals are allowed (`1.5h`); signs are not.
///
/// ```
/// use std::time::Duration;
/// use heaplab_staging::units::parse_duration;
/// assert_eq!(parse_duration("4h").unwrap(), Duration::from_secs(4 * 3600));
/// assert_eq!(parse_duration("1h30m").unwrap(), Duration::from_secs(5400));
/// assert_eq!(parse_duration("1.5m").unwrap(), Duration::from_secs(90));
/// assert_eq!(parse_duration("200ms").unwrap(), Duration::from_millis(200));
/// assert_eq!(parse_duration("600").unwrap(), Duration::from_secs(600));
/// assert!(parse_duration("-5s").is_err());
/// ```
pub fn parse_duration(input: &str) -> Result<Duration, DurationError> {
    let err = |reason| DurationError {
        input: input.to_owned(),
        reason,
    };
    let mut total = 0.0f64;
    let mut rest = unsigned(input).map_err(err)?;
    while !rest.is_empty() {
        let value;
        (value, rest) = leading_number(rest).map_err(err)?;
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let unit = rest[..unit_len].trim();
        rest = &rest[unit_len..];
        let scale = match unit {
            "" if rest.is_empty() && total == 0.0 => 1.0,
            "ms" => 1e-3,
            "s" | "sec" | "secs" => 1.0,
            "m" | "min" | "mins" => 60.0,
            "h" | "hr" | "hrs" => 3600.0,
            "d" => 86_400.0,
            "" => return Err(err("missing unit")),
            _ => return Err(err("unknown unit (use ms, s, m, h or d)")),
        };
        total += value * scale;
    }
    Duration::try_from_secs_f64(total).map_err(|_| err("too large"))
}

/// A duration above zero, for a flag's value parser (clap shows the
/// message after the flag's name).
pub fn positive_duration(s: &str) -> Result<Duration, String> {
    match parse_duration(s).map_err(|e| e.to_string())? {
        d if d.is_zero() => Err("must be greater than zero".into()),
        d => Ok(d),
    }
}

/// Reads a byte size: a number with an optional unit, binary (`KiB`, `MiB`,
/// `GiB`, `TiB`, or `Ki`, `Mi`, `Gi`, `Ti` as Kubernetes writes them) or
/// decimal (`KB`, `MB`, `GB`, `TB`, or `K`, `M`, `G`, `T`, also as in
/// Kubernetes); a plain number is bytes; `B` is accepted. Case-insensitive;
/// decimals allowed (`1.5GiB`).
///
/// ```
/// use heaplab_staging::units::parse_size;
/// assert_eq!(parse_size("1GiB").unwrap(), 1 << 30);
/// assert_eq!(parse_size("512Mi").unwrap(), 512 << 20);
/// assert_eq!(parse_size("4096").unwrap(), 4096);
/// assert_eq!(parse_size("1G").unwrap(), 1_000_000_000);
/// assert!(parse_size("lots").is_err());
/// ```
pub fn parse_size(input: &str) -> Result<u64, SizeError> {
    let err = |reason| SizeError {
        input: input.to_owned(),
        reason,
    };
    let (value, unit) = leading_number(unsigned(input).map_err(err)?).map_err(err)?;
    let unit = unit.trim().to_ascii_lowercase();
    let scale: f64 = match unit.as_str() {
        "" | "b" => 1.0,
        "ki" | "kib" => 1024.0,
        "mi" | "mib" => 1024.0 * 1024.0,
        "gi" | "gib" => 1024.0 * 1024.0 * 1024.0,
        "ti" | "tib" => 1024.0f64.powi(4),
        "k" | "kb" => 1e3,
        "m" | "mb" => 1e6,
        "g" | "gb" => 1e9,
        "t" | "tb" => 1e12,
        _ => return Err(err("unknown unit (use B, KiB, MiB, GiB or TiB)")),
    };
    let bytes = (value * scale).round();
    if !(0.0..1.8e19).contains(&bytes) {
        return Err(err("too large"));
    }
    Ok(bytes as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_accept_units_decimals_and_plain_seconds() {
        assert_eq!(parse_duration("90m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_duration("30s").unwrap(), Duration::from_secs(30));
        assert_eq!(parse_duration("2m30s").unwrap(), Duration::from_secs(150));
        assert_eq!(parse_duration("1.5h").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_duration("0").unwrap(), Duration::ZERO);
        for bad in ["", "h", "4x", "4h30", "--", "1..2s", "-1", "3x"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
        assert_eq!(
            parse_duration("4x").unwrap_err().to_string(),
            "invalid duration `4x`: unknown unit (use ms, s, m, h or d) (examples: 4h, 90m, 30s, 200ms, 1h30m, 600)"
        );
    }

    #[test]
    fn sizes_accept_binary_and_decimal_units() {
        assert_eq!(parse_size("512MiB").unwrap(), 512 << 20);
        assert_eq!(parse_size("1gib").unwrap(), 1 << 30);
        assert_eq!(parse_size("1.5KiB").unwrap(), 1536);
        assert_eq!(parse_size("2MB").unwrap(), 2_000_000);
        for bad in ["", "MiB", "1 parsec", "-1GiB", "1e3"] {
            assert!(parse_size(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_positive_duration_refuses_zero() {
        assert_eq!(
            positive_duration("0s"),
            Err("must be greater than zero".into())
        );
        assert_eq!(positive_duration("1.5m"), Ok(Duration::from_secs(90)));
    }
}
