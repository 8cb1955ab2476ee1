//! The ethtool ioctl (`SIOCETHTOOL`): the argument structs of include/uapi/linux/ethtool.h that
//! this addon uses, and one safe call per command. The kernel reads and writes these structs by
//! offset, so their sizes and field offsets are unit-tested against the UAPI layout (LP64:
//! x86-64 and arm64). Two commands change the interface: ETHTOOL_SRSSH (the RSS key and
//! indirection table) and ETHTOOL_SRXFH (the fields hashed per flow type), which the engine uses
//! only when told to program the NIC's RSS, and puts back on stop.

use std::io;
use std::mem::size_of;

use crate::sys::{self, Pod};

/// Commands (ETHTOOL_*).
pub const ETHTOOL_GDRVINFO: u32 = 0x03;
pub const ETHTOOL_GRXFH: u32 = 0x29;
pub const ETHTOOL_SRXFH: u32 = 0x2a;
pub const ETHTOOL_GCHANNELS: u32 = 0x3c;
pub const ETHTOOL_GRSSH: u32 = 0x46;
pub const ETHTOOL_SRSSH: u32 = 0x47;
pub const ETHTOOL_GSTRINGS: u32 = 0x1b;
pub const ETHTOOL_GSSET_INFO: u32 = 0x37;
pub const ETHTOOL_GFEATURES: u32 = 0x3a;

/// The string set of device feature names (`enum ethtool_stringset`).
pub const ETH_SS_FEATURES: u32 = 4;
/// Bytes of each name in a string set, NUL-padded.
pub const ETH_GSTRING_LEN: usize = 32;
/// Device features are the bits of the kernel's 64-bit `netdev_features_t`, so the feature
/// string set never has more names than this (and its count is a constant of the kernel build).
pub const MAX_FEATURES: usize = 64;
/// 32-feature blocks of ETHTOOL_GFEATURES that cover `MAX_FEATURES`.
pub const FEATURE_BLOCKS: usize = MAX_FEATURES / 32;

/// Flow types of ETHTOOL_GRXFH (the `flow_type` of `struct ethtool_rxnfc`).
pub const TCP_V4_FLOW: u32 = 0x01;
pub const UDP_V4_FLOW: u32 = 0x02;
pub const TCP_V6_FLOW: u32 = 0x05;
pub const UDP_V6_FLOW: u32 = 0x06;

/// What a flow hash covers: the bits of ETHTOOL_GRXFH's `data` (RXH_*).
pub const RXH_L2DA: u32 = 1 << 1;
pub const RXH_VLAN: u32 = 1 << 2;
pub const RXH_L3_PROTO: u32 = 1 << 3;
pub const RXH_IP_SRC: u32 = 1 << 4;
pub const RXH_IP_DST: u32 = 1 << 5;
/// The first two bytes of the L4 header: the source port of TCP and UDP.
pub const RXH_L4_B_0_1: u32 = 1 << 6;
/// Bytes 2-3 of the L4 header: the destination port.
pub const RXH_L4_B_2_3: u32 = 1 << 7;
pub const RXH_GTP_TEID: u32 = 1 << 8;
pub const RXH_IP6_FL: u32 = 1 << 9;
pub const RXH_DISCARD: u32 = 1 << 31;

/// Bits of `ethtool_rxfh.hfunc`: bit i is the i-th name of the kernel's ETH_SS_RSS_HASH_FUNCS
/// string set (ETH_RSS_HASH_TOP, _XOR, _CRC32 in include/linux/ethtool.h).
pub const ETH_RSS_HASH_TOP: u8 = 1 << 0;
pub const ETH_RSS_HASH_XOR: u8 = 1 << 1;
pub const ETH_RSS_HASH_CRC32: u8 = 1 << 2;
/// ETHTOOL_SRSSH's `hfunc` that leaves the hash function as it is.
pub const ETH_RSS_HASH_NO_CHANGE: u8 = 0;

/// Bits of `ethtool_rxfh.input_xfrm` (Linux 6.8+): the fields are made symmetric before hashing.
pub const RXH_XFRM_SYM_XOR: u8 = 1 << 0;
pub const RXH_XFRM_SYM_OR_XOR: u8 = 1 << 1;

/// `struct ethtool_drvinfo`.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct EthtoolDrvinfo {
    pub cmd: u32,
    pub driver: [u8; 32],
    pub version: [u8; 32],
    pub fw_version: [u8; 32],
    pub bus_info: [u8; 32],
    pub erom_version: [u8; 32],
    pub reserved2: [u8; 12],
    pub n_priv_flags: u32,
    pub n_stats: u32,
    pub testinfo_len: u32,
    pub eedump_len: u32,
    pub regdump_len: u32,
}

