//! What a NIC reports about its queues, its receive-side scaling, its XDP support and its
//! offloads, for JS: the channel counts, the RSS hash function, key and indirection table, the
//! fields hashed per flow type, the netdev family's XDP and AF_XDP features (zero-copy among
//! them) and the ethtool offload features. Each
//! reading a driver does not offer (veth offers none of the RSS ones) comes back as an
//! `unsupported` result rather than an error, so that a caller can tell "this NIC does not say"
//! (the engine then steers in software) from a real failure, which throws.
//!
//! Two calls write: `nic_set_rss` and `nic_set_flow_hash`, for the engine's `rss: 'program'`.
//! They throw on any failure, EOPNOTSUPP included: the engine asks only where the reading worked.

use std::io;

use napi_derive::napi;

use crate::error::{self, Result};
use crate::ethtool;
use crate::genetlink::{self, netdev};
use crate::ifinfo::{self, Channels};

/// A reading the driver does not offer.
#[napi(object)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unsupported {
    /// The errno name the kernel answered with: EOPNOTSUPP (no such ethtool operation in the
    /// driver), or EINVAL for a flow type a driver does not hash.
    pub code: String,
    /// "veth does not report its RSS key and indirection table (ETHTOOL_GRSSH: EOPNOTSUPP)".
    pub message: String,
}

/// ETHTOOL_GCHANNELS: `counts`, or why not.
#[napi(object)]
pub struct NicChannels {
    pub counts: Option<Channels>,
    pub unsupported: Option<Unsupported>,
}

/// ETHTOOL_GRSSH, decoded.
#[napi(object)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RssFacts {
    /// "toeplitz", "xor", "crc32", "none" (the driver did not say), or "unknown(0x..)".
    pub hash_function: String,
    /// How the fields are transformed before hashing: "none", "sym-xor", "sym-or-xor".
    pub input_transform: String,
    /// The hash key; empty when the driver has none to report.
    pub key: Vec<u8>,
    /// RETA: the RX queue of each hash bucket (hash mod size); empty when the driver has none.
    pub indirection_table: Vec<u32>,
}

/// ETHTOOL_GRSSH: `facts`, or why not.
#[napi(object)]
pub struct NicRss {
    pub facts: Option<RssFacts>,
    pub unsupported: Option<Unsupported>,
}

/// ETHTOOL_GRXFH for one flow type.
#[napi(object)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlowHash {
    /// "tcp4", "udp4", "tcp6" or "udp6".
    pub flow: String,
    /// The hashed fields by name ("ip-src", "ip-dst", "src-port", "dst-port", ...); empty when
    /// the NIC does not hash this flow type (every such packet goes to one queue).
    pub fields: Option<Vec<String>>,
    /// The raw RXH_* bits.
    pub bits: Option<u32>,
    pub unsupported: Option<Unsupported>,
}

/// What the netdev netlink family reports about a device's XDP and AF_XDP support.
#[napi(object)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct XdpFeatures {
    /// NETDEV_A_DEV_XDP_FEATURES by name: "basic" (native XDP: XDP_DROP, PASS, TX),
    /// "redirect" (XDP_REDIRECT, which AF_XDP needs in native mode), "ndo-xmit",
    /// "xsk-zerocopy", "hw-offload", "rx-sg", "ndo-xmit-sg". Empty: no native XDP at all (the
    /// kernel's generic XDP still works).
    pub xdp_features: Vec<String>,
    /// The raw `enum netdev_xdp_act` bits.
    pub xdp_features_bits: i64,
    /// Fragments a zero-copy AF_XDP frame may span (1: single-buffer); absent where the kernel
    /// does not say (the attribute is sent only for zero-copy capable devices on some kernels).
    pub xdp_zc_max_segs: Option<u32>,
    /// XDP RX metadata the driver exposes to XDP programs ("timestamp", "hash", "vlan-tag");
    /// absent before Linux 6.8.
    pub xdp_rx_metadata: Option<Vec<String>>,
    /// AF_XDP TX metadata offloads ("tx-timestamp", "tx-checksum", "tx-launch-time-fifo");
    /// absent before Linux 6.8.
    pub xsk_features: Option<Vec<String>>,
}

/// NETDEV_CMD_DEV_GET: `features`, or why not.
#[napi(object)]
pub struct NicXdpFeatures {
    pub features: Option<XdpFeatures>,
    pub unsupported: Option<Unsupported>,
}

