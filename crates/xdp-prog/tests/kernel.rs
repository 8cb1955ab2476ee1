//! Against the real kernel: the verifier accepts the program, BPF_PROG_TEST_RUN gives the
//! expected verdict counters for real frames, and attach/detach behave on a veth pair.
//! Needs root (CAP_BPF + CAP_NET_ADMIN); as another user every test prints a note and returns.

use std::net::{Ipv4Addr, Ipv6Addr};
use std::process::Command;

use xdp_prog::attach::{attach_netlink, detach_any};
use xdp_prog::program::XDP_PASS;
use xdp_prog::{
    attach, attached_program, AttachKind, AttachedMode, CounterValues, LoadedProgram, Mode,
    XdpAttached,
};

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    let root = unsafe { libc::geteuid() } == 0;
    if !root {
        // Straight to stderr: libtest captures eprintln!, and the skip should be visible.
        let _ = std::io::Write::write_all(
            &mut std::io::stderr(),
            b"note: not root, skipping a test that loads BPF programs\n",
        );
    }
    root
}

const OUR_V4: Ipv4Addr = Ipv4Addr::new(198, 18, 201, 1);
const OTHER_V4: Ipv4Addr = Ipv4Addr::new(198, 18, 201, 9);
const OUR_V6: Ipv6Addr = Ipv6Addr::new(0x2001, 2, 0, 0, 0, 0, 0xab, 0x1);
const OTHER_V6: Ipv6Addr = Ipv6Addr::new(0x2001, 2, 0, 0, 0, 0, 0xab, 0x2);

fn ethernet(ethertype: u16, vlan: Option<u16>, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2];
    if let Some(tpid) = vlan {
        f.extend_from_slice(&tpid.to_be_bytes());
        f.extend_from_slice(&100u16.to_be_bytes()); // VID 100
    }
    f.extend_from_slice(&ethertype.to_be_bytes());
    f.extend_from_slice(payload);
    f.resize(f.len().max(60), 0); // minimum Ethernet frame
    f
}

fn ipv4_to(dst: Ipv4Addr, vlan: Option<u16>) -> Vec<u8> {
    let mut ip = vec![0x45, 0, 0, 28, 0, 0, 0, 0, 64, 17, 0, 0, 198, 18, 201, 2];
    ip.extend_from_slice(&dst.octets());
    ip.extend_from_slice(&[0; 8]); // UDP header
    ethernet(0x0800, vlan, &ip)
}

fn arp_request_for(target: Ipv4Addr) -> Vec<u8> {
    let mut arp = vec![0, 1, 8, 0, 6, 4, 0, 1, 0x02, 0, 0, 0, 0, 2, 198, 18, 201, 2];
    arp.extend_from_slice(&[0; 6]);
    arp.extend_from_slice(&target.octets());
    ethernet(0x0806, None, &arp)
}

fn ipv6_to(dst: Ipv6Addr) -> Vec<u8> {
    let mut ip = vec![0x60, 0, 0, 0, 0, 8, 58, 255];
    ip.extend_from_slice(&OTHER_V6.octets());
    ip.extend_from_slice(&dst.octets());
    ip.extend_from_slice(&[135, 0, 0, 0, 0, 0, 0, 0]);
    ethernet(0x86dd, None, &ip)
}

/// Runs `frame` through the program and returns which counter moved.
fn verdict_of(prog: &LoadedProgram, frame: &[u8]) -> &'static str {
    let before = prog.counters.read().unwrap();
    let action = prog.test_run(frame).unwrap();
    assert_eq!(
        action, XDP_PASS as u32,
        "no sockets, so every verdict must be XDP_PASS"
    );
    let after = prog.counters.read().unwrap();
    let delta = CounterValues {
        redirected: after.redirected - before.redirected,
        passed: after.passed - before.passed,
        no_socket: after.no_socket - before.no_socket,
    };
    match (delta.redirected, delta.passed, delta.no_socket) {
        (0, 1, 0) => "passed",
        (0, 0, 1) => "ours",
        other => panic!("unexpected counter change {other:?}"),
    }
}

