//! bpf (being written)
