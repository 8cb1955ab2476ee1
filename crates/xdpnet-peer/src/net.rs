//! Opening the UDP sockets the commands use; the address family follows the address given.

use crate::error::{Context, Failure};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};

/// Largest UDP payload that fits one IPv4 datagram (65535 - 20 - 8); IPv6 allows 65527 but
/// one limit keeps --sizes portable between families.
pub const MAX_PAYLOAD: usize = 65_507;

fn unspecified_like(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
    }
}

/// A socket bound to `source_port` (0 = ephemeral) and connected to `dst`, so sendmmsg needs no
/// per-message address and the kernel caches the route.
pub fn connected(dst: SocketAddr, source_port: u16) -> Result<UdpSocket, Failure> {
    let local = SocketAddr::new(unspecified_like(dst.ip()), source_port);
    let socket = UdpSocket::bind(local).doing(|| format!("bind UDP source {local}"))?;
    socket
        .connect(dst)
        .doing(|| format!("connect UDP to {dst} (is there a route to it?)"))?;
    Ok(socket)
}

/// A socket bound to `local` for receiving.
pub fn bound(local: SocketAddr) -> Result<UdpSocket, Failure> {
    UdpSocket::bind(local)
        .doing(|| format!("bind UDP {local} (is the address configured here and the port free?)"))
}
