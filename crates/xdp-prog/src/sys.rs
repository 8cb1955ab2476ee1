//! Safe wrappers around the bpf(2) commands we use. Each command has its own `#[repr(C)]`
//! prefix of `union bpf_attr`; the kernel zero-fills the part of the union we do not pass.

use std::ffi::CStr;
use std::io;
use std::mem::size_of;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

use crate::insn::Insn;

// enum bpf_cmd
const BPF_MAP_CREATE: u32 = 0;
const BPF_MAP_LOOKUP_ELEM: u32 = 1;
const BPF_MAP_UPDATE_ELEM: u32 = 2;
const BPF_MAP_DELETE_ELEM: u32 = 3;
const BPF_PROG_LOAD: u32 = 5;
const BPF_PROG_TEST_RUN: u32 = 10;
const BPF_OBJ_GET_INFO_BY_FD: u32 = 15;
const BPF_LINK_CREATE: u32 = 28;
const BPF_LINK_DETACH: u32 = 34;

// enum bpf_map_type
pub const BPF_MAP_TYPE_HASH: u32 = 1;
pub const BPF_MAP_TYPE_PERCPU_ARRAY: u32 = 6;
pub const BPF_MAP_TYPE_XSKMAP: u32 = 17;

// enum bpf_prog_type / enum bpf_attach_type
pub const BPF_PROG_TYPE_XDP: u32 = 6;
pub const BPF_XDP: u32 = 37;

// map update flags
pub const BPF_ANY: u64 = 0;

const BPF_OBJ_NAME_LEN: usize = 16;

/// Kernel object names: at most 15 bytes of `[A-Za-z0-9_.]`, NUL-terminated.
fn object_name(name: &str) -> [u8; BPF_OBJ_NAME_LEN] {
    let mut out = [0u8; BPF_OBJ_NAME_LEN];
    for (dst, src) in out.iter_mut().zip(name.bytes().take(BPF_OBJ_NAME_LEN - 1)) {
        *dst = src;
    }
    out
}

/// Issues one bpf(2) command.
///
/// # Safety
/// `attr` must be a `#[repr(C)]` prefix of `union bpf_attr` for `cmd`, and every pointer in it
/// must point to memory that is valid, for the length the same attr states, for the whole call
/// (writable where the kernel writes).
unsafe fn bpf<T>(cmd: u32, attr: &mut T) -> io::Result<i64> {
    // SAFETY: upheld by the caller (see above); the size passed is exactly that of `T`.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_bpf,
            cmd as libc::c_long,
            attr as *mut T as *mut libc::c_void,
            size_of::<T>() as libc::c_uint,
        )
    };
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret as i64)
    }
}

/// Takes ownership of an fd the kernel just returned.
fn owned(fd: i64) -> OwnedFd {
    // SAFETY: `fd` was just returned by a successful bpf(2) call, so it is open and nothing else
    // in the process owns it yet.
    unsafe { OwnedFd::from_raw_fd(fd as i32) }
}

#[repr(C)]
#[derive(Default)]
struct MapCreateAttr {
    map_type: u32,
    key_size: u32,
    value_size: u32,
    max_entries: u32,
    map_flags: u32,
    inner_map_fd: u32,
    numa_node: u32,
    map_name: [u8; BPF_OBJ_NAME_LEN],
}

/// A BPF map fd with the sizes the kernel will read and write through it.
#[derive(Debug)]
pub struct MapFd {
    fd: OwnedFd,
    key_size: usize,
    /// Bytes of one lookup/update buffer: value_size, or rounded up to 8 × possible CPUs for
    /// per-CPU maps.
    value_len: usize,
}

impl MapFd {
    pub fn raw(&self) -> i32 {
        self.fd.as_raw_fd()
    }

    pub fn value_len(&self) -> usize {
        self.value_len
    }
}