/// `struct ethtool_channels`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EthtoolChannels {
    pub cmd: u32,
    pub max_rx: u32,
    pub max_tx: u32,
    pub max_other: u32,
    pub max_combined: u32,
    pub rx_count: u32,
    pub tx_count: u32,
    pub other_count: u32,
    pub combined_count: u32,
}

/// `struct ethtool_rxfh` without its flexible `rss_config[]` (see [`RxfhRequest`]).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EthtoolRxfh {
    pub cmd: u32,
    pub rss_context: u32,
    /// Entries of the indirection table (u32 queue numbers), first in `rss_config`.
    pub indir_size: u32,
    /// Bytes of the hash key, after the table.
    pub key_size: u32,
    pub hfunc: u8,
    /// `rsvd8[0]` before Linux 6.8, which the kernel leaves 0.
    pub input_xfrm: u8,
    pub rsvd8: [u8; 2],
    pub rsvd32: u32,
}

/// `struct ethtool_rx_flow_spec`, its unions and extensions as opaque bytes: a flow hash query
/// leaves the whole spec zero. The explicit pad is the compiler's in C (`ring_cookie` is
/// 8-aligned), so that this struct has no padding of its own.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct EthtoolRxFlowSpec {
    pub flow_type: u32,
    /// `union ethtool_flow_union h_u`.
    pub h_u: [u8; 52],
    /// `struct ethtool_flow_ext h_ext`.
    pub h_ext: [u8; 20],
    pub m_u: [u8; 52],
    pub m_ext: [u8; 20],
    pub _pad: u32,
    pub ring_cookie: u64,
    pub location: u32,
    pub _pad2: u32,
}

/// `struct ethtool_rxnfc`.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct EthtoolRxnfc {
    pub cmd: u32,
    pub flow_type: u32,
    /// ETHTOOL_GRXFH: the RXH_* fields hashed for `flow_type`.
    pub data: u64,
    pub fs: EthtoolRxFlowSpec,
    /// `union { rule_cnt; rss_context; }`.
    pub rss_context: u32,
    /// Where the flexible `rule_locs[]` starts (ETHTOOL_GRXCLSRLALL only, not used here); the
    /// struct's padding to its 8-byte alignment otherwise.
    pub rule_locs_or_pad: u32,
}

/// Room for the largest RSS configuration we read: indirection tables of up to 4096 entries
/// (the largest in-tree drivers use 2048) and keys of up to 256 bytes (they use 40 to 52).
pub const RSS_CONFIG_WORDS: usize = 4096 + 64;

/// An `ethtool_rxfh` header followed by its `rss_config[]`: the table (`indir_size` u32s), then
/// the key (`key_size` bytes).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct RxfhRequest {
    pub head: EthtoolRxfh,
    pub rss_config: [u32; RSS_CONFIG_WORDS],
}

/// `struct ethtool_sset_info` asking about one string set: room for the one count the kernel
/// writes after the header (and a word more, to keep the struct free of padding).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EthtoolSsetInfo {
    pub cmd: u32,
    pub reserved: u32,
    pub sset_mask: u64,
    pub data: [u32; 2],
}

/// `struct ethtool_gstrings` with room for the feature string set's names.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct FeatureStrings {
    pub cmd: u32,
    pub string_set: u32,
    pub len: u32,
    pub data: [u8; MAX_FEATURES * ETH_GSTRING_LEN],
}

/// `struct ethtool_get_features_block`: the state of 32 features.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EthtoolFeaturesBlock {
    /// Changeable on this device.
    pub available: u32,
    pub requested: u32,
    pub active: u32,
    /// Not changeable on any device.
    pub never_changed: u32,
}

/// `struct ethtool_gfeatures` with `FEATURE_BLOCKS` blocks.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EthtoolGfeatures {
    pub cmd: u32,
    pub size: u32,
    pub features: [EthtoolFeaturesBlock; FEATURE_BLOCKS],
}

// SAFETY: `#[repr(C)]` aggregates of integers and integer arrays with no implicit padding
// (explicit pad fields where C has some); every bit pattern is a valid value.
unsafe impl Pod for EthtoolDrvinfo {}
unsafe impl Pod for EthtoolChannels {}
unsafe impl Pod for EthtoolRxfh {}
unsafe impl Pod for EthtoolRxFlowSpec {}
unsafe impl Pod for EthtoolRxnfc {}
unsafe impl Pod for RxfhRequest {}
unsafe impl Pod for EthtoolSsetInfo {}
unsafe impl Pod for FeatureStrings {}
unsafe impl Pod for EthtoolFeaturesBlock {}
unsafe impl Pod for EthtoolGfeatures {}

