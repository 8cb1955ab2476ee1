//! The program's maps: the XSKMAP of AF_XDP sockets by RX queue, the engine's IPv4 and IPv6
//! address sets, and per-CPU verdict counters.

use std::collections::BTreeSet;
use std::net::{Ipv4Addr, Ipv6Addr};

use crate::error::{Error, Result};
use crate::program::{COUNTER_NO_SOCKET, COUNTER_PASSED, COUNTER_REDIRECTED, COUNTER_SLOTS};
use crate::sys::{self, MapFd, BPF_ANY};

/// IPv4 addresses the engine can own (a hash map; the value byte is unused).
pub const MAX_IPV4_ADDRS: u32 = 256;
/// IPv6 entries: each address plus, at worst, its own solicited-node group.
pub const MAX_IPV6_ENTRIES: u32 = 512;

fn map_error(err: std::io::Error, doing: String) -> Error {
    Error::os(&err, &doing)
}

/// BPF_MAP_TYPE_XSKMAP: key = RX queue index, value = AF_XDP socket fd.
#[derive(Debug)]
pub struct XskMap {
    map: MapFd,
    max_queues: u32,
}

impl XskMap {
    pub fn create(max_queues: u32) -> Result<Self> {
        if max_queues == 0 {
            return Err(Error::new(libc::EINVAL, "maxQueues must be at least 1"));
        }
        let map = sys::map_create(sys::BPF_MAP_TYPE_XSKMAP, 4, 4, max_queues, "xdpnet_xsks", 4)
            .map_err(|e| map_error(e, format!("creating the XSKMAP ({max_queues} queues)")))?;
        Ok(XskMap { map, max_queues })
    }

    pub fn fd(&self) -> i32 {
        self.map.raw()
    }

    fn check_queue(&self, queue: u32) -> Result<()> {
        if queue < self.max_queues {
            return Ok(());
        }
        Err(Error::new(
            libc::EINVAL,
            format!(
                "queue {queue} is outside the XSKMAP (maxQueues is {}); attach with a larger maxQueues",
                self.max_queues
            ),
        ))
    }

    /// Frames the program redirects on `queue` go to the AF_XDP socket `socket_fd`.
    pub fn set(&self, queue: u32, socket_fd: i32) -> Result<()> {
        self.check_queue(queue)?;
        sys::map_update(
            &self.map,
            &queue.to_ne_bytes(),
            &socket_fd.to_ne_bytes(),
            BPF_ANY,
        )
        .map_err(|e| {
            let hint = match e.raw_os_error() {
                Some(libc::EBADF) => " (not an open file descriptor)",
                Some(libc::EOPNOTSUPP) | Some(libc::ENOTSOCK) => {
                    " (not an AF_XDP socket, or not bound yet)"
                }
                _ => "",
            };
            map_error(
                e,
                format!("putting socket fd {socket_fd} on queue {queue}{hint}"),
            )
        })
    }

    /// Frames on `queue` go back to the kernel. Clearing an empty queue is not an error.
    pub fn clear(&self, queue: u32) -> Result<()> {
        self.check_queue(queue)?;
        sys::map_delete(&self.map, &queue.to_ne_bytes())
            .map(drop)
            .map_err(|e| map_error(e, format!("clearing queue {queue}")))
    }
}

fn set_full(family: &str, max: u32) -> impl Fn(std::io::Error) -> Error + '_ {
    move |e| {
        if e.raw_os_error() == Some(libc::E2BIG) {
            return Error::new(
                libc::E2BIG,
                format!(
                    "the {family} address set is full ({max} entries); remove an address first"
                ),
            );
        }
        map_error(e, format!("updating the {family} address set"))
    }
}

/// BPF_MAP_TYPE_HASH of IPv4 addresses in network byte order.
#[derive(Debug)]
pub struct Ipv4Set {
    map: MapFd,
}

impl Ipv4Set {
    pub fn create() -> Result<Self> {
        let map = sys::map_create(
            sys::BPF_MAP_TYPE_HASH,
            4,
            1,
            MAX_IPV4_ADDRS,
            "xdpnet_ipv4",
            1,
        )
        .map_err(|e| map_error(e, "creating the IPv4 address set".into()))?;
        Ok(Ipv4Set { map })
    }

