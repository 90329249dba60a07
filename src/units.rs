//! Reading the figures the flags take: durations (`4h`, `90m`,
//! `30s`, `200ms`, plain seconds) and byte sizes (`1GiB`, `512MiB`, plain
//! bytes).
//!
//! One grammar of each for every command, `serve` and `soak` too: they are
//! `heaplab_staging::units`'s, re-exported here.
//!
//! ```
//! use std::time::Duration;
//! use heaplab::units::{parse_duration, parse_size};
//! assert_eq!(parse_duration("1h30m").unwrap(), Duration::from_secs(5400));
//! assert_eq!(parse_size("512Mi").unwrap(), 512 << 20);
//! ```

pub use heaplab_staging::units::{parse_duration, parse_size, DurationError, SizeError};
