//! A tiny assembler: emits instructions and resolves jumps to named labels, so the program in
//! `program.rs` reads like assembly instead of hand-counted offsets.

use crate::insn::{Cond, Insn, Reg};

/// A jump target; bind it once with [`Asm::bind`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Label(usize);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AsmError {
    /// A label was jumped to but never bound.
    Unbound(usize),
    /// A label was bound twice.
    Rebound(usize),
    /// The jump distance does not fit the 16-bit offset.
    TooFar { at: usize, to: usize },
}

#[derive(Default)]
pub struct Asm {
    insns: Vec<Insn>,
    /// Instruction index each label is bound to.
    targets: Vec<Option<usize>>,
    /// (index of a jump instruction, label it goes to)
    fixups: Vec<(usize, Label)>,
    errors: Vec<AsmError>,
}

impl Asm {
    pub fn new() -> Self {
        Asm::default()
    }

    pub fn label(&mut self) -> Label {
        self.targets.push(None);
        Label(self.targets.len() - 1)
    }

    /// The next emitted instruction is where `label` points.
    pub fn bind(&mut self, label: Label) {
        let slot = &mut self.targets[label.0];
        if slot.is_some() {
            self.errors.push(AsmError::Rebound(label.0));
        }
        *slot = Some(self.insns.len());
    }

    pub fn emit(&mut self, insn: Insn) {
        self.insns.push(insn);
    }

    pub fn emit_all(&mut self, insns: &[Insn]) {
        self.insns.extend_from_slice(insns);
    }

    /// `if dst cond imm goto label`
    pub fn jump_imm(&mut self, cond: Cond, dst: Reg, imm: i32, label: Label) {
        self.fixups.push((self.insns.len(), label));
        self.emit(Insn::jmp_imm(cond, dst, imm, 0));
    }

    /// `if dst cond src goto label`
    pub fn jump_reg(&mut self, cond: Cond, dst: Reg, src: Reg, label: Label) {
        self.fixups.push((self.insns.len(), label));
        self.emit(Insn::jmp_reg(cond, dst, src, 0));
    }

    /// `goto label`
    pub fn goto(&mut self, label: Label) {
        self.fixups.push((self.insns.len(), label));
        self.emit(Insn::ja(0));
    }

    /// Resolves jump offsets (relative to the instruction after the jump).
    pub fn finish(mut self) -> Result<Vec<Insn>, AsmError> {
        if let Some(err) = self.errors.first() {
            return Err(err.clone());
        }
        for &(at, label) in &self.fixups {
            let to = self.targets[label.0].ok_or(AsmError::Unbound(label.0))?;
            let delta = to as i64 - (at as i64 + 1);
            let off = i16::try_from(delta).map_err(|_| AsmError::TooFar { at, to })?;
            self.insns[at].off = off;
        }
        Ok(self.insns)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forward_and_backward_jumps() {
        let mut asm = Asm::new();
        let top = asm.label();
        let end = asm.label();
        asm.bind(top);
        asm.emit(Insn::mov64_imm(Reg::R0, 0)); // 0
        asm.jump_imm(Cond::Eq, Reg::R0, 1, end); // 1 -> 4: off 2
        asm.emit(Insn::mov64_imm(Reg::R0, 1)); // 2
        asm.goto(top); // 3 -> 0: off -4
        asm.bind(end);
        asm.emit(Insn::exit()); // 4
        let insns = asm.finish().unwrap();
        assert_eq!(insns[1].off, 2);
        assert_eq!(insns[3].off, -4);
    }

    #[test]
    fn unbound_label_is_an_error() {
        let mut asm = Asm::new();
        let nowhere = asm.label();
        asm.goto(nowhere);
        assert_eq!(asm.finish(), Err(AsmError::Unbound(0)));
    }

    #[test]
    fn double_bind_is_an_error() {
        let mut asm = Asm::new();
        let l = asm.label();
        asm.bind(l);
        asm.emit(Insn::exit());
        asm.bind(l);
        assert_eq!(asm.finish(), Err(AsmError::Rebound(0)));
    }
}
