// The classic libpcap file format (https://www.tcpdump.org/manpages/pcap-savefile.5.html and
// draft-ietf-opsawg-pcap): a 24-byte file header, then per packet a 16-byte record header and
// the captured bytes. Written in our (little-endian) byte order; readers detect it by the magic.

/** Magic of a file with microsecond timestamps. */
export const PCAP_MAGIC_MICROS = 0xa1b2c3d4;
/** Magic of a file with nanosecond timestamps. */
export const PCAP_MAGIC_NANOS = 0xa1b23c4d;
export const PCAP_VERSION_MAJOR = 2;
export const PCAP_VERSION_MINOR = 4;
/** LINKTYPE_ETHERNET: records start with an Ethernet (IEEE 802.3) header. */
export const LINKTYPE_ETHERNET = 1;
/** Bytes of the file header. */
export const FILE_HEADER_BYTES = 24;
/** Bytes of a record header: seconds, fraction, captured length, original length. */
export const RECORD_HEADER_BYTES = 16;
/** The customary largest snapshot length (tcpdump's default). */
export const MAX_SNAPLEN = 262144;