/// The interface's driver facts (`ethtool -i`).
pub fn drvinfo(ifname: &str) -> io::Result<EthtoolDrvinfo> {
    let mut arg = EthtoolDrvinfo::zeroed();
    arg.cmd = ETHTOOL_GDRVINFO;
    // SAFETY: `EthtoolDrvinfo` is the whole argument of ETHTOOL_GDRVINFO.
    unsafe { sys::ethtool(ifname, &mut arg) }?;
    Ok(arg)
}

/// The interface's channel (queue) counts (`ethtool -l`).
pub fn channels(ifname: &str) -> io::Result<EthtoolChannels> {
    let mut arg = EthtoolChannels::zeroed();
    arg.cmd = ETHTOOL_GCHANNELS;
    // SAFETY: `EthtoolChannels` is the whole argument of ETHTOOL_GCHANNELS.
    unsafe { sys::ethtool(ifname, &mut arg) }?;
    Ok(arg)
}

/// The RXH_* fields the NIC hashes for flows of `flow_type` (`ethtool -n IF rx-flow-hash`).
pub fn flow_hash_fields(ifname: &str, flow_type: u32) -> io::Result<u32> {
    let mut arg = flow_hash_request(flow_type);
    // SAFETY: `EthtoolRxnfc` is the whole argument of ETHTOOL_GRXFH; the kernel reads and writes
    // at most `struct ethtool_rxnfc` for it (rule_locs[] only for ETHTOOL_GRXCLSRLALL).
    unsafe { sys::ethtool(ifname, &mut arg) }?;
    Ok(arg.data as u32)
}

/// The ETHTOOL_GRXFH query for one flow type: everything but `cmd` and `flow_type` zero.
pub fn flow_hash_request(flow_type: u32) -> EthtoolRxnfc {
    let mut arg = EthtoolRxnfc::zeroed();
    arg.cmd = ETHTOOL_GRXFH;
    arg.flow_type = flow_type;
    arg
}

/// The RSS hash function, key and indirection table (`ethtool -x`), read in two steps as the
/// kernel requires: the sizes first, then the table and key at exactly those sizes.
pub fn rss_config(ifname: &str) -> io::Result<RssConfig> {
    let mut req = Box::new(RxfhRequest::zeroed());
    req.head = rxfh_header(0, 0);
    rxfh(ifname, &mut req)?;
    let (indir_size, key_size) = (req.head.indir_size, req.head.key_size);
    *req = RxfhRequest::zeroed();
    req.head = rxfh_header(indir_size, key_size);
    rxfh(ifname, &mut req)?;
    decode_rss_config(&req)
}

/// Writes the fields the NIC hashes for flows of `flow_type` (`ethtool -N IF rx-flow-hash`):
/// `fields` is a set of RXH_* bits.
pub fn set_flow_hash_fields(ifname: &str, flow_type: u32, fields: u32) -> io::Result<()> {
    let mut arg = flow_hash_set_request(flow_type, fields);
    // SAFETY: `EthtoolRxnfc` is the whole argument of ETHTOOL_SRXFH; the kernel only reads it
    // (up to `data`, or `rss_context` with the FLOW_RSS flag, both inside the struct).
    unsafe { sys::ethtool(ifname, &mut arg) }
}

/// The ETHTOOL_SRXFH request: `cmd`, `flow_type` and the RXH_* bits in `data`, the rest zero.
pub fn flow_hash_set_request(flow_type: u32, fields: u32) -> EthtoolRxnfc {
    let mut arg = EthtoolRxnfc::zeroed();
    arg.cmd = ETHTOOL_SRXFH;
    arg.flow_type = flow_type;
    arg.data = u64::from(fields);
    arg
}

/// What ETHTOOL_SRSSH writes: the whole indirection table and key (each at the device's size,
/// which ETHTOOL_GRSSH reported; the kernel refuses other sizes with EINVAL), the hash function
/// (`ETH_RSS_HASH_NO_CHANGE` to keep it) and the input transform (0: none; RXH_XFRM_*).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RssSetting<'a> {
    pub indirection_table: &'a [u32],
    /// Empty: keep the key (`key_size` 0).
    pub key: &'a [u8],
    pub hfunc: u8,
    pub input_xfrm: u8,
}