    pub fn fd(&self) -> i32 {
        self.map.raw()
    }

    /// Frames to `addr` (and ARP asking for it) go to the engine. Adding twice is harmless.
    pub fn add(&self, addr: Ipv4Addr) -> Result<()> {
        sys::map_update(&self.map, &addr.octets(), &[1], BPF_ANY)
            .map_err(set_full("IPv4", MAX_IPV4_ADDRS))
    }

    /// Removing an address that is not there is not an error.
    pub fn remove(&self, addr: Ipv4Addr) -> Result<()> {
        sys::map_delete(&self.map, &addr.octets())
            .map(drop)
            .map_err(|e| map_error(e, format!("removing {addr}")))
    }

    pub fn contains(&self, addr: Ipv4Addr) -> Result<bool> {
        sys::map_lookup(&self.map, &addr.octets(), &mut [0])
            .map_err(|e| map_error(e, format!("looking up {addr}")))
    }
}

/// The solicited-node multicast group of `addr` (RFC 4291 2.7.1): ff02::1:ff00:0/104 plus the
/// address's low 24 bits. Neighbour solicitations for `addr` are sent there (RFC 4861 7.2.2).
pub fn solicited_node(addr: Ipv6Addr) -> Ipv6Addr {
    let o = addr.octets();
    let mut group = [0u8; 16];
    group[0] = 0xff;
    group[1] = 0x02;
    group[11] = 0x01;
    group[12] = 0xff;
    group[13..].copy_from_slice(&o[13..]);
    Ipv6Addr::from(group)
}

/// BPF_MAP_TYPE_HASH of IPv6 addresses; each added address also brings its solicited-node group
/// so neighbour discovery for it reaches the engine.
#[derive(Debug)]
pub struct Ipv6Set {
    map: MapFd,
    /// Addresses added by the user (the map also holds their solicited-node groups).
    owned: BTreeSet<Ipv6Addr>,
}

impl Ipv6Set {
    pub fn create() -> Result<Self> {
        let map = sys::map_create(
            sys::BPF_MAP_TYPE_HASH,
            16,
            1,
            MAX_IPV6_ENTRIES,
            "xdpnet_ipv6",
            1,
        )
        .map_err(|e| map_error(e, "creating the IPv6 address set".into()))?;
        Ok(Ipv6Set {
            map,
            owned: BTreeSet::new(),
        })
    }

    pub fn fd(&self) -> i32 {
        self.map.raw()
    }

    fn put(&self, addr: Ipv6Addr) -> Result<()> {
        sys::map_update(&self.map, &addr.octets(), &[1], BPF_ANY)
            .map_err(set_full("IPv6", MAX_IPV6_ENTRIES))
    }

    fn delete(&self, addr: Ipv6Addr) -> Result<()> {
        sys::map_delete(&self.map, &addr.octets())
            .map(drop)
            .map_err(|e| map_error(e, format!("removing {addr}")))
    }

    /// Frames to `addr` or to its solicited-node group go to the engine.
    pub fn add(&mut self, addr: Ipv6Addr) -> Result<()> {
        self.put(addr)?;
        if !addr.is_multicast() {
            if let Err(err) = self.put(solicited_node(addr)) {
                if !self.still_needed(addr) {
                    let _ = self.delete(addr);
                }
                return Err(err);
            }
        }
        self.owned.insert(addr);
        Ok(())
    }

    /// Removes `addr`, and its solicited-node group unless another address still needs it.
    /// Removing an address that is not there is not an error.
    pub fn remove(&mut self, addr: Ipv6Addr) -> Result<()> {
        if !self.owned.remove(&addr) {
            return Ok(());
        }
        if !self.still_needed(addr) {
            self.delete(addr)?;
        }
        let group = solicited_node(addr);
        if !addr.is_multicast() && !self.still_needed(group) {
            self.delete(group)?;
        }
        Ok(())
    }

    /// Whether a map entry for `entry` is still wanted by some remaining added address.
    fn still_needed(&self, entry: Ipv6Addr) -> bool {
        self.owned
            .iter()
            .any(|&a| a == entry || (!a.is_multicast() && solicited_node(a) == entry))
    }

