//! A target's resident memory, from `/proc/PID/status` (Linux): `VmRSS`,
//! the resident set now, and `VmHWM`, its high-water mark since the
//! process started. Both are the kernel's figures for the whole process,
//! whatever its language or allocator.

use std::io;

use serde::Serialize;

/// Resident memory of a process, in bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Resident {
    /// `VmRSS`: resident now.
    pub rss_bytes: u64,
    /// `VmHWM`: the most it has been resident.
    pub peak_bytes: u64,
}

/// Reads `/proc/{pid}/status`.
pub fn read(pid: u32) -> io::Result<Resident> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    parse(&text).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            "no VmRSS and VmHWM lines (a kernel thread, or not Linux)",
        )
    })
}

/// `VmRSS` and `VmHWM` of a status text (`VmRSS:\t   1234 kB`).
fn parse(status: &str) -> Option<Resident> {
    let kib = |field: &str| -> Option<u64> {
        let line = status.lines().find(|l| l.starts_with(field))?;
        let mut words = line[field.len()..].split_whitespace();
        let n: u64 = words.next()?.parse().ok()?;
        (words.next()? == "kB").then_some(n * 1024)
    };
    Some(Resident {
        rss_bytes: kib("VmRSS:")?,
        peak_bytes: kib("VmHWM:")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_lines_are_read_in_bytes() {
        let status = "Name:\tnode\nVmPeak:\t  999 kB\nVmHWM:\t    2048 kB\nVmRSS:\t    1024 kB\n";
        assert_eq!(
            parse(status),
            Some(Resident {
                rss_bytes: 1 << 20,
                peak_bytes: 2 << 20
            })
        );
        assert_eq!(parse("Name:\tkthreadd\n"), None);
    }

    #[test]
    fn this_process_is_resident() {
        let me = read(std::process::id()).expect("/proc/self is readable");
        assert!(me.rss_bytes > 0 && me.peak_bytes >= me.rss_bytes, "{me:?}");
    }
}