/// Writes the RSS indirection table, key and hash function (`ethtool -X`).
pub fn set_rss_config(ifname: &str, setting: &RssSetting) -> io::Result<()> {
    let mut req = rss_set_request(setting)?;
    // SAFETY: the kernel reads the header and then `indir_size * 4 + key_size` bytes of
    // `rss_config` (it writes nothing back for SRSSH on context 0); rss_set_request made both
    // sizes those of the slices it copied in, and refused any that would not fit in `req`.
    unsafe { sys::ethtool(ifname, &mut *req) }
}

/// The ETHTOOL_SRSSH request for `setting`: the header, then the table's u32s, then the key's
/// bytes right after them. An empty table is refused (EINVAL): `indir_size` 0 would reset the
/// device's table to its default instead.
pub fn rss_set_request(setting: &RssSetting) -> io::Result<Box<RxfhRequest>> {
    let table = setting.indirection_table;
    let key = setting.key;
    if table.is_empty() {
        return Err(io::Error::from_raw_os_error(libc::EINVAL));
    }
    let mut req = Box::new(RxfhRequest::zeroed());
    req.head = EthtoolRxfh {
        cmd: ETHTOOL_SRSSH,
        indir_size: u32::try_from(table.len()).map_err(|_| e2big())?,
        key_size: u32::try_from(key.len()).map_err(|_| e2big())?,
        hfunc: setting.hfunc,
        input_xfrm: setting.input_xfrm,
        ..EthtoolRxfh::default()
    };
    if rss_config_bytes(&req.head) > size_of::<[u32; RSS_CONFIG_WORDS]>() {
        return Err(e2big());
    }
    req.rss_config[..table.len()].copy_from_slice(table);
    // The key's bytes in memory order, 4 to a word (the last one zero-padded), as the kernel
    // reads them from the byte after the table.
    for (word, chunk) in req.rss_config[table.len()..].iter_mut().zip(key.chunks(4)) {
        let mut bytes = [0u8; 4];
        bytes[..chunk.len()].copy_from_slice(chunk);
        *word = u32::from_ne_bytes(bytes);
    }
    Ok(req)
}

fn e2big() -> io::Error {
    io::Error::from_raw_os_error(libc::E2BIG)
}

/// One device feature as `ethtool -k` shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Feature {
    pub name: String,
    pub active: bool,
    /// Not changeable on this device (`[fixed]` in `ethtool -k`).
    pub fixed: bool,
}

/// The ETHTOOL_GSSET_INFO query for the feature names' count.
pub fn feature_count_request() -> EthtoolSsetInfo {
    EthtoolSsetInfo {
        cmd: ETHTOOL_GSSET_INFO,
        sset_mask: 1 << ETH_SS_FEATURES,
        ..EthtoolSsetInfo::default()
    }
}

/// The ETHTOOL_GFEATURES query for `FEATURE_BLOCKS` blocks.
pub fn features_request() -> EthtoolGfeatures {
    EthtoolGfeatures {
        cmd: ETHTOOL_GFEATURES,
        size: FEATURE_BLOCKS as u32,
        ..EthtoolGfeatures::default()
    }
}

/// The device's offload features (`ethtool -k`): ETHTOOL_GSSET_INFO for the count of feature
/// names, ETHTOOL_GSTRINGS for the names, ETHTOOL_GFEATURES for their state.
pub fn features(ifname: &str) -> io::Result<Vec<Feature>> {
    let mut info = feature_count_request();
    // SAFETY: the kernel reads the header and writes one u32 count after it for the one string
    // set asked for in `sset_mask`; `data` has room for two.
    unsafe { sys::ethtool(ifname, &mut info) }?;
    if info.sset_mask & (1 << ETH_SS_FEATURES) == 0 {
        return Err(io::Error::from_raw_os_error(libc::EOPNOTSUPP));
    }
    let count = info.data[0] as usize;
    if count > MAX_FEATURES {
        return Err(io::Error::from_raw_os_error(libc::E2BIG));
    }
    let mut names = Box::new(FeatureStrings::zeroed());
    names.cmd = ETHTOOL_GSTRINGS;
    names.string_set = ETH_SS_FEATURES;
    // SAFETY: the kernel writes the header and then `count * ETH_GSTRING_LEN` bytes of names,
    // where count is the set's size: a constant of the kernel (checked above to fit `data`).
    unsafe { sys::ethtool(ifname, &mut *names) }?;
    let mut state = features_request();
    // SAFETY: the kernel reads `size` and writes at most that many blocks after the header.
    unsafe { sys::ethtool(ifname, &mut state) }?;
    decode_features(&names, &state)
}

