//! port (being written)
