// Real frames captured with dumpcap on a veth pair between two network namespaces (Linux 6.18,
// transmit checksum offload off so every checksum on the wire was computed by the kernel), and
// checked as correct by tshark. Hosts: 198.18.66.2 / 2001:2:0:66::2 (e2:14:d1:91:a4:41) and
// 198.18.66.1 / 2001:2:0:66::1 (5a:da:df:33:cd:2e).

export const CAPTURED = {
  /** ARP request: who has 198.18.66.1? Tell 198.18.66.2. */
  arpRequest:
    'ffffffffffffe214d191a44108060001080006040001e214d191a441c6124202000000000000c6124201',
  /** ARP reply: 198.18.66.1 is at 5a:da:df:33:cd:2e. */
  arpReply: 'e214d191a4415adadf33cd2e080600010800060400025adadf33cd2ec6124201e214d191a441c6124202',
  /** `ping -c1 198.18.66.1`: ICMP echo request, id 0x2a86 seq 1, 56 data bytes. */
  icmpEchoRequest:
    '5adadf33cd2ee214d191a441080045000054e4e8400040014598c6124202c612420108005f852a860001729d' +
    '026b000000003918010000000000101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d' +
    '2e2f3031323334353637',
  /** The kernel's echo reply. */
  icmpEchoReply:
    'e214d191a4415adadf33cd2e0800450000540271000040016810c6124201c6124202000067852a860001729d' +
    '026b000000003918010000000000101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d' +
    '2e2f3031323334353637',
  /** `nc -u`: UDP/IPv6 40000 -> 9999 carrying "hello xdpnet\n", flow label 0xeafff. */
  udp6:
    '5adadf33cd2ee214d191a44186dd600eafff0015114020010002000000660000000000000002200100020000' +
    '006600000000000000019c40270f00155f6668656c6c6f207864706e65740a',
  /** ICMPv6 port unreachable quoting the datagram above. */
  icmp6PortUnreachable:
    'e214d191a4415adadf33cd2e86dd60005b6100453a4020010002000000660000000000000001200100020000' +
    '0066000000000000000201049c6a00000000600eafff00151140200100020000006600000000000000022001' +
    '00020000006600000000000000019c40270f00155f6668656c6c6f207864706e65740a',
  /** TCP SYN as Linux sends it: MSS 1460, SACK-permitted, timestamps, NOP, window scale 10. */
  tcpSyn:
    '5adadf33cd2ee214d191a44108004500003c637640004006c71dc6124202c6124201c7d0005018743e950000' +
    '0000a002faf00c920000020405b40402080a5b4eb5d9000000000103030a',
  /** The RST+ACK a closed port answers with (veth does not pad to 60 bytes). */
  tcpRstAck:
    'e214d191a4415adadf33cd2e0800450000280000400040062aa8c6124201c61242020050c7d0000000001874' +
    '3e9650140000807d0000',
  /** Neighbor Solicitation for 2001:2:0:66::1 with a source link-layer address option. */
  neighborSolicitation:
    '3333ff000001e214d191a44186dd6000000000203aff20010002000000660000000000000002ff0200000000' +
    '000000000001ff0000018700e0e000000000200100020000006600000000000000010101e214d191a441',
  /** Solicited, override Neighbor Advertisement with a target link-layer address option. */
  neighborAdvertisement:
    'e214d191a4415adadf33cd2e86dd6000000000203aff20010002000000660000000000000001200100020000' +
    '006600000000000000028800ad27600000002001000200000066000000000000000102015adadf33cd2e',
  /** Duplicate address detection probe: from ::, to the solicited-node group, no options. */
  dadNeighborSolicitation:
    '3333ff33cd2e5adadf33cd2e86dd6000000000203aff00000000000000000000000000000000ff0200000000' +
    '000000000001ff33cd2e8700c33300000000fe8000000000000058dadffffe33cd2e0e0111306bc85c53',
  /** Router Solicitation from a link-local address with a source link-layer address option. */
  routerSolicitation:
    '3333000000025adadf33cd2e86dd6000000000103afffe8000000000000058dadffffe33cd2eff0200000000' +
    '00000000000000000002850070b40000000001015adadf33cd2e',
} as const;

export function fromHex(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function toHex(buf: Uint8Array, off = 0, len = buf.length - off): string {
  let s = '';
  for (let i = off; i < off + len; i++) s += buf[i].toString(16).padStart(2, '0');
  return s;
}