/// Pairs the names with their bits: name i is bit i % 32 of block i / 32.
pub fn decode_features(
    names: &FeatureStrings,
    state: &EthtoolGfeatures,
) -> io::Result<Vec<Feature>> {
    let count = names.len as usize;
    if count > MAX_FEATURES {
        return Err(io::Error::from_raw_os_error(libc::E2BIG));
    }
    Ok((0..count)
        .map(|i| {
            let block = &state.features[i / 32];
            let bit = 1u32 << (i % 32);
            let name = sys::c_field(&names.data[i * ETH_GSTRING_LEN..(i + 1) * ETH_GSTRING_LEN]);
            Feature {
                name,
                active: block.active & bit != 0,
                fixed: block.available & bit == 0 || block.never_changed & bit != 0,
            }
        })
        // Unnamed bits are the kernel's spare ones.
        .filter(|f| !f.name.is_empty())
        .collect())
}

/// An ETHTOOL_GRSSH header asking for a table of `indir_size` entries and a `key_size` key
/// (0 and 0: only the sizes).
pub fn rxfh_header(indir_size: u32, key_size: u32) -> EthtoolRxfh {
    EthtoolRxfh {
        cmd: ETHTOOL_GRSSH,
        indir_size,
        key_size,
        ..EthtoolRxfh::default()
    }
}

/// Bytes of `rss_config` a request with this header has the kernel write.
fn rss_config_bytes(head: &EthtoolRxfh) -> usize {
    head.indir_size as usize * size_of::<u32>() + head.key_size as usize
}

/// Runs ETHTOOL_GRSSH with `req`, refusing sizes that do not fit (E2BIG) before the call.
fn rxfh(ifname: &str, req: &mut RxfhRequest) -> io::Result<()> {
    if rss_config_bytes(&req.head) > size_of::<[u32; RSS_CONFIG_WORDS]>() {
        return Err(io::Error::from_raw_os_error(libc::E2BIG));
    }
    // SAFETY: the kernel reads the header and writes the header plus `indir_size * 4 +
    // key_size` bytes of `rss_config` (the sizes we asked for; if the device's differ it
    // fails with EINVAL before writing any), which the check above keeps inside `req`.
    unsafe { sys::ethtool(ifname, req) }
}

/// What ETHTOOL_GRSSH reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RssConfig {
    pub hfunc: u8,
    pub input_xfrm: u8,
    pub key: Vec<u8>,
    pub indirection_table: Vec<u32>,
}

