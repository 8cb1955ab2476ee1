//! eBPF instruction encoding (`struct bpf_insn`, Documentation/bpf/standardization/instruction-set.rst).
//!
//! An instruction is 8 bytes: opcode, dst register (low nibble), src register (high nibble),
//! a signed 16-bit offset and a signed 32-bit immediate. `LD_IMM64` takes two slots.

/// One `struct bpf_insn`, laid out exactly as the kernel reads it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C)]
pub struct Insn {
    pub code: u8,
    /// dst in bits 0..4, src in bits 4..8 (little-endian bitfield order).
    pub regs: u8,
    pub off: i16,
    pub imm: i32,
}

/// A BPF register. R0 = return value, R1..R5 = call arguments (clobbered by calls),
/// R6..R9 = callee-saved, R10 = read-only frame pointer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reg(u8);

impl Reg {
    pub const R0: Reg = Reg(0);
    pub const R1: Reg = Reg(1);
    pub const R2: Reg = Reg(2);
    pub const R3: Reg = Reg(3);
    pub const R4: Reg = Reg(4);
    pub const R5: Reg = Reg(5);
    pub const R6: Reg = Reg(6);
    pub const R7: Reg = Reg(7);
    pub const R8: Reg = Reg(8);
    pub const R9: Reg = Reg(9);
    pub const FP: Reg = Reg(10);
}

// Instruction classes.
const CLASS_LD: u8 = 0x00;
const CLASS_LDX: u8 = 0x01;
const CLASS_ST: u8 = 0x02;
const CLASS_STX: u8 = 0x03;
const CLASS_ALU: u8 = 0x04;
const CLASS_JMP: u8 = 0x05;
const CLASS_ALU64: u8 = 0x07;

// Load/store modes and the "source is a register" bit.
const MODE_IMM: u8 = 0x00;
const MODE_MEM: u8 = 0x60;
const SRC_K: u8 = 0x00;
const SRC_X: u8 = 0x08;

const OP_END: u8 = 0xd0;
const END_TO_BE: u8 = 0x08;
const OP_CALL: u8 = 0x80;
const OP_EXIT: u8 = 0x90;

/// `src_reg` of an `LD_IMM64` whose immediate is a map fd the kernel swaps for the map pointer.
pub const PSEUDO_MAP_FD: u8 = 1;

/// Memory access width.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Size {
    B,
    H,
    W,
    DW,
}

impl Size {
    fn bits(self) -> u8 {
        match self {
            Size::W => 0x00,
            Size::H => 0x08,
            Size::B => 0x10,
            Size::DW => 0x18,
        }
    }
}

/// 64-bit ALU operations used by the program.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Alu {
    Add,
    Sub,
    Or,
    And,
    Lsh,
    Rsh,
    Xor,
    Mov,
}

impl Alu {
    fn bits(self) -> u8 {
        match self {
            Alu::Add => 0x00,
            Alu::Sub => 0x10,
            Alu::Or => 0x40,
            Alu::And => 0x50,
            Alu::Lsh => 0x60,
            Alu::Rsh => 0x70,
            Alu::Xor => 0xa0,
            Alu::Mov => 0xb0,
        }
    }
}

/// Conditional jump comparisons (unsigned unless named otherwise).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cond {
    Always,
    Eq,
    Gt,
    Ge,
    Set,
    Ne,
    Lt,
    Le,
}

impl Cond {
    fn bits(self) -> u8 {
        match self {
            Cond::Always => 0x00,
            Cond::Eq => 0x10,
            Cond::Gt => 0x20,
            Cond::Ge => 0x30,
            Cond::Set => 0x40,
            Cond::Ne => 0x50,
            Cond::Lt => 0xa0,
            Cond::Le => 0xb0,
        }
    }
}

/// `struct bpf_insn` declares `dst_reg:4, src_reg:4`; C bitfields fill from the low bits on
/// little-endian targets and from the high bits on big-endian ones.
fn regs(dst: Reg, src: Reg) -> u8 {
    if cfg!(target_endian = "little") {
        (src.0 << 4) | (dst.0 & 0x0f)
    } else {
        (dst.0 << 4) | (src.0 & 0x0f)
    }
}

impl Insn {
    pub const fn raw(code: u8, regs: u8, off: i16, imm: i32) -> Insn {
        Insn {
            code,
            regs,
            off,
            imm,
        }
    }

    pub fn dst(&self) -> u8 {
        if cfg!(target_endian = "little") {
            self.regs & 0x0f
        } else {
            self.regs >> 4
        }
    }

    pub fn src(&self) -> u8 {
        if cfg!(target_endian = "little") {
            self.regs >> 4
        } else {
            self.regs & 0x0f
        }
    }

