//! The XDP program itself, emitted as BPF instructions.
//!
//! In C it would read:
//!
//! ```c
//! int xdpnet(struct xdp_md *ctx) {
//!     parse Ethernet, and one 802.1Q / 802.1ad tag if present;
//!     if ARP for IPv4 and target protocol address in ipv4 set      -> redirect
//!     if IPv4 and destination in ipv4 set                          -> redirect
//!     if IPv6 and destination in ipv6 set (incl. solicited-node)   -> redirect
//!     count passed; return XDP_PASS;
//! redirect:
//!     act = bpf_redirect_map(&xsks, ctx->rx_queue_index, XDP_PASS);
//!     count act == XDP_REDIRECT ? redirected : no_socket; return act;
//! }
//! ```
//!
//! Every packet read is preceded by a `data + n > data_end` check the verifier can follow.
//! Packet loads are 32-bit at offsets that are 4-byte aligned once the driver's NET_IP_ALIGN
//! (2) is added, so strict-alignment architectures are fine too.

use crate::asm::{Asm, AsmError, Label};
use crate::insn::{Alu, Cond, Insn, Reg, Size};

/// Map fds the program refers to (resolved by the kernel through BPF_PSEUDO_MAP_FD).
#[derive(Clone, Copy, Debug)]
pub struct MapFds {
    pub xsks: i32,
    pub ipv4: i32,
    pub ipv6: i32,
    pub counters: i32,
}

/// Slots of the per-CPU counters array.
pub const COUNTER_REDIRECTED: u32 = 0;
/// Frames that were not the engine's and went to the kernel.
pub const COUNTER_PASSED: u32 = 1;
/// Frames that were the engine's but arrived on a queue with no AF_XDP socket (went to the kernel).
pub const COUNTER_NO_SOCKET: u32 = 2;
pub const COUNTER_SLOTS: u32 = 3;

// enum xdp_action
pub const XDP_PASS: i32 = 2;
pub const XDP_REDIRECT: i32 = 4;

// enum bpf_func_id
const HELPER_MAP_LOOKUP_ELEM: i32 = 1;
const HELPER_REDIRECT_MAP: i32 = 51;

// struct xdp_md field offsets
const CTX_DATA: i16 = 0;
const CTX_DATA_END: i16 = 4;
const CTX_RX_QUEUE_INDEX: i16 = 16;

// Ethernet (IEEE 802.3) and tags (IEEE 802.1Q)
const ETH_HLEN: i32 = 14;
const ETH_TYPE_OFF: i16 = 12;
const VLAN_HLEN: i32 = 4;
const ETH_P_8021Q: i32 = 0x8100;
const ETH_P_8021AD: i32 = 0x88a8;
const ETH_P_IP: i32 = 0x0800;
const ETH_P_ARP: i32 = 0x0806;
const ETH_P_IPV6: i32 = 0x86dd;

// RFC 826: hardware type 1 (Ethernet), protocol 0x0800, hlen 6, plen 4; target address at 24.
const ARP_HTYPE_PTYPE: i32 = 0x0001_0800;
const ARP_HLEN_PLEN: i32 = 0x0604;
const ARP_LEN: i32 = 28;
const ARP_TPA_OFF: i16 = 24;

// RFC 791: version nibble, destination at 16. RFC 8200: version nibble, destination at 24.
const IPV4_MIN_LEN: i32 = 20;
const IPV4_DST_OFF: i16 = 16;
const IPV6_LEN: i32 = 40;
const IPV6_DST_OFF: i16 = 24;

// Stack slots (the verifier insists on aligned stack access).
const STACK_ADDR: i16 = -16; // 16 bytes: IPv6 address, or IPv4 address in the last 4
const STACK_ADDR4: i16 = -4;
const STACK_COUNTER_KEY: i16 = -20;

// Register roles. R1..R5 are clobbered by every helper call, so the context and the verdict
// live in callee-saved registers.
const CTX: Reg = Reg::R6;
const VERDICT: Reg = Reg::R7;
/// Start of the frame, advanced by 4 past a VLAN tag so L3 is always at DATA + ETH_HLEN.
const DATA: Reg = Reg::R2;
const DATA_END: Reg = Reg::R3;
const BOUND: Reg = Reg::R4;
const ETH_TYPE: Reg = Reg::R5;

struct Labels {
    pass: Label,
    redirect: Label,
    count: Label,
}