/// Reads the table and the key out of a request the kernel filled.
pub fn decode_rss_config(req: &RxfhRequest) -> io::Result<RssConfig> {
    if rss_config_bytes(&req.head) > size_of::<[u32; RSS_CONFIG_WORDS]>() {
        return Err(io::Error::from_raw_os_error(libc::E2BIG));
    }
    let table_len = req.head.indir_size as usize;
    let indirection_table = req.rss_config[..table_len].to_vec();
    let key: Vec<u8> = req.rss_config[table_len..]
        .iter()
        .flat_map(|w| w.to_ne_bytes())
        .take(req.head.key_size as usize)
        .collect();
    Ok(RssConfig {
        hfunc: req.head.hfunc,
        input_xfrm: req.head.input_xfrm,
        key,
        indirection_table,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::offset_of;

    // Sizes and offsets from include/uapi/linux/ethtool.h, as gcc lays them out on LP64.

    #[test]
    fn channels_layout() {
        assert_eq!(size_of::<EthtoolChannels>(), 36);
        assert_eq!(offset_of!(EthtoolChannels, max_rx), 4);
        assert_eq!(offset_of!(EthtoolChannels, max_combined), 16);
        assert_eq!(offset_of!(EthtoolChannels, rx_count), 20);
        assert_eq!(offset_of!(EthtoolChannels, combined_count), 32);
    }

    #[test]
    fn drvinfo_layout() {
        assert_eq!(size_of::<EthtoolDrvinfo>(), 196);
        assert_eq!(offset_of!(EthtoolDrvinfo, driver), 4);
        assert_eq!(offset_of!(EthtoolDrvinfo, n_priv_flags), 176);
    }

    #[test]
    fn rxfh_layout() {
        assert_eq!(size_of::<EthtoolRxfh>(), 24);
        assert_eq!(offset_of!(EthtoolRxfh, rss_context), 4);
        assert_eq!(offset_of!(EthtoolRxfh, indir_size), 8);
        assert_eq!(offset_of!(EthtoolRxfh, key_size), 12);
        assert_eq!(offset_of!(EthtoolRxfh, hfunc), 16);
        assert_eq!(offset_of!(EthtoolRxfh, input_xfrm), 17);
        assert_eq!(offset_of!(EthtoolRxfh, rsvd8), 18);
        assert_eq!(offset_of!(EthtoolRxfh, rsvd32), 20);
        // rss_config[] starts right after the header.
        assert_eq!(offset_of!(RxfhRequest, rss_config), 24);
    }

    #[test]
    fn rxnfc_layout() {
        assert_eq!(size_of::<EthtoolRxFlowSpec>(), 168);
        assert_eq!(offset_of!(EthtoolRxFlowSpec, h_u), 4);
        assert_eq!(offset_of!(EthtoolRxFlowSpec, h_ext), 56);
        assert_eq!(offset_of!(EthtoolRxFlowSpec, m_u), 76);
        assert_eq!(offset_of!(EthtoolRxFlowSpec, m_ext), 128);
        assert_eq!(offset_of!(EthtoolRxFlowSpec, ring_cookie), 152);
        assert_eq!(offset_of!(EthtoolRxFlowSpec, location), 160);
        assert_eq!(size_of::<EthtoolRxnfc>(), 192);
        assert_eq!(offset_of!(EthtoolRxnfc, flow_type), 4);
        assert_eq!(offset_of!(EthtoolRxnfc, data), 8);
        assert_eq!(offset_of!(EthtoolRxnfc, fs), 16);
        assert_eq!(offset_of!(EthtoolRxnfc, rss_context), 184);
        assert_eq!(offset_of!(EthtoolRxnfc, rule_locs_or_pad), 188);
    }

    #[test]
    fn feature_structs_layout() {
        assert_eq!(size_of::<EthtoolSsetInfo>(), 24);
        assert_eq!(offset_of!(EthtoolSsetInfo, sset_mask), 8);
        assert_eq!(offset_of!(EthtoolSsetInfo, data), 16);
        assert_eq!(offset_of!(FeatureStrings, len), 8);
        assert_eq!(offset_of!(FeatureStrings, data), 12);
        assert_eq!(size_of::<EthtoolFeaturesBlock>(), 16);
        assert_eq!(offset_of!(EthtoolFeaturesBlock, active), 8);
        assert_eq!(offset_of!(EthtoolGfeatures, features), 8);
        assert_eq!(size_of::<EthtoolGfeatures>(), 8 + 16 * FEATURE_BLOCKS);
        assert_eq!(
            (ETHTOOL_GSTRINGS, ETHTOOL_GSSET_INFO, ETHTOOL_GFEATURES),
            (0x1b, 0x37, 0x3a)
        );
        assert_eq!((ETH_SS_FEATURES, ETH_GSTRING_LEN), (4, 32));
    }

    #[test]
    fn feature_requests_encode_the_set_and_the_block_count() {
        let info = feature_count_request();
        let bytes = bytes_of(&info);
        assert_eq!(&bytes[0..4], &ETHTOOL_GSSET_INFO.to_ne_bytes());
        assert_eq!(&bytes[8..16], &(1u64 << 4).to_ne_bytes());
        assert!(bytes[16..].iter().all(|&b| b == 0));
        let state = features_request();
        let bytes = bytes_of(&state);
        assert_eq!(&bytes[0..4], &ETHTOOL_GFEATURES.to_ne_bytes());
        assert_eq!(&bytes[4..8], &2u32.to_ne_bytes());
        assert!(bytes[8..].iter().all(|&b| b == 0));
    }

    #[test]
    fn decodes_feature_names_and_states() {
        let mut names = FeatureStrings::zeroed();
        names.len = 34;
        let mut put = |i: usize, name: &str| {
            names.data[i * 32..i * 32 + name.len()].copy_from_slice(name.as_bytes())
        };
        put(0, "tx-scatter-gather");
        put(15, "rx-lro");
        put(33, "rx-gro-hw");
        let mut state = features_request();
        state.features[0] = EthtoolFeaturesBlock {
            available: 1,
            requested: 1,
            active: 1 | 1 << 15,
            never_changed: 0,
        };
        state.features[1].active = 1 << 1;
        state.features[1].available = 1 << 1;
        let features = decode_features(&names, &state).unwrap();
        let f = |name: &str, active: bool, fixed: bool| Feature {
            name: name.into(),
            active,
            fixed,
        };
        assert_eq!(
            features,
            [
                f("tx-scatter-gather", true, false),
                f("rx-lro", true, true),
                f("rx-gro-hw", true, false)
            ]
        );
    }

    #[test]
    fn loopback_reports_its_offloads() {
        let features = features("lo").unwrap();
        let rx_checksum = features.iter().find(|f| f.name == "rx-checksum").unwrap();
        assert!(rx_checksum.active);
        assert!(features.iter().any(|f| f.name == "rx-gro"));
    }

    #[test]
    fn uapi_values() {
        assert_eq!(
            (ETHTOOL_GRXFH, ETHTOOL_GCHANNELS, ETHTOOL_GRSSH),
            (0x29, 0x3c, 0x46)
        );
        assert_eq!(
            (TCP_V4_FLOW, UDP_V4_FLOW, TCP_V6_FLOW, UDP_V6_FLOW),
            (1, 2, 5, 6)
        );
        assert_eq!(RXH_IP_SRC | RXH_IP_DST | RXH_L4_B_0_1 | RXH_L4_B_2_3, 0xf0);
        assert_eq!(RXH_DISCARD, 0x8000_0000);
    }

    /// The bytes of a struct as the kernel sees them.
    fn bytes_of<T: Pod>(value: &T) -> &[u8] {
        // SAFETY: `T: Pod` has no padding bytes (so all are initialised) and `value` is borrowed
        // for the slice's lifetime.
        unsafe { std::slice::from_raw_parts((value as *const T).cast(), size_of::<T>()) }
    }

    #[test]
    fn flow_hash_request_encodes_cmd_and_flow_type_only() {
        let req = flow_hash_request(UDP_V6_FLOW);
        let bytes = bytes_of(&req);
        assert_eq!(&bytes[0..4], &ETHTOOL_GRXFH.to_ne_bytes());
        assert_eq!(&bytes[4..8], &UDP_V6_FLOW.to_ne_bytes());
        assert!(bytes[8..].iter().all(|&b| b == 0));
    }

    #[test]
    fn rxfh_header_encodes_sizes_and_zero_reserved_fields() {
        // The kernel refuses a request whose reserved fields are not zero (EINVAL).
        let head = rxfh_header(128, 40);
        let bytes = bytes_of(&head);
        assert_eq!(&bytes[0..4], &ETHTOOL_GRSSH.to_ne_bytes());
        assert_eq!(&bytes[4..8], &[0; 4]);
        assert_eq!(&bytes[8..12], &128u32.to_ne_bytes());
        assert_eq!(&bytes[12..16], &40u32.to_ne_bytes());
        assert_eq!(&bytes[16..24], &[0; 8]);
    }

    #[test]
    fn decodes_the_table_then_the_key() {
        // What a driver with a 4-entry table and a 6-byte key writes after the header.
        let mut req = RxfhRequest::zeroed();
        req.head = rxfh_header(4, 6);
        req.head.hfunc = ETH_RSS_HASH_TOP;
        req.head.input_xfrm = RXH_XFRM_SYM_XOR;
        req.rss_config[..4].copy_from_slice(&[0, 1, 2, 3]);
        let key = [0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b];
        req.rss_config[4] = u32::from_ne_bytes(key[..4].try_into().unwrap());
        req.rss_config[5] = u32::from_ne_bytes([key[4], key[5], 0xee, 0xee]);
        let config = decode_rss_config(&req).unwrap();
        assert_eq!(config.indirection_table, vec![0, 1, 2, 3]);
        assert_eq!(config.key, key.to_vec());
        assert_eq!((config.hfunc, config.input_xfrm), (1, 1));
    }

    #[test]
    fn set_commands_are_the_uapi_values() {
        assert_eq!((ETHTOOL_SRXFH, ETHTOOL_SRSSH), (0x2a, 0x47));
        assert_eq!(ETH_RSS_HASH_NO_CHANGE, 0);
    }

    #[test]
    fn flow_hash_set_request_encodes_flow_type_and_fields() {
        let fields = RXH_IP_SRC | RXH_IP_DST | RXH_L4_B_0_1 | RXH_L4_B_2_3;
        let req = flow_hash_set_request(TCP_V6_FLOW, fields);
        let bytes = bytes_of(&req);
        assert_eq!(bytes.len(), 192);
        assert_eq!(&bytes[0..4], &ETHTOOL_SRXFH.to_ne_bytes());
        assert_eq!(&bytes[4..8], &TCP_V6_FLOW.to_ne_bytes());
        // `data` is the u64 at offset 8: the kernel copies the struct up to its end for SRXFH.
        assert_eq!(&bytes[8..16], &0xf0u64.to_ne_bytes());
        assert!(bytes[16..].iter().all(|&b| b == 0));
    }

    #[test]
    fn rss_set_request_puts_the_key_right_after_the_table() {
        let table = [0, 1, 0, 1, 2];
        let key = [0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b];
        let req = rss_set_request(&RssSetting {
            indirection_table: &table,
            key: &key,
            hfunc: ETH_RSS_HASH_TOP,
            input_xfrm: 0,
        })
        .unwrap();
        let bytes = bytes_of(&*req);
        // The header: command, context 0, the sizes, hfunc, input_xfrm, reserved zero.
        assert_eq!(&bytes[0..4], &ETHTOOL_SRSSH.to_ne_bytes());
        assert_eq!(&bytes[4..8], &[0; 4]);
        assert_eq!(&bytes[8..12], &5u32.to_ne_bytes());
        assert_eq!(&bytes[12..16], &6u32.to_ne_bytes());
        assert_eq!(bytes[16], ETH_RSS_HASH_TOP);
        assert_eq!(&bytes[17..24], &[0; 7]);
        // rss_config[] at offset 24: five u32 queue numbers, then the key's bytes unaligned to
        // nothing but the table's end (24 + 5 * 4 = 44).
        for (i, q) in table.iter().enumerate() {
            assert_eq!(&bytes[24 + 4 * i..28 + 4 * i], &q.to_ne_bytes());
        }
        assert_eq!(&bytes[44..50], &key);
        assert!(bytes[50..].iter().all(|&b| b == 0));
        // What the kernel would read back decodes to the same table and key.
        let mut echoed = *req;
        echoed.head.cmd = ETHTOOL_GRSSH;
        let config = decode_rss_config(&echoed).unwrap();
        assert_eq!(config.indirection_table, table.to_vec());
        assert_eq!(config.key, key.to_vec());
    }

    #[test]
    fn rss_set_request_keeps_the_key_when_none_is_given() {
        let req = rss_set_request(&RssSetting {
            indirection_table: &[3; 128],
            key: &[],
            hfunc: ETH_RSS_HASH_NO_CHANGE,
            input_xfrm: RXH_XFRM_SYM_XOR,
        })
        .unwrap();
        assert_eq!((req.head.indir_size, req.head.key_size), (128, 0));
        assert_eq!((req.head.hfunc, req.head.input_xfrm), (0, 1));
    }

    #[test]
    fn rss_set_request_refuses_an_empty_table_and_oversized_ones() {
        let setting = |table: &'static [u32]| RssSetting {
            indirection_table: table,
            key: &[1; 40],
            hfunc: 0,
            input_xfrm: 0,
        };
        let empty = rss_set_request(&setting(&[])).err().unwrap();
        assert_eq!(empty.raw_os_error(), Some(libc::EINVAL));
        static HUGE: [u32; RSS_CONFIG_WORDS] = [0; RSS_CONFIG_WORDS];
        let huge = rss_set_request(&setting(&HUGE)).err().unwrap();
        assert_eq!(huge.raw_os_error(), Some(libc::E2BIG));
    }

    #[test]
    fn loopback_refuses_writes_too() {
        // Nothing changes: lo has no set_rxfh or set_rxfh_fields, so the kernel answers
        // EOPNOTSUPP before reading the tables.
        let table = [0u32; 128];
        let set = set_rss_config(
            "lo",
            &RssSetting {
                indirection_table: &table,
                key: &[0; 40],
                hfunc: 0,
                input_xfrm: 0,
            },
        );
        let fields = set_flow_hash_fields("lo", UDP_V4_FLOW, RXH_IP_SRC | RXH_IP_DST);
        for e in [set.unwrap_err(), fields.unwrap_err()] {
            assert_eq!(e.raw_os_error(), Some(libc::EOPNOTSUPP), "{e}");
        }
    }

    #[test]
    fn refuses_sizes_larger_than_the_buffer() {
        let mut req = RxfhRequest::zeroed();
        req.head = rxfh_header(RSS_CONFIG_WORDS as u32, 1);
        assert_eq!(
            decode_rss_config(&req).unwrap_err().raw_os_error(),
            Some(libc::E2BIG)
        );
        assert_eq!(
            rxfh("lo", &mut req).unwrap_err().raw_os_error(),
            Some(libc::E2BIG)
        );
    }

    #[test]
    fn loopback_reports_none_of_it() {
        // lo has ethtool ops, but none for channels or RSS.
        for e in [
            channels("lo").unwrap_err(),
            rss_config("lo").unwrap_err(),
            flow_hash_fields("lo", TCP_V4_FLOW).unwrap_err(),
        ] {
            assert_eq!(e.raw_os_error(), Some(libc::EOPNOTSUPP), "{e}");
        }
    }
}