    /// `dst op= imm` on 64 bits (imm is sign-extended).
    pub fn alu64_imm(op: Alu, dst: Reg, imm: i32) -> Insn {
        Insn::raw(CLASS_ALU64 | op.bits() | SRC_K, regs(dst, Reg::R0), 0, imm)
    }

    /// `dst op= src` on 64 bits.
    pub fn alu64_reg(op: Alu, dst: Reg, src: Reg) -> Insn {
        Insn::raw(CLASS_ALU64 | op.bits() | SRC_X, regs(dst, src), 0, 0)
    }

    pub fn mov64_imm(dst: Reg, imm: i32) -> Insn {
        Insn::alu64_imm(Alu::Mov, dst, imm)
    }

    pub fn mov64_reg(dst: Reg, src: Reg) -> Insn {
        Insn::alu64_reg(Alu::Mov, dst, src)
    }

    /// `dst = htobe{bits}(dst)`: converts a value loaded from the wire so it compares against
    /// host constants on any host byte order; the upper bits are zeroed.
    pub fn to_be(dst: Reg, bits: i32) -> Insn {
        Insn::raw(CLASS_ALU | OP_END | END_TO_BE, regs(dst, Reg::R0), 0, bits)
    }

    /// `dst = *(size *)(src + off)`
    pub fn load(size: Size, dst: Reg, src: Reg, off: i16) -> Insn {
        Insn::raw(CLASS_LDX | MODE_MEM | size.bits(), regs(dst, src), off, 0)
    }

    /// `*(size *)(dst + off) = src`
    pub fn store(size: Size, dst: Reg, off: i16, src: Reg) -> Insn {
        Insn::raw(CLASS_STX | MODE_MEM | size.bits(), regs(dst, src), off, 0)
    }

    /// `*(size *)(dst + off) = imm`
    pub fn store_imm(size: Size, dst: Reg, off: i16, imm: i32) -> Insn {
        Insn::raw(
            CLASS_ST | MODE_MEM | size.bits(),
            regs(dst, Reg::R0),
            off,
            imm,
        )
    }

    /// `dst = 64-bit immediate`, two slots.
    pub fn ld_imm64(dst: Reg, value: u64) -> [Insn; 2] {
        [
            Insn::raw(
                CLASS_LD | MODE_IMM | Size::DW.bits(),
                regs(dst, Reg::R0),
                0,
                value as i32,
            ),
            Insn::raw(0, 0, 0, (value >> 32) as i32),
        ]
    }

    /// `dst = &map` for the map behind `fd` (the loader resolves BPF_PSEUDO_MAP_FD).
    pub fn ld_map_fd(dst: Reg, fd: i32) -> [Insn; 2] {
        [
            Insn::raw(
                CLASS_LD | MODE_IMM | Size::DW.bits(),
                regs(dst, Reg(PSEUDO_MAP_FD)),
                0,
                fd,
            ),
            Insn::raw(0, 0, 0, 0),
        ]
    }

    /// `if dst cond imm goto +off`
    pub fn jmp_imm(cond: Cond, dst: Reg, imm: i32, off: i16) -> Insn {
        Insn::raw(
            CLASS_JMP | cond.bits() | SRC_K,
            regs(dst, Reg::R0),
            off,
            imm,
        )
    }

    /// `if dst cond src goto +off`
    pub fn jmp_reg(cond: Cond, dst: Reg, src: Reg, off: i16) -> Insn {
        Insn::raw(CLASS_JMP | cond.bits() | SRC_X, regs(dst, src), off, 0)
    }

    /// `goto +off`
    pub fn ja(off: i16) -> Insn {
        Insn::raw(CLASS_JMP | Cond::Always.bits(), 0, off, 0)
    }

    /// Calls kernel helper number `helper` (enum bpf_func_id).
    pub fn call(helper: i32) -> Insn {
        Insn::raw(CLASS_JMP | OP_CALL, 0, 0, helper)
    }

    pub fn exit() -> Insn {
        Insn::raw(CLASS_JMP | OP_EXIT, 0, 0, 0)
    }

    /// Whether this is a jump whose `off` is a relative target (not call/exit).
    pub fn is_jump(&self) -> bool {
        let op = self.code & 0xf0;
        self.code & 0x07 == CLASS_JMP && op != OP_CALL && op != OP_EXIT
    }

    /// The 8 bytes in little-endian order (how llvm-objdump prints them for bpfel).
    pub fn to_le_bytes(self) -> [u8; 8] {
        let mut out = [0u8; 8];
        out[0] = self.code;
        out[1] = self.regs;
        out[2..4].copy_from_slice(&self.off.to_le_bytes());
        out[4..8].copy_from_slice(&self.imm.to_le_bytes());
        out
    }
}

#[cfg(all(test, target_endian = "little"))]
mod tests {
    use super::*;

