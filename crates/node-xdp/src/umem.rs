//! UMEM: the packet memory every thread shares, a JS SharedArrayBuffer registered with the
//! kernel over its page-aligned interior.
//!
//! V8 places a large SharedArrayBuffer's data 16 bytes past a page start (malloc's chunk
//! header), and XDP_UMEM_REG needs a page-aligned address, so UMEM address 0 is the first page
//! boundary inside the view and JS is told where that is (`offset`). The kernel pins the pages
//! on registration (mm/gup `pin_user_pages`), so the region stays valid for the kernel while any
//! socket uses it even if JS drops every reference; Rust never dereferences UMEM itself.
//!
//! Registration happens with the first socket created over this UMEM; later sockets share it
//! with XDP_SHARED_UMEM, each with its own fill and completion rings (Linux >= 5.10).

use std::sync::{Arc, Mutex, Weak};

use napi::bindgen_prelude::{FromNapiValue, Uint8Array};
use napi::{JsValue, Unknown};
use napi_derive::napi;

use crate::error::{err, from_napi, Result};
use crate::sys;
use crate::xsk::XskShared;

/// The kernel reserves this much headroom in front of every received frame in aligned mode
/// (include/uapi/linux/bpf.h `XDP_PACKET_HEADROOM`); user headroom must leave room for it.
const XDP_PACKET_HEADROOM: u32 = 256;

#[napi(object)]
pub struct UmemOptions {
    /// Bytes per frame: 2048 or 4096.
    pub frame_size: u32,
    /// Bytes the kernel leaves free in front of each received packet (default 0).
    pub headroom: Option<u32>,
    /// Number of frames (default: as many as fit in the page-aligned interior).
    pub frame_count: Option<u32>,
}

/// The UMEM facts sockets need; shared (by `Arc`) between the JS `Umem` and its sockets.
#[derive(Debug)]
pub struct UmemShared {
    /// Page-aligned address of UMEM address 0 in this process.
    addr: u64,
    pub size: u64,
    pub frame_size: u32,
    pub frame_count: u32,
    pub headroom: u32,
    /// Sockets bound with this UMEM, to find one to share it from (`XDP_SHARED_UMEM`).
    sockets: Mutex<Vec<Weak<XskShared>>>,
}

impl UmemShared {
    /// Address of UMEM address 0 in this process.
    pub fn addr(&self) -> u64 {
        self.addr
    }

    /// The XDP_UMEM_REG argument.
    pub fn registration(&self) -> libc::xdp_umem_reg {
        libc::xdp_umem_reg {
            addr: self.addr,
            len: self.size,
            chunk_size: self.frame_size,
            headroom: self.headroom,
            flags: 0,
            tx_metadata_len: 0,
        }
    }

    /// A socket still bound with this UMEM, whose fd a new socket passes as
    /// `sxdp_shared_umem_fd`; `None` when the UMEM is not registered with the kernel (any more).
    pub fn live_socket(&self) -> Option<Arc<XskShared>> {
        let mut sockets = self.sockets.lock().unwrap_or_else(|p| p.into_inner());
        sockets.retain(|s| s.strong_count() > 0);
        sockets.iter().find_map(Weak::upgrade)
    }

    pub fn add_socket(&self, socket: &Arc<XskShared>) {
        let mut sockets = self.sockets.lock().unwrap_or_else(|p| p.into_inner());
        sockets.push(Arc::downgrade(socket));
    }
}

/// Where UMEM goes inside a view and how many frames fit: pure arithmetic, unit-tested.
#[derive(Debug, PartialEq, Eq)]
pub struct Placement {
    /// Bytes from the view's first byte to UMEM address 0.
    pub skip: usize,
    pub frame_count: u32,
}