/// Emits the whole program for the given maps.
pub fn xdp_program(maps: &MapFds) -> Result<Vec<Insn>, AsmError> {
    let mut asm = Asm::new();
    let labels = Labels {
        pass: asm.label(),
        redirect: asm.label(),
        count: asm.label(),
    };
    let (arp, ipv4, ipv6) = (asm.label(), asm.label(), asm.label());

    ethernet(&mut asm, &labels);
    asm.jump_imm(Cond::Eq, ETH_TYPE, ETH_P_IP, ipv4);
    asm.jump_imm(Cond::Eq, ETH_TYPE, ETH_P_ARP, arp);
    asm.jump_imm(Cond::Eq, ETH_TYPE, ETH_P_IPV6, ipv6);
    asm.goto(labels.pass);

    let lookup4 = asm.label();
    asm.bind(arp);
    arp_target(&mut asm, &labels);
    asm.goto(lookup4);
    asm.bind(ipv4);
    ipv4_destination(&mut asm, &labels);
    asm.bind(lookup4);
    lookup(&mut asm, maps.ipv4, STACK_ADDR4, &labels);

    asm.bind(ipv6);
    ipv6_destination(&mut asm, &labels);
    lookup(&mut asm, maps.ipv6, STACK_ADDR, &labels);

    redirect(&mut asm, maps, &labels);
    count_and_exit(&mut asm, maps, &labels);
    asm.finish()
}

/// `goto pass` unless `n` bytes from DATA are inside the frame.
fn need(asm: &mut Asm, n: i32, pass: Label) {
    asm.emit(Insn::mov64_reg(BOUND, DATA));
    asm.emit(Insn::alu64_imm(Alu::Add, BOUND, n));
    asm.jump_reg(Cond::Gt, BOUND, DATA_END, pass);
}

/// Loads the EtherType (host order) into ETH_TYPE, skipping one VLAN tag.
fn ethernet(asm: &mut Asm, l: &Labels) {
    asm.emit(Insn::mov64_reg(CTX, Reg::R1));
    asm.emit(Insn::load(Size::W, DATA, CTX, CTX_DATA));
    asm.emit(Insn::load(Size::W, DATA_END, CTX, CTX_DATA_END));
    need(asm, ETH_HLEN, l.pass);
    asm.emit(Insn::load(Size::H, ETH_TYPE, DATA, ETH_TYPE_OFF));
    asm.emit(Insn::to_be(ETH_TYPE, 16));

    let (tagged, untagged) = (asm.label(), asm.label());
    asm.jump_imm(Cond::Eq, ETH_TYPE, ETH_P_8021Q, tagged);
    asm.jump_imm(Cond::Ne, ETH_TYPE, ETH_P_8021AD, untagged);
    asm.bind(tagged);
    // The tag is TPID(2) TCI(2); the inner EtherType follows it.
    need(asm, ETH_HLEN + VLAN_HLEN, l.pass);
    asm.emit(Insn::load(
        Size::H,
        ETH_TYPE,
        DATA,
        ETH_TYPE_OFF + VLAN_HLEN as i16,
    ));
    asm.emit(Insn::to_be(ETH_TYPE, 16));
    asm.emit(Insn::alu64_imm(Alu::Add, DATA, VLAN_HLEN));
    asm.bind(untagged);
}

/// Copies `words` 32-bit words from L3 offset `from` to the stack at `to`.
fn copy_to_stack(asm: &mut Asm, from: i16, to: i16, words: i16) {
    for i in 0..words {
        asm.emit(Insn::load(
            Size::W,
            Reg::R0,
            DATA,
            ETH_HLEN as i16 + from + 4 * i,
        ));
        asm.emit(Insn::store(Size::W, Reg::FP, to + 4 * i, Reg::R0));
    }
}

/// ARP request/reply for IPv4 over Ethernet: target protocol address onto the stack.
fn arp_target(asm: &mut Asm, l: &Labels) {
    need(asm, ETH_HLEN + ARP_LEN, l.pass);
    asm.emit(Insn::load(Size::W, Reg::R0, DATA, ETH_HLEN as i16));
    asm.emit(Insn::to_be(Reg::R0, 32));
    asm.jump_imm(Cond::Ne, Reg::R0, ARP_HTYPE_PTYPE, l.pass);
    asm.emit(Insn::load(Size::H, Reg::R0, DATA, ETH_HLEN as i16 + 4));
    asm.emit(Insn::to_be(Reg::R0, 16));
    asm.jump_imm(Cond::Ne, Reg::R0, ARP_HLEN_PLEN, l.pass);
    copy_to_stack(asm, ARP_TPA_OFF, STACK_ADDR4, 1);
}

/// Goes to `pass` unless the version nibble of the byte at L3 is `version`.
fn check_ip_version(asm: &mut Asm, version: i32, pass: Label) {
    asm.emit(Insn::load(Size::B, Reg::R0, DATA, ETH_HLEN as i16));
    asm.emit(Insn::alu64_imm(Alu::And, Reg::R0, 0xf0));
    asm.jump_imm(Cond::Ne, Reg::R0, version << 4, pass);
}

fn ipv4_destination(asm: &mut Asm, l: &Labels) {
    need(asm, ETH_HLEN + IPV4_MIN_LEN, l.pass);
    check_ip_version(asm, 4, l.pass);
    copy_to_stack(asm, IPV4_DST_OFF, STACK_ADDR4, 1);
}

fn ipv6_destination(asm: &mut Asm, l: &Labels) {
    need(asm, ETH_HLEN + IPV6_LEN, l.pass);
    check_ip_version(asm, 6, l.pass);
    copy_to_stack(asm, IPV6_DST_OFF, STACK_ADDR, 4);
}

