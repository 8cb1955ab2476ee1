//! What the dispatcher hashes in a received frame: the RSS input a NIC would use.
//!
//! - IPv4/IPv6 with TCP or UDP: the 4-tuple (addresses, then ports), as NICs hash
//!   `TCP_IPV4`/`UDP_IPV4`/`TCP_IPV6`/`UDP_IPV6`.
//! - IPv4 fragments and other IP protocols (ICMP, ...): the addresses only (the 2-tuple), so
//!   every fragment of a datagram lands on one worker (Microsoft RSS: fragments hash as IP).
//! - IPv6 with an extension header before the transport header: the 2-tuple (not walked yet).
//! - ARP, IPv6 neighbour discovery (ICMPv6 133-137) and anything that is not IP: `Control`,
//!   which the dispatcher gives to worker 0 (the worker answering ARP/ND for the engine).
//! - One 802.1Q tag is skipped.

const ETH_HLEN: usize = 14;
const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_IPV6: u16 = 0x86dd;
const ETHERTYPE_VLAN: u16 = 0x8100;
const PROTO_TCP: u8 = 6;
const PROTO_UDP: u8 = 17;
const PROTO_ICMPV6: u8 = 58;
/// RFC 4861 4.1-4.5: router solicitation ... redirect.
const ND_TYPES: std::ops::RangeInclusive<u8> = 133..=137;

/// How a frame is steered.
#[derive(Debug, PartialEq, Eq)]
pub enum Steer<'a> {
    /// Not a flow: goes to worker 0.
    Control,
    /// Hash `addrs` (source then destination) and, when present, `ports` (source then
    /// destination, 4 bytes).
    Flow {
        addrs: &'a [u8],
        ports: Option<&'a [u8]>,
    },
}

fn be16(frame: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([frame[at], frame[at + 1]])
}

/// Classifies the Ethernet frame `frame` (its bytes as received).
pub fn classify(frame: &[u8]) -> Steer<'_> {
    if frame.len() < ETH_HLEN {
        return Steer::Control;
    }
    let (ethertype, l3) = match be16(frame, 12) {
        ETHERTYPE_VLAN if frame.len() >= ETH_HLEN + 4 => (be16(frame, 16), ETH_HLEN + 4),
        t => (t, ETH_HLEN),
    };
    match ethertype {
        ETHERTYPE_IPV4 => ipv4(frame, l3),
        ETHERTYPE_IPV6 => ipv6(frame, l3),
        _ => Steer::Control,
    }
}

fn ipv4(frame: &[u8], l3: usize) -> Steer<'_> {
    if frame.len() < l3 + 20 || frame[l3] >> 4 != 4 {
        return Steer::Control;
    }
    let ihl = usize::from(frame[l3] & 0x0f) * 4;
    if ihl < 20 || frame.len() < l3 + ihl {
        return Steer::Control;
    }
    let addrs = &frame[l3 + 12..l3 + 20];
    // RFC 791 3.1: MF flag or a non-zero fragment offset.
    let fragment = be16(frame, l3 + 6) & 0x3fff != 0;
    let l4 = l3 + ihl;
    let proto = frame[l3 + 9];
    let ports = (!fragment && (proto == PROTO_TCP || proto == PROTO_UDP))
        .then(|| frame.get(l4..l4 + 4))
        .flatten();
    Steer::Flow { addrs, ports }
}

fn ipv6(frame: &[u8], l3: usize) -> Steer<'_> {
    if frame.len() < l3 + 40 || frame[l3] >> 4 != 6 {
        return Steer::Control;
    }
    let next = frame[l3 + 6];
    let l4 = l3 + 40;
    if next == PROTO_ICMPV6 && frame.get(l4).is_some_and(|t| ND_TYPES.contains(t)) {
        return Steer::Control;
    }
    let addrs = &frame[l3 + 8..l3 + 40];
    let ports = (next == PROTO_TCP || next == PROTO_UDP)
        .then(|| frame.get(l4..l4 + 4))
        .flatten();
    Steer::Flow { addrs, ports }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eth(ethertype: u16, payload: &[u8]) -> Vec<u8> {
        let mut f = vec![0u8; 12];
        f.extend_from_slice(&ethertype.to_be_bytes());
        f.extend_from_slice(payload);
        f
    }

    fn ipv4_udp(frag: u16) -> Vec<u8> {
        let mut ip = vec![0u8; 28];
        ip[0] = 0x45;
        ip[6..8].copy_from_slice(&frag.to_be_bytes());
        ip[9] = PROTO_UDP;
        ip[12..20].copy_from_slice(&[198, 18, 0, 2, 198, 18, 0, 1]);
        ip[20..24].copy_from_slice(&[0x4e, 0x20, 0, 9]);
        eth(ETHERTYPE_IPV4, &ip)
    }

    #[test]
    fn ipv4_udp_hashes_the_four_tuple() {
        let f = ipv4_udp(0x4000); // DF only
        assert_eq!(
            classify(&f),
            Steer::Flow {
                addrs: &[198, 18, 0, 2, 198, 18, 0, 1],
                ports: Some(&[0x4e, 0x20, 0, 9]),
            }
        );
    }

    #[test]
    fn ipv4_fragments_hash_addresses_only() {
        for frag in [0x2000, 0x0010] {
            match classify(&ipv4_udp(frag)) {
                Steer::Flow { ports, .. } => assert_eq!(ports, None),
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn arp_nd_and_runts_are_control() {
        assert_eq!(classify(&eth(0x0806, &[0; 28])), Steer::Control);
        assert_eq!(classify(&[0u8; 10]), Steer::Control);
        let mut ns = vec![0u8; 64];
        ns[0] = 0x60;
        ns[6] = PROTO_ICMPV6;
        ns[40] = 135;
        assert_eq!(classify(&eth(ETHERTYPE_IPV6, &ns)), Steer::Control);
        ns[40] = 128; // echo request: a flow by addresses
        assert!(matches!(
            classify(&eth(ETHERTYPE_IPV6, &ns)),
            Steer::Flow { ports: None, .. }
        ));
    }

    #[test]
    fn vlan_tag_is_skipped() {
        let inner = ipv4_udp(0);
        let mut f = inner[..12].to_vec();
        f.extend_from_slice(&[0x81, 0x00, 0x00, 0x05]);
        f.extend_from_slice(&inner[12..]);
        assert!(matches!(classify(&f), Steer::Flow { ports: Some(_), .. }));
    }
}