/// One offload feature (`ethtool -k`).
#[napi(object)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Offload {
    /// The kernel's name: "rx-checksum", "rx-gro", "rx-lro", "tx-tcp-segmentation", ...
    pub name: String,
    pub active: bool,
    /// Not changeable on this device (`[fixed]`).
    pub fixed: bool,
}

/// ETHTOOL_GFEATURES: `features`, or why not.
#[napi(object)]
pub struct NicOffloads {
    pub features: Option<Vec<Offload>>,
    pub unsupported: Option<Unsupported>,
}

/// The flow types the engine serves, by the names JS sees.
const FLOW_TYPES: [(&str, u32); 4] = [
    ("tcp4", ethtool::TCP_V4_FLOW),
    ("udp4", ethtool::UDP_V4_FLOW),
    ("tcp6", ethtool::TCP_V6_FLOW),
    ("udp6", ethtool::UDP_V6_FLOW),
];

/// Names of the RXH_* bits, in bit order.
const FLOW_HASH_FIELDS: [(u32, &str); 10] = [
    (ethtool::RXH_L2DA, "l2-dst"),
    (ethtool::RXH_VLAN, "vlan"),
    (ethtool::RXH_L3_PROTO, "l3-proto"),
    (ethtool::RXH_IP_SRC, "ip-src"),
    (ethtool::RXH_IP_DST, "ip-dst"),
    (ethtool::RXH_L4_B_0_1, "src-port"),
    (ethtool::RXH_L4_B_2_3, "dst-port"),
    (ethtool::RXH_GTP_TEID, "gtp-teid"),
    (ethtool::RXH_IP6_FL, "ip6-flow-label"),
    (ethtool::RXH_DISCARD, "discard"),
];

/// The interface's channel counts as its driver reports them.
#[napi]
pub fn nic_channels(ifname: String) -> Result<NicChannels> {
    ifinfo::ifindex(&ifname)?;
    Ok(match ethtool::channels(&ifname) {
        Ok(ch) => NicChannels {
            counts: Some(Channels {
                rx: ch.rx_count,
                tx: ch.tx_count,
                combined: ch.combined_count,
                other: ch.other_count,
                max_rx: ch.max_rx,
                max_tx: ch.max_tx,
                max_combined: ch.max_combined,
            }),
            unsupported: None,
        },
        Err(e) => NicChannels {
            counts: None,
            unsupported: Some(unsupported(&ifname, &e, "its channel counts", "GCHANNELS")?),
        },
    })
}

/// The interface's RSS hash function, key and indirection table.
#[napi]
pub fn nic_rss(ifname: String) -> Result<NicRss> {
    ifinfo::ifindex(&ifname)?;
    Ok(match ethtool::rss_config(&ifname) {
        Ok(config) => NicRss {
            facts: Some(RssFacts {
                hash_function: hash_function_name(config.hfunc),
                input_transform: input_transform_name(config.input_xfrm),
                key: config.key,
                indirection_table: config.indirection_table,
            }),
            unsupported: None,
        },
        Err(e) => NicRss {
            facts: None,
            unsupported: Some(unsupported(
                &ifname,
                &e,
                "its RSS key and indirection table",
                "GRSSH",
            )?),
        },
    })
}

/// What `nic_set_rss` writes.
#[napi(object)]
pub struct RssWrite {
    /// The whole RETA: one RX queue per bucket, as many entries as the NIC's table has.
    pub indirection_table: Vec<u32>,
    /// The hash key at the NIC's key size; empty to keep the NIC's key.
    pub key: Vec<u8>,
    /// "toeplitz", "xor" or "crc32"; absent to keep the NIC's hash function.
    pub hash_function: Option<String>,
    /// "none", "sym-xor" or "sym-or-xor"; absent: "none" (the only value kernels before 6.8
    /// accept, where the field was reserved).
    pub input_transform: Option<String>,
}

