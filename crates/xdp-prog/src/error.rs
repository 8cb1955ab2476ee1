//! Errors carry the kernel's errno (so Node can expose it as `err.code`) and a message that says
//! what the user can do about it.

use std::fmt;
use std::io;

/// An errno from the kernel plus an actionable message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    errno: i32,
    message: String,
}

pub type Result<T> = std::result::Result<T, Error>;

/// Every loader entry point creates maps first, so EPERM shows up there; keep one wording.
pub const NEEDS_PRIVILEGE: &str = "loading an XDP program needs root or CAP_BPF and CAP_NET_ADMIN";

impl Error {
    pub fn new(errno: i32, message: impl Into<String>) -> Self {
        Error {
            errno,
            message: message.into(),
        }
    }

    /// Wraps an OS error with what we were doing; EPERM always gets the privilege hint.
    pub fn os(err: &io::Error, doing: &str) -> Self {
        let errno = err.raw_os_error().unwrap_or(match err.kind() {
            io::ErrorKind::InvalidInput => libc::EINVAL,
            _ => libc::EIO,
        });
        let text = strerror(err);
        if errno == libc::EPERM {
            return Error::new(errno, format!("{NEEDS_PRIVILEGE} ({doing}: {text})"));
        }
        Error::new(errno, format!("{doing}: {text}"))
    }

    pub fn errno(&self) -> i32 {
        self.errno
    }

    /// The errno's symbolic name, as Node puts it in `err.code`.
    pub fn code(&self) -> String {
        errno_name(self.errno)
    }

    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code(), self.message)
    }
}

impl std::error::Error for Error {}

/// `io::Error`'s text without Rust's " (os error N)" suffix (the errno is in `code`).
fn strerror(err: &io::Error) -> String {
    let text = err.to_string();
    match text.find(" (os error ") {
        Some(cut) => text[..cut].to_string(),
        None => text,
    }
}

/// Symbolic names for the errnos bpf(2) and rtnetlink return; others come out as `E<number>`.
pub fn errno_name(errno: i32) -> String {
    let name = match errno {
        libc::EPERM => "EPERM",
        libc::ENOENT => "ENOENT",
        libc::EINTR => "EINTR",
        libc::EIO => "EIO",
        libc::E2BIG => "E2BIG",
        libc::EBADF => "EBADF",
        libc::EAGAIN => "EAGAIN",
        libc::ENOMEM => "ENOMEM",
        libc::EACCES => "EACCES",
        libc::EFAULT => "EFAULT",
        libc::EBUSY => "EBUSY",
        libc::EEXIST => "EEXIST",
        libc::ENODEV => "ENODEV",
        libc::EINVAL => "EINVAL",
        libc::ENOSPC => "ENOSPC",
        libc::ERANGE => "ERANGE",
        libc::ENOSYS => "ENOSYS",
        libc::EOPNOTSUPP => "EOPNOTSUPP",
        libc::EPROTO => "EPROTO",
        _ => return format!("E{errno}"),
    };
    name.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eperm_message_says_what_is_needed() {
        let err = Error::os(&io::Error::from_raw_os_error(libc::EPERM), "BPF_MAP_CREATE");
        assert_eq!(err.code(), "EPERM");
        assert!(err.message().starts_with(NEEDS_PRIVILEGE));
        assert!(err
            .message()
            .ends_with("(BPF_MAP_CREATE: Operation not permitted)"));
    }

    #[test]
    fn unknown_errno_is_numbered() {
        assert_eq!(errno_name(4095), "E4095");
        assert_eq!(errno_name(libc::EBUSY), "EBUSY");
    }
}