/// BPF_MAP_CREATE. `value_len` is the size of the buffer a lookup or update exchanges.
pub fn map_create(
    map_type: u32,
    key_size: u32,
    value_size: u32,
    max_entries: u32,
    name: &str,
    value_len: usize,
) -> io::Result<MapFd> {
    let mut attr = MapCreateAttr {
        map_type,
        key_size,
        value_size,
        max_entries,
        map_name: object_name(name),
        ..Default::default()
    };
    // SAFETY: MapCreateAttr is the BPF_MAP_CREATE prefix of bpf_attr and holds no pointers.
    let fd = unsafe { bpf(BPF_MAP_CREATE, &mut attr)? };
    Ok(MapFd {
        fd: owned(fd),
        key_size: key_size as usize,
        value_len,
    })
}

#[repr(C)]
#[derive(Default)]
struct MapElemAttr {
    map_fd: u32,
    _pad: u32,
    key: u64,
    value: u64,
    flags: u64,
}

fn check_len(what: &str, got: usize, want: usize) -> io::Result<()> {
    if got == want {
        Ok(())
    } else {
        Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{what} is {got} bytes, the map wants {want}"),
        ))
    }
}

/// BPF_MAP_UPDATE_ELEM.
pub fn map_update(map: &MapFd, key: &[u8], value: &[u8], flags: u64) -> io::Result<()> {
    check_len("key", key.len(), map.key_size)?;
    check_len("value", value.len(), map.value_len)?;
    let mut attr = MapElemAttr {
        map_fd: map.raw() as u32,
        key: key.as_ptr() as u64,
        value: value.as_ptr() as u64,
        flags,
        ..Default::default()
    };
    // SAFETY: key and value are live slices of exactly the sizes the map reads (checked above).
    unsafe { bpf(BPF_MAP_UPDATE_ELEM, &mut attr).map(drop) }
}

/// BPF_MAP_LOOKUP_ELEM into `value`; `Ok(false)` when the key is absent.
pub fn map_lookup(map: &MapFd, key: &[u8], value: &mut [u8]) -> io::Result<bool> {
    check_len("key", key.len(), map.key_size)?;
    check_len("value", value.len(), map.value_len)?;
    let mut attr = MapElemAttr {
        map_fd: map.raw() as u32,
        key: key.as_ptr() as u64,
        value: value.as_mut_ptr() as u64,
        ..Default::default()
    };
    // SAFETY: key is readable and value writable for exactly the sizes the map uses (checked
    // above), and `value` is exclusively borrowed for the call.
    match unsafe { bpf(BPF_MAP_LOOKUP_ELEM, &mut attr) } {
        Ok(_) => Ok(true),
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Ok(false),
        Err(e) => Err(e),
    }
}

/// BPF_MAP_DELETE_ELEM; `Ok(false)` when the key was absent.
pub fn map_delete(map: &MapFd, key: &[u8]) -> io::Result<bool> {
    check_len("key", key.len(), map.key_size)?;
    let mut attr = MapElemAttr {
        map_fd: map.raw() as u32,
        key: key.as_ptr() as u64,
        ..Default::default()
    };
    // SAFETY: key is a live slice of exactly key_size bytes (checked above).
    match unsafe { bpf(BPF_MAP_DELETE_ELEM, &mut attr) } {
        Ok(_) => Ok(true),
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Ok(false),
        Err(e) => Err(e),
    }
}

#[repr(C)]
#[derive(Default)]
struct ProgLoadAttr {
    prog_type: u32,
    insn_cnt: u32,
    insns: u64,
    license: u64,
    log_level: u32,
    log_size: u32,
    log_buf: u64,
    kern_version: u32,
    prog_flags: u32,
    prog_name: [u8; BPF_OBJ_NAME_LEN],
    prog_ifindex: u32,
    expected_attach_type: u32,
}

/// A rejected BPF_PROG_LOAD: the errno and the verifier's log (empty if it wrote none).
#[derive(Debug)]
pub struct LoadError {
    pub err: io::Error,
    pub log: String,
}

/// The verifier log buffer; the kernel rejects sizes above u32::MAX >> 2 and ENOSPCs when the
/// log does not fit, which still leaves its beginning in the buffer.
const LOG_SIZE: usize = 1 << 20;

