//! clap value parsers: each flag's text to its value, with a one-line
//! reason when it cannot be read.

use std::time::Duration;

use fraudcheck::Variant;

use crate::replay::MemoryModel;
use crate::units::{parse_duration, parse_size};

/// A reason a value was refused, shown by clap after the flag's name.
type Refused = String;

fn positive<T>(s: &str) -> Result<T, Refused>
where
    T: std::str::FromStr + PartialOrd + Default,
{
    let t = s.trim();
    if t.starts_with('-') {
        return Err("must be greater than zero".into());
    }
    match t.parse::<T>() {
        Ok(v) if v > T::default() => Ok(v),
        Ok(_) => Err("must be greater than zero".into()),
        Err(_) => Err("not a number".into()),
    }
}

/// A whole number above zero.
pub(crate) fn positive_u32(s: &str) -> Result<u32, Refused> {
    positive(s)
}

/// A whole number above zero.
pub(crate) fn positive_u64(s: &str) -> Result<u64, Refused> {
    positive(s)
}

/// A whole number above zero.
pub(crate) fn positive_usize(s: &str) -> Result<usize, Refused> {
    positive(s)
}

/// A finite number above zero.
pub(crate) fn positive_f64(s: &str) -> Result<f64, Refused> {
    let v: f64 = positive(s)?;
    if v.is_finite() {
        Ok(v)
    } else {
        Err("must be a finite number".into())
    }
}

/// A duration, zero allowed.
pub(crate) fn any_duration(s: &str) -> Result<Duration, Refused> {
    parse_duration(s).map_err(|e| e.to_string())
}

/// A duration above zero (the same parser as `soak --duration`'s).
pub(crate) fn positive_duration(s: &str) -> Result<Duration, Refused> {
    heaplab_staging::units::positive_duration(s)
}

/// A byte size, zero allowed.
pub(crate) fn any_size(s: &str) -> Result<u64, Refused> {
    parse_size(s).map_err(|e| e.to_string())
}

/// A byte size above zero.
pub(crate) fn positive_size(s: &str) -> Result<u64, Refused> {
    match any_size(s)? {
        0 => Err("must be greater than zero".into()),
        n => Ok(n),
    }
}

/// A variant of the catalogue, by name (`-` for `_`, any case).
pub(crate) fn variant(s: &str) -> Result<Variant, Refused> {
    s.parse()
        .map_err(|e: fraudcheck::UnknownVariant| e.to_string())
}

/// The replay's memory model, by name.
pub(crate) fn memory_model(s: &str) -> Result<MemoryModel, Refused> {
    [MemoryModel::Live, MemoryModel::Resident]
        .into_iter()
        .find(|m| m.name().eq_ignore_ascii_case(s))
        .ok_or_else(|| format!("expected `live` or `resident`, got `{s}`"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_and_negative_counts_are_refused_as_not_positive() {
        for bad in ["0", "-2", " -1 "] {
            assert_eq!(positive_u32(bad), Err("must be greater than zero".into()));
        }
        assert_eq!(positive_u32("four"), Err("not a number".into()));
        assert_eq!(positive_u32(" 4 "), Ok(4));
    }

    #[test]
    fn an_infinite_rate_is_refused() {
        assert!(positive_f64("inf").is_err());
        assert_eq!(positive_f64("0.5"), Ok(0.5));
    }

    #[test]
    fn a_zero_duration_or_size_is_refused_only_where_it_must_be_positive() {
        assert!(positive_duration("0s").is_err());
        assert_eq!(any_duration("0s"), Ok(Duration::ZERO));
        assert!(positive_size("0").is_err());
        assert_eq!(any_size("0"), Ok(0));
    }

    #[test]
    fn every_catalogue_name_parses_and_an_unknown_one_lists_them_all() {
        for v in Variant::ALL {
            assert_eq!(variant(v.name()), Ok(v));
        }
        let err = variant("leaky").unwrap_err();
        for v in Variant::ALL {
            assert!(err.contains(v.name()), "{err}");
        }
    }
}