/// Writes the interface's RSS indirection table, key and hash function (ETHTOOL_SRSSH). Throws
/// EOPNOTSUPP where the driver cannot, EINVAL for a table or key not of the NIC's size or a
/// queue it does not have.
#[napi]
pub fn nic_set_rss(ifname: String, write: RssWrite) -> Result<()> {
    ifinfo::ifindex(&ifname)?;
    let hfunc = match write.hash_function.as_deref() {
        None => ethtool::ETH_RSS_HASH_NO_CHANGE,
        Some(name) => hash_function_bit(name)
            .ok_or_else(|| error::err("EINVAL", format!("unknown RSS hash function '{name}'")))?,
    };
    let input_xfrm = match write.input_transform.as_deref() {
        None => 0,
        Some(name) => input_transform_bit(name)
            .ok_or_else(|| error::err("EINVAL", format!("unknown RSS input transform '{name}'")))?,
    };
    let setting = ethtool::RssSetting {
        indirection_table: &write.indirection_table,
        key: &write.key,
        hfunc,
        input_xfrm,
    };
    ethtool::set_rss_config(&ifname, &setting).map_err(|e| {
        error::os(
            &e,
            format!("writing the RSS key and indirection table of '{ifname}' (ETHTOOL_SRSSH)"),
        )
    })
}

/// Writes the fields the interface hashes for one flow type ("tcp4", "udp4", "tcp6", "udp6"):
/// `bits` is a set of RXH_* bits, as `FlowHash.bits` reads them (ETHTOOL_SRXFH).
#[napi]
pub fn nic_set_flow_hash(ifname: String, flow: String, bits: u32) -> Result<()> {
    ifinfo::ifindex(&ifname)?;
    let flow_type = FLOW_TYPES
        .iter()
        .find(|(name, _)| *name == flow)
        .map(|&(_, flow_type)| flow_type)
        .ok_or_else(|| error::err("EINVAL", format!("unknown flow type '{flow}'")))?;
    ethtool::set_flow_hash_fields(&ifname, flow_type, bits).map_err(|e| {
        error::os(
            &e,
            format!("writing the fields '{ifname}' hashes for {flow} (ETHTOOL_SRXFH)"),
        )
    })
}

/// The fields the NIC hashes for TCP and UDP over IPv4 and IPv6, in that order.
#[napi]
pub fn nic_flow_hashes(ifname: String) -> Result<Vec<FlowHash>> {
    ifinfo::ifindex(&ifname)?;
    FLOW_TYPES
        .iter()
        .map(|&(flow, flow_type)| flow_hash(&ifname, flow, flow_type))
        .collect()
}

fn flow_hash(ifname: &str, flow: &str, flow_type: u32) -> Result<FlowHash> {
    let (bits, why) = match ethtool::flow_hash_fields(ifname, flow_type) {
        Ok(bits) => (Some(bits), None),
        Err(e) => {
            let what = format!("which fields it hashes for {flow}");
            (None, Some(unsupported(ifname, &e, &what, "GRXFH")?))
        }
    };
    Ok(FlowHash {
        flow: flow.to_string(),
        fields: bits.map(flow_hash_field_names),
        bits,
        unsupported: why,
    })
}

/// The device's XDP features, zero-copy support and AF_XDP offloads, from the netdev generic
/// netlink family (NETDEV_CMD_DEV_GET). A kernel without the family (before Linux 6.3) gives an
/// `unsupported` result with code ENOENT.
#[napi]
pub fn nic_xdp_features(ifname: String) -> Result<NicXdpFeatures> {
    let ifindex = ifinfo::ifindex(&ifname)?;
    Ok(match genetlink::netdev_features(ifindex) {
        Ok(dev) => NicXdpFeatures {
            features: Some(xdp_features(&dev)),
            unsupported: None,
        },
        Err(e) if error::errno(&e) == libc::ENOENT => NicXdpFeatures {
            features: None,
            unsupported: Some(Unsupported {
                code: "ENOENT".to_string(),
                message: "this kernel has no netdev generic netlink family (Linux 6.3+), so it \
                          does not say which XDP features the driver has"
                    .to_string(),
            }),
        },
        Err(e) => {
            return Err(error::os(
                &e,
                format!(
                    "reading the XDP features of '{ifname}' (netdev netlink NETDEV_CMD_DEV_GET)"
                ),
            ))
        }
    })
}

/// The netdev family's answer, named.
pub fn xdp_features(dev: &genetlink::NetdevFeatures) -> XdpFeatures {
    XdpFeatures {
        xdp_features: genetlink::flag_names(dev.xdp_features, &netdev::XDP_ACT),
        xdp_features_bits: dev.xdp_features as i64,
        xdp_zc_max_segs: dev.xdp_zc_max_segs,
        xdp_rx_metadata: dev
            .xdp_rx_metadata_features
            .map(|bits| genetlink::flag_names(bits, &netdev::XDP_RX_METADATA)),
        xsk_features: dev
            .xsk_features
            .map(|bits| genetlink::flag_names(bits, &netdev::XSK_FLAGS)),
    }
}

