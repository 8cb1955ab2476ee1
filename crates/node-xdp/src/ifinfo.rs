//! Interface facts: ifindex, MAC, MTU, driver, link state and queue counts, from the classic
//! `SIOCGIF*` and ethtool ioctls, with sysfs where the ioctls do not say enough.

use napi_derive::napi;

use crate::error::{self, err, Result};
use crate::ethtool;
use crate::sys;

/// Queue ("channel") counts as ethtool reports them (`ethtool -l`).
#[napi(object)]
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Channels {
    pub rx: u32,
    pub tx: u32,
    pub combined: u32,
    pub other: u32,
    pub max_rx: u32,
    pub max_tx: u32,
    pub max_combined: u32,
}

/// What the engine needs to know about a network interface.
#[napi(object)]
#[derive(Clone, Debug)]
pub struct InterfaceInfo {
    pub name: String,
    pub ifindex: u32,
    /// "aa:bb:cc:dd:ee:ff"
    pub mac: String,
    pub mtu: u32,
    /// Kernel driver name ("veth", "mlx5_core", ...), empty if the interface does not say.
    pub driver: String,
    /// Administratively up (IFF_UP).
    pub up: bool,
    /// Link detected (/sys/class/net/IF/carrier).
    pub carrier: bool,
    pub channels: Channels,
    /// RX queues an AF_XDP socket can bind (the kernel's `real_num_rx_queues`): the queues the
    /// NIC may put a flow on.
    pub rx_queues: u32,
}

/// Facts about interface `ifname` in the current network namespace.
#[napi]
pub fn interface_info(ifname: String) -> Result<InterfaceInfo> {
    let ifindex = ifindex(&ifname)?;
    let hwaddr = ifreq(&ifname, libc::SIOCGIFHWADDR, "reading the MAC address of")?;
    // SAFETY: after SIOCGIFHWADDR the kernel has written the `ifru_hwaddr` member of the union.
    let sa_data = unsafe { hwaddr.ifr_ifru.ifru_hwaddr.sa_data };
    let mtu_req = ifreq(&ifname, libc::SIOCGIFMTU, "reading the MTU of")?;
    // SAFETY: after SIOCGIFMTU the kernel has written the `ifru_mtu` member.
    let mtu = unsafe { mtu_req.ifr_ifru.ifru_mtu };
    let flags_req = ifreq(&ifname, libc::SIOCGIFFLAGS, "reading the flags of")?;
    // SAFETY: after SIOCGIFFLAGS the kernel has written the `ifru_flags` member.
    let flags = i32::from(unsafe { flags_req.ifr_ifru.ifru_flags });
    let mut mac = [0u8; 6];
    for (dst, src) in mac.iter_mut().zip(sa_data.iter()) {
        *dst = *src as u8;
    }
    Ok(InterfaceInfo {
        ifindex,
        mac: format_mac(&mac),
        mtu: mtu.max(0) as u32,
        driver: driver(&ifname),
        up: flags & libc::IFF_UP != 0,
        carrier: carrier(&ifname).unwrap_or(flags & libc::IFF_RUNNING != 0),
        channels: channels(&ifname),
        rx_queues: rx_queue_count(&ifname),
        name: ifname,
    })
}

/// The ifindex of `ifname`, with a Node-style error when it does not exist.
pub fn ifindex(ifname: &str) -> Result<u32> {
    let req = ifreq(ifname, libc::SIOCGIFINDEX, "looking up")?;
    // SAFETY: after SIOCGIFINDEX the kernel has written the `ifru_ifindex` member.
    Ok(unsafe { req.ifr_ifru.ifru_ifindex } as u32)
}

fn ifreq(ifname: &str, request: libc::c_ulong, doing: &str) -> Result<libc::ifreq> {
    sys::ifreq_ioctl(ifname, request).map_err(|e| match error::errno(&e) {
        libc::ENODEV | libc::ENXIO => err(
            "ENODEV",
            format!("interface '{ifname}' not found: check the name with `ip link`"),
        ),
        libc::EINVAL | libc::ENAMETOOLONG => err(
            "EINVAL",
            format!("interface name '{ifname}' is invalid: at most 15 bytes, no NUL"),
        ),
        _ => error::os(&e, format!("{doing} interface '{ifname}'")),
    })
}

