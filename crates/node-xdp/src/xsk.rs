//! xsk (being written)
