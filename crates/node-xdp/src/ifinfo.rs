//! ifinfo (being written)