/// The interface's offload features and whether each is on (`ethtool -k`).
#[napi]
pub fn nic_offloads(ifname: String) -> Result<NicOffloads> {
    ifinfo::ifindex(&ifname)?;
    Ok(match ethtool::features(&ifname) {
        Ok(features) => NicOffloads {
            features: Some(
                features
                    .into_iter()
                    .map(|f| Offload {
                        name: f.name,
                        active: f.active,
                        fixed: f.fixed,
                    })
                    .collect(),
            ),
            unsupported: None,
        },
        Err(e) => NicOffloads {
            features: None,
            unsupported: Some(unsupported(
                &ifname,
                &e,
                "its offload features",
                "GFEATURES",
            )?),
        },
    })
}

/// Kernel-internal ENOTSUPP, which some drivers let out instead of EOPNOTSUPP.
const ENOTSUPP: i32 = 524;

/// `e` as an "unsupported" result when the driver lacks the operation, else as the error it is.
fn unsupported(ifname: &str, e: &io::Error, what: &str, cmd: &str) -> Result<Unsupported> {
    let code = match error::errno(e) {
        libc::EOPNOTSUPP | ENOTSUPP => "EOPNOTSUPP",
        // Drivers with GRXFH answer EINVAL for a flow type they do not hash at all.
        libc::EINVAL if cmd == "GRXFH" => "EINVAL",
        _ => {
            return Err(error::os(
                e,
                format!("reading {what} of '{ifname}' (ETHTOOL_{cmd})"),
            ))
        }
    };
    let driver = match ifinfo::driver(ifname) {
        d if d.is_empty() => format!("the driver of '{ifname}'"),
        d => d,
    };
    Ok(Unsupported {
        code: code.to_string(),
        message: format!("{driver} does not report {what} (ETHTOOL_{cmd}: {code})"),
    })
}

/// The name of the hash function whose bit is set in `hfunc`.
pub fn hash_function_name(hfunc: u8) -> String {
    match hfunc {
        0 => "none".to_string(),
        ethtool::ETH_RSS_HASH_TOP => "toeplitz".to_string(),
        ethtool::ETH_RSS_HASH_XOR => "xor".to_string(),
        ethtool::ETH_RSS_HASH_CRC32 => "crc32".to_string(),
        other => format!("unknown(0x{other:02x})"),
    }
}

/// The `hfunc` bit of a hash function's name (the inverse of `hash_function_name`).
pub fn hash_function_bit(name: &str) -> Option<u8> {
    match name {
        "toeplitz" => Some(ethtool::ETH_RSS_HASH_TOP),
        "xor" => Some(ethtool::ETH_RSS_HASH_XOR),
        "crc32" => Some(ethtool::ETH_RSS_HASH_CRC32),
        _ => None,
    }
}

/// The `input_xfrm` bits of a transform's name (the inverse of `input_transform_name`).
pub fn input_transform_bit(name: &str) -> Option<u8> {
    match name {
        "none" => Some(0),
        "sym-xor" => Some(ethtool::RXH_XFRM_SYM_XOR),
        "sym-or-xor" => Some(ethtool::RXH_XFRM_SYM_OR_XOR),
        _ => None,
    }
}

/// The name of the input transform in `input_xfrm`.
pub fn input_transform_name(input_xfrm: u8) -> String {
    match input_xfrm {
        0 => "none".to_string(),
        ethtool::RXH_XFRM_SYM_XOR => "sym-xor".to_string(),
        ethtool::RXH_XFRM_SYM_OR_XOR => "sym-or-xor".to_string(),
        other => format!("unknown(0x{other:02x})"),
    }
}