#[test]
fn verifier_accepts_the_program() {
    if !is_root() {
        return;
    }
    let prog = LoadedProgram::load(64, false).unwrap_or_else(|e| panic!("{e}"));
    assert!(prog.id() > 0);
}

#[test]
fn verifier_accepts_the_program_for_multi_buffer_packets() {
    if !is_root() {
        return;
    }
    // BPF_F_XDP_HAS_FRAGS: the same instructions, which read only the first buffer's headers.
    let prog = LoadedProgram::load(64, true).unwrap_or_else(|e| panic!("{e}"));
    assert!(prog.id() > 0);
}

#[test]
fn frames_for_our_addresses_are_picked_and_others_passed() {
    if !is_root() {
        return;
    }
    let mut prog = LoadedProgram::load(4, false).unwrap_or_else(|e| panic!("{e}"));
    prog.ipv4.add(OUR_V4).unwrap();
    prog.ipv6.add(OUR_V6).unwrap();

    assert_eq!(verdict_of(&prog, &ipv4_to(OUR_V4, None)), "ours");
    assert_eq!(verdict_of(&prog, &ipv4_to(OTHER_V4, None)), "passed");
    assert_eq!(verdict_of(&prog, &ipv4_to(OUR_V4, Some(0x8100))), "ours");
    assert_eq!(verdict_of(&prog, &ipv4_to(OUR_V4, Some(0x88a8))), "ours");
    assert_eq!(
        verdict_of(&prog, &ipv4_to(OTHER_V4, Some(0x8100))),
        "passed"
    );
    assert_eq!(verdict_of(&prog, &arp_request_for(OUR_V4)), "ours");
    assert_eq!(verdict_of(&prog, &arp_request_for(OTHER_V4)), "passed");
    assert_eq!(verdict_of(&prog, &ipv6_to(OUR_V6)), "ours");
    assert_eq!(
        verdict_of(&prog, &ipv6_to(xdp_prog::maps::solicited_node(OUR_V6))),
        "ours"
    );
    assert_eq!(verdict_of(&prog, &ipv6_to(OTHER_V6)), "passed");
    // An IPv4 ethertype with a header cut short, and unrelated ethertypes.
    let mut short = ethernet(0x0800, None, &[0x45, 0, 0, 20]);
    short.truncate(14 + 12);
    assert_eq!(verdict_of(&prog, &short), "passed");
    assert_eq!(
        verdict_of(&prog, &ethernet(0x88cc, None, &[0; 46])),
        "passed"
    );

    prog.ipv4.remove(OUR_V4).unwrap();
    prog.ipv6.remove(OUR_V6).unwrap();
    assert!(!prog
        .ipv6
        .contains(xdp_prog::maps::solicited_node(OUR_V6))
        .unwrap());
    assert_eq!(verdict_of(&prog, &ipv4_to(OUR_V4, None)), "passed");
    assert_eq!(verdict_of(&prog, &arp_request_for(OUR_V4)), "passed");
    assert_eq!(verdict_of(&prog, &ipv6_to(OUR_V6)), "passed");
}

#[test]
fn shared_solicited_node_group_stays_while_needed() {
    if !is_root() {
        return;
    }
    let mut prog = LoadedProgram::load(1, false).unwrap();
    let a: Ipv6Addr = "2001:2::1:aa:1".parse().unwrap();
    let b: Ipv6Addr = "2001:2::2:aa:1".parse().unwrap(); // same low 24 bits as a
    let group = xdp_prog::maps::solicited_node(a);
    assert_eq!(group, xdp_prog::maps::solicited_node(b));
    prog.ipv6.add(a).unwrap();
    prog.ipv6.add(b).unwrap();
    prog.ipv6.remove(a).unwrap();
    assert!(prog.ipv6.contains(group).unwrap());
    prog.ipv6.remove(b).unwrap();
    assert!(!prog.ipv6.contains(group).unwrap());
}