/// Places `frame_count` (or as many as fit) frames of `frame_size` at the first page boundary
/// at or after `data` within `len` bytes.
pub fn place(
    data: usize,
    len: usize,
    page: usize,
    frame_size: u32,
    frame_count: Option<u32>,
) -> Result<Placement> {
    let skip = data.next_multiple_of(page) - data;
    let usable = len.saturating_sub(skip);
    let fits = (usable / frame_size as usize).min(u32::MAX as usize) as u32;
    let wanted = frame_count.unwrap_or(fits);
    let need = skip as u64 + u64::from(wanted) * u64::from(frame_size);
    if wanted == 0 || wanted > fits {
        let frames = if wanted == 0 { 1 } else { wanted };
        return Err(err(
            "EINVAL",
            format!(
                "UMEM misaligned/too small: need {} bytes for {frames} frame{} of {frame_size} \
                 (the view has {len} bytes and UMEM starts {skip} bytes in, at the first page \
                 boundary); allocate frameCount * frameSize + {page} bytes",
                need.max(skip as u64 + u64::from(frame_size)),
                if frames == 1 { "" } else { "s" },
            ),
        ));
    }
    // Descriptors carry UMEM addresses as u32 in JS, so UMEM must stay within 4 GiB.
    if u64::from(wanted) * u64::from(frame_size) > u64::from(u32::MAX) + 1 {
        return Err(err(
            "EINVAL",
            format!(
                "UMEM of {wanted} frames of {frame_size} exceeds 4 GiB: pass a smaller frameCount"
            ),
        ));
    }
    Ok(Placement {
        skip,
        frame_count: wanted,
    })
}

/// Packet memory over a JS `Uint8Array` on a `SharedArrayBuffer`.
#[napi]
pub struct Umem {
    shared: Arc<UmemShared>,
    /// Keeps the JS memory alive while registered; `None` after `close()`.
    memory: Option<Uint8Array>,
    offset: i64,
}

#[napi]
impl Umem {
    /// `memory` must be a Uint8Array over a SharedArrayBuffer of at least size + 4096 bytes.
    #[napi(constructor, ts_args_type = "memory: Uint8Array, opts: UmemOptions")]
    pub fn new(memory: Unknown<'_>, opts: UmemOptions) -> Result<Self> {
        if opts.frame_size != 2048 && opts.frame_size != 4096 {
            return Err(err(
                "EINVAL",
                format!("frameSize must be 2048 or 4096 (got {})", opts.frame_size),
            ));
        }
        let headroom = opts.headroom.unwrap_or(0);
        if headroom >= opts.frame_size - XDP_PACKET_HEADROOM {
            return Err(err(
                "EINVAL",
                format!(
                    "headroom {headroom} too large: must be below frameSize - {XDP_PACKET_HEADROOM} = {}",
                    opts.frame_size - XDP_PACKET_HEADROOM
                ),
            ));
        }
        let (held, byte_offset) = shared_array::<Uint8Array>(
            &memory,
            napi::sys::TypedarrayType::uint8_array,
            "memory must be a Uint8Array over a SharedArrayBuffer",
        )?;
        let data = held.as_ptr() as usize;
        let placed = place(
            data,
            held.len(),
            sys::page_size(),
            opts.frame_size,
            opts.frame_count,
        )?;
        let size = u64::from(placed.frame_count) * u64::from(opts.frame_size);
        Ok(Umem {
            shared: Arc::new(UmemShared {
                addr: (data + placed.skip) as u64,
                size,
                frame_size: opts.frame_size,
                frame_count: placed.frame_count,
                headroom,
                sockets: Mutex::new(Vec::new()),
            }),
            memory: Some(held),
            offset: (byte_offset + placed.skip) as i64,
        })
    }

    /// Byte offset of UMEM address 0 from the start of `memory.buffer` (byteOffset included).
    #[napi(getter)]
    pub fn offset(&self) -> i64 {
        self.offset
    }

    /// Bytes of UMEM (frameCount * frameSize).
    #[napi(getter)]
    pub fn size(&self) -> i64 {
        self.shared.size as i64
    }

    #[napi(getter)]
    pub fn frame_size(&self) -> u32 {
        self.shared.frame_size
    }

    #[napi(getter)]
    pub fn frame_count(&self) -> u32 {
        self.shared.frame_count
    }

    #[napi(getter)]
    pub fn headroom(&self) -> u32 {
        self.shared.headroom
    }

    /// Drops this object's hold on the memory; no new sockets can use it. Sockets already bound
    /// keep working: the kernel holds the registration until the last of them is gone.
    #[napi]
    pub fn close(&mut self) {
        self.memory = None;
    }
}

impl Umem {
    /// The shared facts, for a socket being created; EBADF once closed.
    pub fn shared(&self) -> Result<&Arc<UmemShared>> {
        match self.memory {
            Some(_) => Ok(&self.shared),
            None => Err(err("EBADF", "this Umem is closed: create a new Umem")),
        }
    }
}

