// SYN cookies against the Linux kernel with timestamps on (test bed): the peer floods the
// engine's echo listener with SYNs from addresses nobody answers for (its SYN queue fills, so
// SYNs are answered with cookies, RFC 4987 3.6) while a real client connects, sends 5 bytes and
// reads them back, one connection after another. Each connection is rebuilt from its cookie; its
// segments must continue the cookie SYN-ACK's TSval, or the client drops them by PAWS (RFC 7323
// 5.3) and they wait for a retransmission (200 ms each). A sniffer on the peer's interface counts
// every segment the engine sent to the client twice.
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TestBed } from '../../ts/testbed/testbed.js';
import type { Engine } from '../../ts/runtime/engine.js';
import { startEngineOnBed, stopEngineAndBed } from '../support/engine-on-bed.js';
import { runPeerPython } from '../support/peer-namespace.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const echoApp = path.join(here, '../../examples/tcp-echo.js');
const CONNECTIONS = 30;
/** SYNs sent before the clients start: more than the listener's SYN queue (511). */
const FLOOD_FIRST = 3000;
/** Linux's minimum retransmission timeout (TCP_RTO_MIN). */
const MIN_RTO_MS = 200;

// argv: engine, peer, peer interface, connections, SYNs first (0: no flood). Prints JSON: the
// median and max connect-to-echo time (ms), the engine's segments to the client seen twice,
// the peer's RetransSegs and PAWSEstab deltas, SYNs flooded.
const PY_COOKIE_CLIENT = String.raw`
import json, random, socket, statistics, struct, sys, threading, time
engine, peer, ifname = sys.argv[1], sys.argv[2], sys.argv[3]
n_conn, flood_first = int(sys.argv[4]), int(sys.argv[5])
random.seed(13)
def csum(b):
    if len(b) % 2: b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
dst = socket.inet_aton(engine)
net = peer.rsplit(".", 1)[0]
def syn():
    # From .100-.199 of the peer's subnet: no one answers the engine's ARP for them, so the
    # SYN-RECEIVED entries stay until they time out, like a spoofed flood's.
    src = socket.inet_aton("%s.%d" % (net, random.randint(100, 199)))
    tcp = struct.pack("!HHIIBBHHH", random.randint(1024, 30000), 7, random.getrandbits(32), 0,
                      5 << 4, 0x02, 64240, 0, 0)
    c = csum(src + dst + struct.pack("!BBH", 0, 6, len(tcp)) + tcp)
    tcp = tcp[:16] + struct.pack("!H", c) + tcp[18:]
    return struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0, 0, 64, 6, 0, src, dst) + tcp
raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
stop = threading.Event()
flooded = 0
def flooder():
    global flooded
    while not stop.is_set():
        for _ in range(100):
            raw.sendto(syn(), (engine, 0)); flooded += 1
        time.sleep(0.01)
seen = {}
def sniffer(sock):
    while not stop.is_set():
        try: f = sock.recv(2048)
        except socket.timeout: continue
        if len(f) < 54 or f[12:14] != b"\x08\x00" or f[23] != 6: continue
        ihl = (f[14] & 15) * 4
        if f[26:30] != dst or f[30:34] != socket.inet_aton(peer): continue
        t = 14 + ihl
        sport, dport, seq = struct.unpack("!HHI", f[t:t + 8])
        if sport != 7: continue
        flags = f[t + 13]
        length = struct.unpack("!H", f[16:18])[0] - ihl - (f[t + 12] >> 4) * 4
        space = length + (1 if flags & 0x02 else 0) + (1 if flags & 0x01 else 0)
        if space == 0 or flags & 0x04: continue
        key = (dport, seq)
        seen[key] = seen.get(key, 0) + 1
def counters():
    lines = open("/proc/net/snmp").read().split("\n") + open("/proc/net/netstat").read().split("\n")
    out = {}
    for i in range(0, len(lines) - 1):
        a, b = lines[i].split(), lines[i + 1].split()
        if a and b and a[0] == b[0] and a[0] in ("Tcp:", "TcpExt:") and not b[1].isalpha():
            out.update(zip(a[1:], map(int, b[1:])))
    return out
sniff = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
sniff.bind((ifname, 0)); sniff.settimeout(0.1)
threads = [threading.Thread(target=sniffer, args=(sniff,), daemon=True)]
if flood_first:
    for _ in range(flood_first):
        raw.sendto(syn(), (engine, 0)); flooded += 1
    threads.append(threading.Thread(target=flooder, daemon=True))
for t in threads: t.start()
time.sleep(0.3)
c0 = counters()
times = []
for i in range(n_conn):
    t0 = time.monotonic()
    s = socket.create_connection((engine, 7), timeout=10)
    s.sendall(b"hello"); got = b""
    while len(got) < 5:
        d = s.recv(100)
        if not d: raise SystemExit("EOF before the echo")
        got += d
    times.append((time.monotonic() - t0) * 1000)
    s.close()
    time.sleep(0.01)
time.sleep(0.3)
c1 = counters()
stop.set()
for t in threads: t.join()
print(json.dumps({
    "median": statistics.median(times), "max": max(times),
    "resent": sum(n - 1 for n in seen.values()), "segments": sum(seen.values()),
    "retrans": c1["RetransSegs"] - c0["RetransSegs"], "paws": c1["PAWSEstab"] - c0["PAWSEstab"],
    "flooded": flooded,
}), flush=True)
`;

