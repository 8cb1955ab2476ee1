//! umem (being written)