/// The driver name, from ethtool, else from the sysfs `device/driver` link, else "".
pub fn driver(ifname: &str) -> String {
    if let Ok(info) = ethtool::drvinfo(ifname) {
        return sys::c_field(&info.driver);
    }
    std::fs::read_link(format!("/sys/class/net/{ifname}/device/driver"))
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_default()
}

fn carrier(ifname: &str) -> Option<bool> {
    // The file reads EINVAL while the interface is down: that means no carrier to report.
    match std::fs::read_to_string(format!("/sys/class/net/{ifname}/carrier")) {
        Ok(text) => Some(text.trim() == "1"),
        Err(e) if e.raw_os_error() == Some(libc::EINVAL) => Some(false),
        Err(_) => None,
    }
}

/// Channel counts from ETHTOOL_GCHANNELS, else the RX/TX queue counts sysfs shows.
pub fn channels(ifname: &str) -> Channels {
    match ethtool::channels(ifname) {
        Ok(ch) => Channels {
            rx: ch.rx_count,
            tx: ch.tx_count,
            combined: ch.combined_count,
            other: ch.other_count,
            max_rx: ch.max_rx,
            max_tx: ch.max_tx,
            max_combined: ch.max_combined,
        },
        Err(_) => {
            let (rx, tx) = (sysfs_queues(ifname, "rx-"), sysfs_queues(ifname, "tx-"));
            let (rx, tx) = (rx.unwrap_or(0), tx.unwrap_or(0));
            Channels {
                rx,
                tx,
                max_rx: rx,
                max_tx: tx,
                ..Channels::default()
            }
        }
    }
}

/// Number of RX queues an AF_XDP socket can bind to: the kernel's `real_num_rx_queues`, which
/// sysfs lists as `queues/rx-N`; ethtool's rx + combined when sysfs is not mounted.
pub fn rx_queue_count(ifname: &str) -> u32 {
    sysfs_queues(ifname, "rx-").unwrap_or_else(|| {
        let ch = channels(ifname);
        ch.rx + ch.combined
    })
}

fn sysfs_queues(ifname: &str, prefix: &str) -> Option<u32> {
    let dir = std::fs::read_dir(format!("/sys/class/net/{ifname}/queues")).ok()?;
    let count = dir
        .filter_map(|entry| entry.ok())
        .filter(|entry| entry.file_name().to_string_lossy().starts_with(prefix))
        .count();
    Some(count as u32)
}

/// "aa:bb:cc:dd:ee:ff"
pub fn format_mac(mac: &[u8; 6]) -> String {
    let mut out = String::with_capacity(17);
    for (i, byte) in mac.iter().enumerate() {
        if i > 0 {
            out.push(':');
        }
        out.push_str(&format!("{byte:02x}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_mac_lowercase_with_colons() {
        assert_eq!(
            format_mac(&[0x02, 0xAB, 0, 0x10, 0xff, 9]),
            "02:ab:00:10:ff:09"
        );
    }

    #[test]
    fn loopback_facts() {
        let info = interface_info("lo".to_string()).expect("lo exists");
        assert_eq!(info.ifindex, 1);
        assert_eq!(info.mac, "00:00:00:00:00:00");
        assert!(info.up);
        assert!(info.mtu >= 1500);
        assert_eq!(info.rx_queues, 1);
    }

    #[test]
    fn missing_interface_is_enodev() {
        let e = interface_info("h1-no-such".to_string()).unwrap_err();
        assert_eq!(e.status.as_ref(), "ENODEV");
        assert!(e.reason.contains("ip link"));
        let e = ifindex("0123456789abcdefg").unwrap_err();
        assert_eq!(e.status.as_ref(), "EINVAL");
    }
}