/// The names of the RXH_* bits set in `bits`; unknown bits as "bit-N".
pub fn flow_hash_field_names(bits: u32) -> Vec<String> {
    (0..32)
        .map(|i| 1u32 << i)
        .filter(|bit| bits & bit != 0)
        .map(
            |bit| match FLOW_HASH_FIELDS.iter().find(|(b, _)| *b == bit) {
                Some((_, name)) => name.to_string(),
                None => format!("bit-{}", bit.trailing_zeros()),
            },
        )
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_four_tuple_fields() {
        assert_eq!(
            flow_hash_field_names(0xf0),
            ["ip-src", "ip-dst", "src-port", "dst-port"]
        );
        // UDP hashed on addresses only, as many drivers do by default.
        assert_eq!(flow_hash_field_names(0x30), ["ip-src", "ip-dst"]);
        assert_eq!(
            flow_hash_field_names(ethtool::RXH_DISCARD | 1 << 12),
            ["bit-12", "discard"]
        );
        assert!(flow_hash_field_names(0).is_empty());
    }

    #[test]
    fn names_hash_functions_and_transforms() {
        assert_eq!(hash_function_name(1), "toeplitz");
        assert_eq!(hash_function_name(4), "crc32");
        assert_eq!(hash_function_name(3), "unknown(0x03)");
        assert_eq!(input_transform_name(0), "none");
        assert_eq!(input_transform_name(1), "sym-xor");
    }

    #[test]
    fn names_and_bits_round_trip() {
        for name in ["toeplitz", "xor", "crc32"] {
            assert_eq!(hash_function_name(hash_function_bit(name).unwrap()), name);
        }
        for name in ["none", "sym-xor", "sym-or-xor"] {
            assert_eq!(
                input_transform_name(input_transform_bit(name).unwrap()),
                name
            );
        }
        assert_eq!(hash_function_bit("none"), None);
    }

    #[test]
    fn writes_to_loopback_throw_eopnotsupp() {
        let write = RssWrite {
            indirection_table: vec![0; 128],
            key: vec![0; 40],
            hash_function: Some("toeplitz".to_string()),
            input_transform: None,
        };
        let e = nic_set_rss("lo".to_string(), write).err().unwrap();
        assert_eq!(e.status.as_ref(), "EOPNOTSUPP");
        assert!(e.reason.contains("ETHTOOL_SRSSH"), "{}", e.reason);
        let e = nic_set_flow_hash("lo".to_string(), "udp4".to_string(), 0xf0)
            .err()
            .unwrap();
        assert_eq!(e.status.as_ref(), "EOPNOTSUPP");
        let e = nic_set_flow_hash("lo".to_string(), "sctp4".to_string(), 0xf0)
            .err()
            .unwrap();
        assert_eq!(e.status.as_ref(), "EINVAL");
    }

    #[test]
    fn loopback_is_unsupported_not_an_error() {
        let rss = nic_rss("lo".to_string()).unwrap();
        assert!(rss.facts.is_none());
        let why = rss.unsupported.unwrap();
        assert_eq!(why.code, "EOPNOTSUPP");
        assert!(
            why.message.contains("does not report its RSS key"),
            "{why:?}"
        );
        let channels = nic_channels("lo".to_string()).unwrap();
        assert_eq!(channels.unsupported.unwrap().code, "EOPNOTSUPP");
        let hashes = nic_flow_hashes("lo".to_string()).unwrap();
        let flows: Vec<_> = hashes.iter().map(|h| h.flow.as_str()).collect();
        assert_eq!(flows, ["tcp4", "udp4", "tcp6", "udp6"]);
        assert!(hashes.iter().all(|h| h.unsupported.is_some()));
    }

    #[test]
    fn loopback_has_no_native_xdp() {
        let lo = nic_xdp_features("lo".to_string()).unwrap();
        if let Some(features) = lo.features {
            assert!(features.xdp_features.is_empty(), "{features:?}");
            assert_eq!(features.xdp_features_bits, 0);
        } else {
            assert_eq!(lo.unsupported.unwrap().code, "ENOENT");
        }
        let offloads = nic_offloads("lo".to_string()).unwrap().features.unwrap();
        assert!(offloads.iter().any(|f| f.name == "rx-checksum" && f.active));
    }

    #[test]
    fn names_a_zero_copy_device() {
        let dev = genetlink::NetdevFeatures {
            xdp_features: 1 | 2 | 8,
            xdp_zc_max_segs: Some(1),
            xdp_rx_metadata_features: None,
            xsk_features: Some(1),
        };
        let named = xdp_features(&dev);
        assert_eq!(named.xdp_features, ["basic", "redirect", "xsk-zerocopy"]);
        assert_eq!(named.xdp_rx_metadata, None);
        assert_eq!(named.xsk_features.unwrap(), ["tx-timestamp"]);
    }

    #[test]
    fn missing_interface_throws_enodev() {
        let e = nic_rss("h1-no-such".to_string()).err().unwrap();
        assert_eq!(e.status.as_ref(), "ENODEV");
        let e = nic_xdp_features("h1-no-such".to_string()).err().unwrap();
        assert_eq!(e.status.as_ref(), "ENODEV");
    }
}