/// BPF_F_XDP_HAS_FRAGS (include/uapi/linux/bpf.h): the XDP program accepts multi-buffer packets
/// (only their first buffer is in data..data_end). Without it the kernel never hands a program a
/// packet larger than one buffer, and veth refuses an MTU above about 3.5 KB while it is attached.
pub const BPF_F_XDP_HAS_FRAGS: u32 = 1 << 5;

/// BPF_PROG_LOAD. On failure it loads again with `log_level = 1` to return the verifier log.
pub fn prog_load(
    prog_type: u32,
    expected_attach_type: u32,
    prog_flags: u32,
    insns: &[Insn],
    license: &CStr,
    name: &str,
) -> Result<OwnedFd, LoadError> {
    let no_log = prog_load_with_log(
        prog_type,
        expected_attach_type,
        prog_flags,
        insns,
        license,
        name,
        None,
    );
    let err = match no_log {
        Ok(fd) => return Ok(fd),
        Err(err) => err,
    };
    let mut log = vec![0u8; LOG_SIZE];
    match prog_load_with_log(
        prog_type,
        expected_attach_type,
        prog_flags,
        insns,
        license,
        name,
        Some(&mut log),
    ) {
        // Loading succeeded the second time (a transient failure such as EAGAIN): keep it.
        Ok(fd) => Ok(fd),
        Err(_) => {
            let end = log.iter().position(|&b| b == 0).unwrap_or(log.len());
            Err(LoadError {
                err,
                log: String::from_utf8_lossy(&log[..end]).into_owned(),
            })
        }
    }
}

fn prog_load_with_log(
    prog_type: u32,
    expected_attach_type: u32,
    prog_flags: u32,
    insns: &[Insn],
    license: &CStr,
    name: &str,
    log: Option<&mut [u8]>,
) -> io::Result<OwnedFd> {
    let mut attr = ProgLoadAttr {
        prog_type,
        insn_cnt: insns.len() as u32,
        insns: insns.as_ptr() as u64,
        license: license.as_ptr() as u64,
        prog_name: object_name(name),
        expected_attach_type,
        prog_flags,
        ..Default::default()
    };
    if let Some(log) = log {
        attr.log_level = 1;
        attr.log_size = log.len() as u32;
        attr.log_buf = log.as_mut_ptr() as u64;
    }
    // SAFETY: insns points to insn_cnt `#[repr(C)]` bpf_insn structs, license is NUL-terminated,
    // and log_buf (if set) is an exclusively borrowed buffer of log_size bytes; all outlive the
    // call.
    let fd = unsafe { bpf(BPF_PROG_LOAD, &mut attr)? };
    Ok(owned(fd))
}

#[repr(C)]
#[derive(Default)]
struct InfoAttr {
    bpf_fd: u32,
    info_len: u32,
    info: u64,
}

/// The leading fields of `struct bpf_prog_info`; the kernel copies only `info_len` bytes.
#[repr(C)]
#[derive(Default)]
struct ProgInfoPrefix {
    prog_type: u32,
    id: u32,
}

/// BPF_OBJ_GET_INFO_BY_FD: the id the kernel gave the program (what `ip link` prints).
pub fn prog_id(prog: BorrowedFd<'_>) -> io::Result<u32> {
    let mut info = ProgInfoPrefix::default();
    let mut attr = InfoAttr {
        bpf_fd: prog.as_raw_fd() as u32,
        info_len: size_of::<ProgInfoPrefix>() as u32,
        info: &mut info as *mut ProgInfoPrefix as u64,
    };
    // SAFETY: info is a live, exclusively borrowed buffer of info_len bytes.
    unsafe { bpf(BPF_OBJ_GET_INFO_BY_FD, &mut attr)? };
    Ok(info.id)
}

#[repr(C)]
#[derive(Default)]
struct LinkCreateAttr {
    prog_fd: u32,
    target_ifindex: u32,
    attach_type: u32,
    flags: u32,
}