#[test]
fn xskmap_refuses_bad_queues_and_non_sockets() {
    if !is_root() {
        return;
    }
    let prog = LoadedProgram::load(2, false).unwrap();
    assert_eq!(prog.xsks.set(2, 0).unwrap_err().code(), "EINVAL");
    let file = std::fs::File::open("/dev/null").unwrap();
    let err = prog
        .xsks
        .set(0, std::os::fd::AsRawFd::as_raw_fd(&file))
        .unwrap_err();
    assert!(err.message().contains("not an AF_XDP socket"), "{err}");
    prog.xsks.clear(1).unwrap(); // clearing an empty queue is fine
}

/// A veth pair that deletes itself.
struct Veth(&'static str);

impl Veth {
    fn new(name: &'static str, peer: &'static str) -> Veth {
        let _ = Command::new("ip")
            .args(["link", "del", name])
            .stderr(std::process::Stdio::null())
            .status();
        let ok = Command::new("ip")
            .args(["link", "add", name, "type", "veth", "peer", "name", peer])
            .status()
            .unwrap()
            .success();
        assert!(ok, "creating veth {name}");
        for dev in [name, peer] {
            Command::new("ip")
                .args(["link", "set", dev, "up"])
                .status()
                .unwrap();
        }
        Veth(name)
    }
}

impl Drop for Veth {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["link", "del", self.0]).status();
    }
}

#[test]
fn attach_detach_and_foreign_programs_on_veth() {
    if !is_root() {
        return;
    }
    let veth = Veth::new("h2t0", "h2t1");
    let ifindex = xdp_prog::kernel::ifindex(veth.0).unwrap();
    let ours = LoadedProgram::load(4, false).unwrap();
    let foreign = LoadedProgram::load(4, false).unwrap();
    assert_eq!(attached_program(ifindex).unwrap(), None);

    // auto picks native on veth, through a link.
    let mut link = attach(ours.fd(), veth.0, ifindex, Mode::Auto, false).unwrap();
    assert_eq!(
        (link.mode(), link.kind()),
        (AttachedMode::Native, AttachKind::Link)
    );
    assert_eq!(
        attached_program(ifindex).unwrap(),
        Some((ours.id(), XdpAttached::Native))
    );
    link.detach().unwrap();
    assert_eq!(attached_program(ifindex).unwrap(), None);

    // A program attached over netlink is someone else's: EBUSY naming it, then force.
    let held = attach_netlink(foreign.fd(), ifindex, AttachedMode::Generic).unwrap();
    std::mem::forget(held); // as if its owner had exited without detaching
    let err = attach(ours.fd(), veth.0, ifindex, Mode::Generic, false).unwrap_err();
    assert_eq!(err.code(), "EBUSY");
    assert!(
        err.message().contains(&format!("id {}", foreign.id())),
        "{err}"
    );
    let forced = attach(ours.fd(), veth.0, ifindex, Mode::Generic, true).unwrap();
    assert_eq!(
        attached_program(ifindex).unwrap(),
        Some((ours.id(), XdpAttached::Generic))
    );

    // Dropping the attachment (closing the link fd) removes the program.
    drop(forced);
    assert_eq!(attached_program(ifindex).unwrap(), None);

    // The netlink path (kernels without XDP links) detaches only a program that is still ours.
    let mut legacy = attach_netlink(ours.fd(), ifindex, AttachedMode::Native).unwrap();
    assert_eq!(legacy.kind(), AttachKind::Netlink);
    assert_eq!(
        attached_program(ifindex).unwrap(),
        Some((ours.id(), XdpAttached::Native))
    );
    legacy.detach().unwrap();
    assert_eq!(attached_program(ifindex).unwrap(), None);
    let mut replaced = attach_netlink(ours.fd(), ifindex, AttachedMode::Native).unwrap();
    detach_any(ifindex, AttachedMode::Native).unwrap();
    std::mem::forget(attach_netlink(foreign.fd(), ifindex, AttachedMode::Native).unwrap());
    assert!(
        replaced.detach().is_err(),
        "must not detach a program that is not ours"
    );
    assert_eq!(
        attached_program(ifindex).unwrap(),
        Some((foreign.id(), XdpAttached::Native))
    );
    detach_any(ifindex, AttachedMode::Native).unwrap();
}
