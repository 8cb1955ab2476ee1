//! Facts about the running kernel and its interfaces that decide how we load and attach.

use std::ffi::{CStr, CString};
use std::io;

use crate::error::{Error, Result};

/// (major, minor) from a release string such as "6.18.44-fc-v595".
pub fn parse_release(release: &str) -> Option<(u32, u32)> {
    let mut parts = release.split(|c: char| !c.is_ascii_digit());
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

/// The running kernel's (major, minor), from uname(2).
pub fn version() -> Option<(u32, u32)> {
    // SAFETY: utsname is plain old data, so all-zero bytes are a valid value.
    let mut uts: libc::utsname = unsafe { std::mem::zeroed() };
    // SAFETY: uts is a live, exclusively borrowed utsname that uname fills in.
    if unsafe { libc::uname(&mut uts) } != 0 {
        return None;
    }
    // SAFETY: uname NUL-terminates release within the array.
    let release = unsafe { CStr::from_ptr(uts.release.as_ptr()) };
    parse_release(&release.to_string_lossy())
}

fn at_least(major: u32, minor: u32) -> bool {
    version().is_some_and(|v| v >= (major, minor))
}

/// BPF_LINK_CREATE for BPF_XDP arrived in Linux 5.9.
pub fn has_xdp_links() -> bool {
    at_least(5, 9)
}

/// Before 5.11 BPF memory was charged to RLIMIT_MEMLOCK instead of the memory cgroup.
pub fn raise_memlock_if_needed() {
    if at_least(5, 11) {
        return;
    }
    let unlimited = libc::rlimit {
        rlim_cur: libc::RLIM_INFINITY,
        rlim_max: libc::RLIM_INFINITY,
    };
    // SAFETY: passes a pointer to a live rlimit. Failure (unprivileged) is reported later by
    // BPF_MAP_CREATE as EPERM, so the result is deliberately ignored.
    unsafe { libc::setrlimit(libc::RLIMIT_MEMLOCK, &unlimited) };
}

/// The interface index of `name`, or ENODEV saying which name was not found.
pub fn ifindex(name: &str) -> Result<u32> {
    let not_found = || {
        Error::new(
            libc::ENODEV,
            format!("no network interface named {name:?} (see `ip link show`)"),
        )
    };
    let c_name = CString::new(name).map_err(|_| not_found())?;
    // SAFETY: c_name is a NUL-terminated string that lives across the call.
    let index = unsafe { libc::if_nametoindex(c_name.as_ptr()) };
    if index == 0 {
        let err = io::Error::last_os_error();
        return match err.raw_os_error() {
            Some(libc::ENODEV) | Some(libc::ENXIO) | None => Err(not_found()),
            _ => Err(Error::os(&err, &format!("looking up interface {name:?}"))),
        };
    }
    Ok(index)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn release_strings() {
        assert_eq!(parse_release("6.18.44-fc-v595"), Some((6, 18)));
        assert_eq!(parse_release("5.4.0-150-generic"), Some((5, 4)));
        assert_eq!(parse_release("4.19"), Some((4, 19)));
        assert_eq!(parse_release("garbage"), None);
    }

    #[test]
    fn loopback_exists_and_nonsense_does_not() {
        assert!(ifindex("lo").unwrap() > 0);
        assert_eq!(ifindex("h2-no-such-if").unwrap_err().code(), "ENODEV");
        assert_eq!(ifindex("bad\0name").unwrap_err().code(), "ENODEV");
    }
}
