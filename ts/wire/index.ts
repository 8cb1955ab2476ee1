// The wire layer: header views and builders over frames in place, with no state.
//
// Conventions, the same in every file:
// - A frame is (buf, off, len): a Uint8Array over the UMEM, an absolute byte offset, the bytes
//   available. Offsets stored in parsed structs are absolute offsets into that same buf.
// - parseX(buf, off, len, [ip,] out) fills a caller-owned, reusable struct and returns a
//   DropReason (Ok = 0); it never throws on any input. After a drop, `out` is partly filled and
//   must not be used.
// - writeX(buf, off, ...) writes a header in place and returns its length. Upper-layer checksums
//   are filled in afterwards by setXChecksum, once the payload is in place.
// - No allocation per packet, by construction: parse and write functions create no objects,
//   arrays, closures or views (structs are allocated once by their owner; checksum.ts keeps one
//   Uint32Array per UMEM buffer, created when it first sees that buffer). Only the text helpers
//   (parse/format of addresses) allocate, and they are for configuration and logs.

export * from './drop-reason.js';
export * from './bytes.js';
export * from './checksum.js';
export * from './address.js';
export * from './ethernet.js';
export * from './arp.js';
export * from './ip-protocol.js';
export * from './ipv4.js';
export * from './ipv6.js';
export * from './icmp.js';
export * from './icmpv4.js';
export * from './icmpv6.js';
export * from './udp.js';
export * from './tcp.js';
