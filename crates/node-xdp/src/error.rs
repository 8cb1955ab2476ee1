//! Errors thrown to JS: a Node-style `Error` whose `code` is the errno name (`EPERM`, `ENODEV`, ...)
//! and whose message says what to do about it.
//!
//! napi-rs throws an `Error<S>` with `napi_create_error(code = S, message)`, which sets the JS
//! error's `code` property to `S.as_ref()`; so a custom status type is all it takes.

use std::borrow::Cow;
use std::io;

/// The `code` of a thrown error: an errno name such as `"EBUSY"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Code(pub Cow<'static, str>);

impl AsRef<str> for Code {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// The error type of every fallible function this addon exports.
pub type Error = napi::Error<Code>;

/// `Result` with [`Error`]; named `Result` so that napi-derive recognises it as a throwing return.
pub type Result<T> = std::result::Result<T, Error>;

/// An error with an explicit errno name and message.
pub fn err(code: &'static str, message: impl Into<String>) -> Error {
    napi::Error::new(Code(Cow::Borrowed(code)), message.into())
}

/// An OS error with the action that failed as context: `code` = errno name, message =
/// "`context`: strerror (ENAME)".
pub fn os(e: &io::Error, context: impl AsRef<str>) -> Error {
    let errno = e.raw_os_error().unwrap_or(0);
    napi::Error::new(
        code_of(errno),
        format!("{}: {}", context.as_ref(), strerror(e)),
    )
}

/// An error from napi-rs itself (a JS value of the wrong type, say), keeping its status as `code`.
pub fn from_napi(e: napi::Error) -> Error {
    napi::Error::new(Code(Cow::Owned(e.status.as_ref().to_string())), e.reason)
}

/// The errno of an `io::Error`, or 0 when it did not come from the OS.
pub fn errno(e: &io::Error) -> i32 {
    e.raw_os_error().unwrap_or(0)
}

fn code_of(errno: i32) -> Code {
    match errno_name(errno) {
        Some(name) => Code(Cow::Borrowed(name)),
        None => Code(Cow::Owned(format!("E{errno}"))),
    }
}

/// `io::Error`'s text without Rust's " (os error N)" suffix.
fn strerror(e: &io::Error) -> String {
    let text = e.to_string();
    match text.find(" (os error ") {
        Some(cut) => text[..cut].to_string(),
        None => text,
    }
}

/// The symbolic name of an errno value, as Node reports it in `err.code`.
pub fn errno_name(errno: i32) -> Option<&'static str> {
    let name = match errno {
        libc::EPERM => "EPERM",
        libc::ENOENT => "ENOENT",
        libc::ESRCH => "ESRCH",
        libc::EINTR => "EINTR",
        libc::EIO => "EIO",
        libc::ENXIO => "ENXIO",
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
        libc::ENFILE => "ENFILE",
        libc::EMFILE => "EMFILE",
        libc::ENOTTY => "ENOTTY",
        libc::ENOSPC => "ENOSPC",
        libc::ERANGE => "ERANGE",
        libc::ENOSYS => "ENOSYS",
        libc::ENOTSOCK => "ENOTSOCK",
        libc::EMSGSIZE => "EMSGSIZE",
        libc::ENOPROTOOPT => "ENOPROTOOPT",
        libc::EPROTONOSUPPORT => "EPROTONOSUPPORT",
        libc::ESOCKTNOSUPPORT => "ESOCKTNOSUPPORT",
        libc::EOPNOTSUPP => "EOPNOTSUPP",
        libc::EAFNOSUPPORT => "EAFNOSUPPORT",
        libc::EADDRINUSE => "EADDRINUSE",
        libc::EADDRNOTAVAIL => "EADDRNOTAVAIL",
        libc::ENETDOWN => "ENETDOWN",
        libc::ENETUNREACH => "ENETUNREACH",
        libc::ENOBUFS => "ENOBUFS",
        libc::ENOTCONN => "ENOTCONN",
        libc::ETIMEDOUT => "ETIMEDOUT",
        _ => return None,
    };
    Some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_common_errnos() {
        assert_eq!(errno_name(libc::EPERM), Some("EPERM"));
        assert_eq!(errno_name(libc::EBUSY), Some("EBUSY"));
        assert_eq!(errno_name(libc::EOPNOTSUPP), Some("EOPNOTSUPP"));
        assert_eq!(errno_name(libc::EAFNOSUPPORT), Some("EAFNOSUPPORT"));
        assert_eq!(errno_name(100_000), None);
    }

    #[test]
    fn os_error_carries_errno_name_and_context() {
        let e = os(&io::Error::from_raw_os_error(libc::ENODEV), "binding h1e0");
        assert_eq!(e.status.as_ref(), "ENODEV");
        assert_eq!(e.reason, "binding h1e0: No such device");
        let unknown = os(&io::Error::from_raw_os_error(4095), "x");
        assert_eq!(unknown.status.as_ref(), "E4095");
    }
}