    // Expected bytes are what llvm-objdump prints for the same instruction (little-endian).
    fn hex(insn: Insn) -> String {
        insn.to_le_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn struct_is_eight_bytes() {
        assert_eq!(std::mem::size_of::<Insn>(), 8);
    }

    #[test]
    fn mov_and_exit() {
        assert_eq!(hex(Insn::mov64_imm(Reg::R0, 2)), "b7 00 00 00 02 00 00 00");
        assert_eq!(
            hex(Insn::mov64_reg(Reg::R6, Reg::R1)),
            "bf 16 00 00 00 00 00 00"
        );
        assert_eq!(hex(Insn::exit()), "95 00 00 00 00 00 00 00");
    }

    #[test]
    fn alu() {
        assert_eq!(
            hex(Insn::alu64_imm(Alu::Add, Reg::R4, 14)),
            "07 04 00 00 0e 00 00 00"
        );
        assert_eq!(
            hex(Insn::alu64_imm(Alu::Add, Reg::R2, -4)),
            "07 02 00 00 fc ff ff ff"
        );
        assert_eq!(
            hex(Insn::alu64_imm(Alu::And, Reg::R0, 0xf0)),
            "57 00 00 00 f0 00 00 00"
        );
        assert_eq!(
            hex(Insn::alu64_reg(Alu::Add, Reg::R1, Reg::R2)),
            "0f 21 00 00 00 00 00 00"
        );
    }

    #[test]
    fn byte_swap_to_big_endian() {
        assert_eq!(hex(Insn::to_be(Reg::R5, 16)), "dc 05 00 00 10 00 00 00");
        assert_eq!(hex(Insn::to_be(Reg::R0, 32)), "dc 00 00 00 20 00 00 00");
    }

    #[test]
    fn loads_and_stores() {
        assert_eq!(
            hex(Insn::load(Size::W, Reg::R2, Reg::R6, 0)),
            "61 62 00 00 00 00 00 00"
        );
        assert_eq!(
            hex(Insn::load(Size::H, Reg::R5, Reg::R2, 12)),
            "69 25 0c 00 00 00 00 00"
        );
        assert_eq!(
            hex(Insn::load(Size::B, Reg::R0, Reg::R2, 14)),
            "71 20 0e 00 00 00 00 00"
        );
        assert_eq!(
            hex(Insn::load(Size::DW, Reg::R1, Reg::R0, 0)),
            "79 01 00 00 00 00 00 00"
        );
        assert_eq!(
            hex(Insn::store(Size::W, Reg::FP, -4, Reg::R0)),
            "63 0a fc ff 00 00 00 00"
        );
        assert_eq!(
            hex(Insn::store(Size::DW, Reg::R0, 0, Reg::R1)),
            "7b 10 00 00 00 00 00 00"
        );
        assert_eq!(
            hex(Insn::store_imm(Size::W, Reg::FP, -20, 1)),
            "62 0a ec ff 01 00 00 00"
        );
    }

    #[test]
    fn ld_imm64_and_map_fd() {
        let [a, b] = Insn::ld_map_fd(Reg::R1, 7);
        assert_eq!(hex(a), "18 11 00 00 07 00 00 00");
        assert_eq!(hex(b), "00 00 00 00 00 00 00 00");
        let [a, b] = Insn::ld_imm64(Reg::R3, 0x1122_3344_5566_7788);
        assert_eq!(hex(a), "18 03 00 00 88 77 66 55");
        assert_eq!(hex(b), "00 00 00 00 44 33 22 11");
    }

    #[test]
    fn jumps_and_calls() {
        assert_eq!(
            hex(Insn::jmp_reg(Cond::Gt, Reg::R4, Reg::R3, 5)),
            "2d 34 05 00 00 00 00 00"
        );
        assert_eq!(
            hex(Insn::jmp_imm(Cond::Eq, Reg::R0, 0, 3)),
            "15 00 03 00 00 00 00 00"
        );
        assert_eq!(
            hex(Insn::jmp_imm(Cond::Ne, Reg::R5, 0x0800, -2)),
            "55 05 fe ff 00 08 00 00"
        );
        assert_eq!(hex(Insn::ja(1)), "05 00 01 00 00 00 00 00");
        assert_eq!(hex(Insn::call(51)), "85 00 00 00 33 00 00 00");
        assert!(Insn::ja(1).is_jump());
        assert!(!Insn::call(1).is_jump());
        assert!(!Insn::exit().is_jump());
        assert!(!Insn::mov64_imm(Reg::R0, 0).is_jump());
    }

    #[test]
    fn register_nibbles() {
        let insn = Insn::mov64_reg(Reg::R9, Reg::FP);
        assert_eq!((insn.dst(), insn.src()), (9, 10));
    }
}
