//! Why a command could not run: a usage mistake, or an OS error with what we were doing.

use std::fmt;
use std::io;

#[derive(Debug)]
pub enum Failure {
    Usage(String),
    Os { doing: String, err: io::Error },
}

impl Failure {
    pub fn usage(message: impl Into<String>) -> Self {
        Failure::Usage(message.into())
    }

    /// Errno-style code for the JSON line (EINVAL for usage mistakes).
    pub fn code(&self) -> &'static str {
        match self {
            Failure::Usage(_) => "EINVAL",
            Failure::Os { err, .. } => crate::sys::errno_name(err),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Usage(message) => write!(f, "{message} (see xdpnet-peer --help)"),
            Failure::Os { doing, err } => write!(f, "{doing}: {err}"),
        }
    }
}

/// Adds "what we were doing" to an io::Error.
pub trait Context<T> {
    fn doing(self, what: impl FnOnce() -> String) -> Result<T, Failure>;
}

impl<T> Context<T> for io::Result<T> {
    fn doing(self, what: impl FnOnce() -> String) -> Result<T, Failure> {
        self.map_err(|err| Failure::Os { doing: what(), err })
    }
}