interface ClientRun {
  median: number;
  max: number;
  resent: number;
  segments: number;
  retrans: number;
  paws: number;
  flooded: number;
}

describe('tcp-kernel: SYN cookies with timestamps (kernel client during a SYN flood)', function () {
  this.timeout(120000);
  let bed: TestBed | undefined;
  let engine: Engine | undefined;

  afterEach(async function () {
    const stopping = engine;
    engine = undefined;
    await stopEngineAndBed({ engine: stopping, bed });
    bed = undefined;
  });

  async function clients(flood: number): Promise<ClientRun> {
    const args = [bed!.engineIpv4, bed!.peerIpv4, bed!.peerIf, String(CONNECTIONS), String(flood)];
    return JSON.parse(await runPeerPython(bed!, PY_COOKIE_CLIENT, args, 90000)) as ClientRun;
  }

  it('gets the data of connections made from cookies through with no retransmission', async function () {
    bed = await TestBed.up();
    engine = await startEngineOnBed(bed, echoApp);
    const quiet = await clients(0);
    const before = (await engine.stats())[0].tcp;
    const flooded = await clients(FLOOD_FIRST);
    const after = (await engine.stats())[0].tcp;
    const detail = `quiet ${JSON.stringify(quiet)}, flood ${JSON.stringify(flooded)}`;
    // Every client connection came from a cookie: the SYN queue stayed full all along.
    assert.equal(after.syncookiesRecv - before.syncookiesRecv, CONNECTIONS, detail);
    assert.ok(after.syncookiesSent - before.syncookiesSent > FLOOD_FIRST / 2, detail);
    assert.equal(quiet.resent + quiet.retrans + quiet.paws, 0, `no flood: ${detail}`);
    assert.ok(flooded.segments >= CONNECTIONS * 3, `sniffer saw too little: ${detail}`);
    assert.equal(flooded.paws, 0, `the client dropped our segments by PAWS: ${detail}`);
    assert.equal(flooded.resent, 0, `the engine resent segments to the client: ${detail}`);
    assert.equal(flooded.retrans, 0, `the client resent segments: ${detail}`);
    // No connection waited for a resend: that takes at least the client's minimum RTO (200 ms),
    // whatever the machine's load makes of the flood's cost (a median of 3 ms quiet and 6 ms
    // under the flood, on a busy CI machine).
    assert.ok(flooded.median < MIN_RTO_MS / 2, `median connect-to-echo: ${detail}`);
  });
});