/// BPF_LINK_CREATE: the attachment lives as long as the returned fd (and its duplicates).
pub fn link_create(
    prog: BorrowedFd<'_>,
    ifindex: u32,
    attach_type: u32,
    flags: u32,
) -> io::Result<OwnedFd> {
    let mut attr = LinkCreateAttr {
        prog_fd: prog.as_raw_fd() as u32,
        target_ifindex: ifindex,
        attach_type,
        flags,
    };
    // SAFETY: LinkCreateAttr is the BPF_LINK_CREATE prefix of bpf_attr and holds no pointers.
    let fd = unsafe { bpf(BPF_LINK_CREATE, &mut attr)? };
    Ok(owned(fd))
}

#[repr(C)]
#[derive(Default)]
struct LinkDetachAttr {
    link_fd: u32,
}

/// BPF_LINK_DETACH: detaches now even if another process holds a duplicate of the link fd.
pub fn link_detach(link: BorrowedFd<'_>) -> io::Result<()> {
    let mut attr = LinkDetachAttr {
        link_fd: link.as_raw_fd() as u32,
    };
    // SAFETY: LinkDetachAttr is the BPF_LINK_DETACH prefix of bpf_attr and holds no pointers.
    unsafe { bpf(BPF_LINK_DETACH, &mut attr).map(drop) }
}

#[repr(C)]
#[derive(Default)]
struct TestRunAttr {
    prog_fd: u32,
    retval: u32,
    data_size_in: u32,
    data_size_out: u32,
    data_in: u64,
    data_out: u64,
    repeat: u32,
    duration: u32,
}

/// BPF_PROG_TEST_RUN: runs the program once over `frame` and returns its verdict.
pub fn prog_test_run(prog: BorrowedFd<'_>, frame: &[u8]) -> io::Result<u32> {
    let mut attr = TestRunAttr {
        prog_fd: prog.as_raw_fd() as u32,
        data_size_in: frame.len() as u32,
        data_in: frame.as_ptr() as u64,
        repeat: 1,
        ..Default::default()
    };
    // SAFETY: data_in is a live slice of data_size_in bytes; data_out is null with size 0, so the
    // kernel writes no packet data back.
    unsafe { bpf(BPF_PROG_TEST_RUN, &mut attr)? };
    Ok(attr.retval)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attr_layouts_match_the_uapi_offsets() {
        // Offsets from <linux/bpf.h> (checked with offsetof on this machine).
        assert_eq!(size_of::<MapCreateAttr>(), 44);
        assert_eq!(size_of::<MapElemAttr>(), 32);
        assert_eq!(size_of::<ProgLoadAttr>(), 72);
        assert_eq!(std::mem::offset_of!(ProgLoadAttr, log_level), 24);
        assert_eq!(std::mem::offset_of!(ProgLoadAttr, log_buf), 32);
        assert_eq!(std::mem::offset_of!(ProgLoadAttr, prog_name), 48);
        assert_eq!(std::mem::offset_of!(ProgLoadAttr, expected_attach_type), 68);
        assert_eq!(size_of::<LinkCreateAttr>(), 16);
        assert_eq!(std::mem::offset_of!(TestRunAttr, data_in), 16);
        assert_eq!(std::mem::offset_of!(TestRunAttr, repeat), 32);
    }

    #[test]
    fn object_names_are_truncated_and_terminated() {
        let name = object_name("a_name_longer_than_fifteen");
        assert_eq!(&name[..15], b"a_name_longer_t");
        assert_eq!(name[15], 0);
    }

    #[test]
    fn wrong_key_size_is_refused_before_the_syscall() {
        // /dev/null is not a map, so only the length check can produce InvalidInput.
        let map = MapFd {
            fd: OwnedFd::from(std::fs::File::open("/dev/null").unwrap()),
            key_size: 4,
            value_len: 8,
        };
        let err = map_update(&map, &[0u8; 3], &[0u8; 8], BPF_ANY).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    }
}