/// `goto redirect` if the key on the stack at `key` is in the map, else `goto pass`.
fn lookup(asm: &mut Asm, map_fd: i32, key: i16, l: &Labels) {
    asm.emit_all(&Insn::ld_map_fd(Reg::R1, map_fd));
    asm.emit(Insn::mov64_reg(Reg::R2, Reg::FP));
    asm.emit(Insn::alu64_imm(Alu::Add, Reg::R2, key as i32));
    asm.emit(Insn::call(HELPER_MAP_LOOKUP_ELEM));
    asm.jump_imm(Cond::Eq, Reg::R0, 0, l.pass);
    asm.goto(l.redirect);
}

/// bpf_redirect_map(&xsks, rx_queue_index, XDP_PASS): the flags' low bits are the action when
/// the queue has no socket, so such frames fall back to the kernel instead of being dropped.
fn redirect(asm: &mut Asm, maps: &MapFds, l: &Labels) {
    asm.bind(l.redirect);
    asm.emit_all(&Insn::ld_map_fd(Reg::R1, maps.xsks));
    asm.emit(Insn::load(Size::W, Reg::R2, CTX, CTX_RX_QUEUE_INDEX));
    asm.emit(Insn::mov64_imm(Reg::R3, XDP_PASS));
    asm.emit(Insn::call(HELPER_REDIRECT_MAP));
    asm.emit(Insn::mov64_reg(VERDICT, Reg::R0));
    let delivered = asm.label();
    asm.jump_imm(Cond::Eq, Reg::R0, XDP_REDIRECT, delivered);
    asm.emit(Insn::store_imm(
        Size::W,
        Reg::FP,
        STACK_COUNTER_KEY,
        COUNTER_NO_SOCKET as i32,
    ));
    asm.goto(l.count);
    asm.bind(delivered);
    asm.emit(Insn::store_imm(
        Size::W,
        Reg::FP,
        STACK_COUNTER_KEY,
        COUNTER_REDIRECTED as i32,
    ));
    asm.goto(l.count);
}

/// Bumps this CPU's counter for the verdict and returns the verdict.
fn count_and_exit(asm: &mut Asm, maps: &MapFds, l: &Labels) {
    asm.bind(l.pass);
    asm.emit(Insn::mov64_imm(VERDICT, XDP_PASS));
    asm.emit(Insn::store_imm(
        Size::W,
        Reg::FP,
        STACK_COUNTER_KEY,
        COUNTER_PASSED as i32,
    ));

    asm.bind(l.count);
    let out = asm.label();
    asm.emit_all(&Insn::ld_map_fd(Reg::R1, maps.counters));
    asm.emit(Insn::mov64_reg(Reg::R2, Reg::FP));
    asm.emit(Insn::alu64_imm(Alu::Add, Reg::R2, STACK_COUNTER_KEY as i32));
    asm.emit(Insn::call(HELPER_MAP_LOOKUP_ELEM));
    asm.jump_imm(Cond::Eq, Reg::R0, 0, out);
    // Per-CPU slot: no other CPU writes it, so a plain read-modify-write is enough.
    asm.emit(Insn::load(Size::DW, Reg::R1, Reg::R0, 0));
    asm.emit(Insn::alu64_imm(Alu::Add, Reg::R1, 1));
    asm.emit(Insn::store(Size::DW, Reg::R0, 0, Reg::R1));
    asm.bind(out);
    asm.emit(Insn::mov64_reg(Reg::R0, VERDICT));
    asm.emit(Insn::exit());
}

#[cfg(test)]
mod tests {
    use super::*;

    const FDS: MapFds = MapFds {
        xsks: 3,
        ipv4: 4,
        ipv6: 5,
        counters: 6,
    };

    #[test]
    fn assembles() {
        let insns = xdp_program(&FDS).unwrap();
        assert!(insns.len() > 40 && insns.len() < 200, "{}", insns.len());
        assert_eq!(insns.last(), Some(&Insn::exit()));
    }

    #[test]
    fn every_jump_lands_inside_the_program() {
        let insns = xdp_program(&FDS).unwrap();
        for (i, insn) in insns.iter().enumerate() {
            if insn.is_jump() {
                let to = i as i64 + 1 + insn.off as i64;
                assert!((0..insns.len() as i64).contains(&to), "jump at {i} to {to}");
            }
        }
    }

    #[test]
    fn refers_to_every_map() {
        let insns = xdp_program(&FDS).unwrap();
        let map_loads: Vec<i32> = insns
            .iter()
            .filter(|i| i.code == 0x18 && i.src() == crate::insn::PSEUDO_MAP_FD)
            .map(|i| i.imm)
            .collect();
        for fd in [FDS.xsks, FDS.ipv4, FDS.ipv6, FDS.counters] {
            assert!(map_loads.contains(&fd), "map fd {fd} unused");
        }
    }
}