/// `value` as a typed array of `kind` over a SharedArrayBuffer, converted to the owned
/// (referenced, so kept alive) napi-rs type `T`, and its byteOffset. Shared memory is required
/// both so that every worker sees the same bytes and because a plain ArrayBuffer can be
/// detached (transferred) under a native pointer.
pub(crate) fn shared_array<T: FromNapiValue>(
    value: &Unknown<'_>,
    kind: napi::sys::napi_typedarray_type,
    requirement: &str,
) -> Result<(T, usize)> {
    let view = value.value();
    let info = typed_array_info(view.env, view.value)
        .filter(|info| info.kind == kind && is_shared(view.env, info.buffer))
        .ok_or_else(|| err("EINVAL", requirement.to_string()))?;
    // SAFETY: the value is a typed array of `kind` (checked above), which `T` converts from.
    let held: T = unsafe { value.cast() }.map_err(from_napi)?;
    Ok((held, info.byte_offset))
}

struct TypedArrayInfo {
    kind: napi::sys::napi_typedarray_type,
    buffer: napi::sys::napi_value,
    byte_offset: usize,
}

/// `napi_get_typedarray_info`, or `None` if `value` is not a typed array.
fn typed_array_info(
    env: napi::sys::napi_env,
    value: napi::sys::napi_value,
) -> Option<TypedArrayInfo> {
    let mut is_typed_array = false;
    // SAFETY: `env`/`value` are a live env and handle of the current call (a method argument).
    let status = unsafe { napi::sys::napi_is_typedarray(env, value, &mut is_typed_array) };
    if status != napi::sys::Status::napi_ok || !is_typed_array {
        return None;
    }
    let mut info = TypedArrayInfo {
        kind: 0,
        buffer: std::ptr::null_mut(),
        byte_offset: 0,
    };
    let (mut length, mut data) = (0usize, std::ptr::null_mut());
    // SAFETY: as above, `value` is a typed array; every out-pointer is a valid local.
    let status = unsafe {
        napi::sys::napi_get_typedarray_info(
            env,
            value,
            &mut info.kind,
            &mut length,
            &mut data,
            &mut info.buffer,
            &mut info.byte_offset,
        )
    };
    (status == napi::sys::Status::napi_ok).then_some(info)
}

/// True if `buffer` (a typed array's buffer) is not a plain ArrayBuffer, i.e. it is shared:
/// `napi_is_arraybuffer` answers false for a SharedArrayBuffer.
fn is_shared(env: napi::sys::napi_env, buffer: napi::sys::napi_value) -> bool {
    let mut plain = false;
    // SAFETY: `buffer` is a live handle napi_get_typedarray_info just returned in this scope.
    let status = unsafe { napi::sys::napi_is_arraybuffer(env, buffer, &mut plain) };
    status == napi::sys::Status::napi_ok && !plain
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_umem_at_first_page_boundary() {
        // The SharedArrayBuffer case seen on this platform: data 16 bytes past a page start.
        let p = place(0x7000_0010, 1 << 20, 4096, 2048, None).unwrap();
        assert_eq!(p.skip, 4096 - 16);
        assert_eq!(p.frame_count, ((1 << 20) - 4080) / 2048);
        let aligned = place(0x7000_0000, 8192, 4096, 4096, None).unwrap();
        assert_eq!(
            aligned,
            Placement {
                skip: 0,
                frame_count: 2
            }
        );
    }

    #[test]
    fn explicit_frame_count_must_fit() {
        assert_eq!(
            place(16, 4096 + 4 * 2048, 4096, 2048, Some(4))
                .unwrap()
                .frame_count,
            4
        );
        let e = place(16, 4096 + 4 * 2048, 4096, 2048, Some(5)).unwrap_err();
        assert_eq!(e.status.as_ref(), "EINVAL");
        assert!(
            e.reason.contains("need 14320 bytes for 5 frames of 2048"),
            "{}",
            e.reason
        );
    }

    #[test]
    fn too_small_for_one_frame() {
        let e = place(16, 4096, 4096, 2048, None).unwrap_err();
        assert!(e.reason.starts_with("UMEM misaligned/too small"));
    }
}
