//! Parking a worker that owns several AF_XDP sockets (one per queue of its share of the NIC):
//! one poll(2) over all of them, so that a packet on any of its queues wakes it. A port's own
//! `waitReadable()` watches one socket only.

use std::sync::Arc;

use napi_derive::napi;

use crate::error::{self, err, Result};
use crate::sys;
use crate::xsk::{self, XskShared};

/// The sockets one worker parks on.
#[napi]
pub struct XskPollSet {
    /// Held so that the fds stay open (and are not reused) while the set may poll them.
    sockets: Vec<Arc<XskShared>>,
}

#[napi]
impl XskPollSet {
    /// A set over the open sockets with these ids (ENOENT for one that is not open).
    #[napi(factory)]
    pub fn open(socket_ids: Vec<u32>) -> Result<XskPollSet> {
        if socket_ids.is_empty() {
            return Err(err("EINVAL", "a poll set needs at least one socket id"));
        }
        let sockets = socket_ids
            .iter()
            .map(|&id| {
                xsk::lookup(id).ok_or_else(|| {
                    err(
                        "ENOENT",
                        format!(
                            "no open AF_XDP socket with id {id}: it was closed or never created"
                        ),
                    )
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(XskPollSet { sockets })
    }

    /// Blocks up to `timeoutMs` until one of the sockets has received packets; false on timeout
    /// (or a signal), and at once when the set is closed.
    #[napi]
    pub fn wait(&self, timeout_ms: u32) -> Result<bool> {
        if self.sockets.is_empty() {
            return Ok(false);
        }
        let fds: Vec<_> = self.sockets.iter().map(|s| s.raw_fd()).collect();
        match sys::poll_any_readable(&fds, timeout_ms.min(i32::MAX as u32) as i32) {
            Ok(ready) => Ok(ready),
            Err(e) if error::errno(&e) == libc::EINTR => Ok(false),
            Err(e) => Err(error::os(&e, "polling the worker's AF_XDP sockets")),
        }
    }

    /// Lets go of the sockets; they close once their owner and ports have closed them too.
    #[napi]
    pub fn close(&mut self) {
        self.sockets.clear();
    }
}