    pub fn contains(&self, addr: Ipv6Addr) -> Result<bool> {
        sys::map_lookup(&self.map, &addr.octets(), &mut [0])
            .map_err(|e| map_error(e, format!("looking up {addr}")))
    }
}

/// Number of possible CPUs from a cpulist such as "0-1" or "0,2-5" (the kernel sizes per-CPU
/// map values by num_possible_cpus(), the number of set bits).
pub fn parse_cpu_list(list: &str) -> Option<usize> {
    let mut count = 0;
    for part in list.trim().split(',').filter(|p| !p.is_empty()) {
        count += match part.split_once('-') {
            Some((a, b)) => {
                b.parse::<usize>()
                    .ok()?
                    .checked_sub(a.parse::<usize>().ok()?)?
                    + 1
            }
            None => part.parse::<usize>().map(|_| 1).ok()?,
        };
    }
    (count > 0).then_some(count)
}

fn possible_cpus() -> Result<usize> {
    const PATH: &str = "/sys/devices/system/cpu/possible";
    let text =
        std::fs::read_to_string(PATH).map_err(|e| Error::os(&e, &format!("reading {PATH}")))?;
    parse_cpu_list(&text)
        .ok_or_else(|| Error::new(libc::EINVAL, format!("cannot parse {PATH}: {text:?}")))
}

/// Totals of the per-CPU counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CounterValues {
    /// Frames handed to an AF_XDP socket.
    pub redirected: u64,
    /// Frames that were not the engine's and went to the kernel.
    pub passed: u64,
    /// Frames that were the engine's but whose queue had no socket; they went to the kernel.
    pub no_socket: u64,
}

/// BPF_MAP_TYPE_PERCPU_ARRAY of u64 counters, one slot per verdict.
#[derive(Debug)]
pub struct Counters {
    map: MapFd,
    cpus: usize,
}

impl Counters {
    pub fn create() -> Result<Self> {
        let cpus = possible_cpus()?;
        let map = sys::map_create(
            sys::BPF_MAP_TYPE_PERCPU_ARRAY,
            4,
            8,
            COUNTER_SLOTS,
            "xdpnet_counts",
            8 * cpus,
        )
        .map_err(|e| map_error(e, "creating the counters map".into()))?;
        Ok(Counters { map, cpus })
    }

    pub fn fd(&self) -> i32 {
        self.map.raw()
    }

    fn total(&self, slot: u32) -> Result<u64> {
        let mut values = vec![0u8; 8 * self.cpus];
        sys::map_lookup(&self.map, &slot.to_ne_bytes(), &mut values)
            .map_err(|e| map_error(e, "reading the counters".into()))?;
        Ok(values
            .chunks_exact(8)
            .map(|c| u64::from_ne_bytes(c.try_into().expect("8-byte chunk")))
            .sum())
    }

    pub fn read(&self) -> Result<CounterValues> {
        Ok(CounterValues {
            redirected: self.total(COUNTER_REDIRECTED)?,
            passed: self.total(COUNTER_PASSED)?,
            no_socket: self.total(COUNTER_NO_SOCKET)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn solicited_node_groups() {
        // RFC 4291 2.7.1: 4037::01:800:200e:8c6c -> ff02::1:ff0e:8c6c
        let addr: Ipv6Addr = "4037::01:800:200e:8c6c".parse().unwrap();
        assert_eq!(
            solicited_node(addr),
            "ff02::1:ff0e:8c6c".parse::<Ipv6Addr>().unwrap()
        );
        let addr: Ipv6Addr = "2001:2::1".parse().unwrap();
        assert_eq!(
            solicited_node(addr),
            "ff02::1:ff00:1".parse::<Ipv6Addr>().unwrap()
        );
    }

    #[test]
    fn cpu_lists() {
        assert_eq!(parse_cpu_list("0-1\n"), Some(2));
        assert_eq!(parse_cpu_list("0"), Some(1));
        assert_eq!(parse_cpu_list("0,2-5"), Some(5));
        assert_eq!(parse_cpu_list(""), None);
        assert_eq!(parse_cpu_list("3-1"), None);
        assert_eq!(parse_cpu_list("x"), None);
    }
}
