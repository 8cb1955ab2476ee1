//! ring (being written)
