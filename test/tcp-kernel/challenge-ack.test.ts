// RFC 5961 counters against the Linux kernel (test bed): a blind SYN injected into an
// established connection (RFC 5961 4.2) must be answered with a challenge ACK and counted as
// Linux counts it (TcpExt TCPSYNChallenge, TCPChallengeACK), in engine.stats() and in
// `netstat -s` form; the peer namespace's own kernel takes the same injection on a connection of
// its own, and the two sets of counters must agree. CurrEstab counts the one open connection.
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TestBed } from '../../ts/testbed/testbed.js';
import type { Engine } from '../../ts/runtime/engine.js';
import { netstatCounters, sumCounters } from '../../ts/runtime/control-counters.js';
import { startEngineOnBed, stopEngineAndBed } from '../support/engine-on-bed.js';
import { runPeerPython } from '../support/peer-namespace.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const echoApp = path.join(here, '../../examples/tcp-echo.js');

// argv: server address, port, local address. Opens a connection (one echo round trip), injects
// SYNs with its 4-tuple and a random sequence number through a raw socket, waits, and prints
// "injected", then waits for stdin to close. With `serve`, it runs a kernel echo server on the
// port first. The peer's TcpExt counters before and after are printed as JSON.
const PY_INJECT = String.raw`
import json, random, socket, struct, sys, threading, time
server, port, local, serve = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4] == "serve"
SYNS = 3
def csum(b):
    if len(b) % 2: b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
def counters():
    lines = open("/proc/net/netstat").read().split("\n")
    for i in range(len(lines) - 1):
        a, b = lines[i].split(), lines[i + 1].split()
        if a and b and a[0] == "TcpExt:" and b[0] == "TcpExt:" and not b[1].isalpha():
            d = dict(zip(a[1:], map(int, b[1:])))
            return {k: d.get(k, 0) for k in ("TCPSYNChallenge", "TCPChallengeACK", "TCPACKSkippedChallenge")}
if serve:
    ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((server, port)); ls.listen(8)
    def echo():
        c, _ = ls.accept()
        while True:
            d = c.recv(100)
            if not d: return
            c.sendall(d)
    threading.Thread(target=echo, daemon=True).start()
s = socket.create_connection((server, port), timeout=10)
s.sendall(b"hello"); got = b""
while len(got) < 5: got += s.recv(100)
time.sleep(0.2)
before = counters()
raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
src, dst = socket.inet_aton(local), socket.inet_aton(server)
for i in range(SYNS):
    tcp = struct.pack("!HHIIBBHHH", s.getsockname()[1], port, random.getrandbits(32), 0, 5 << 4, 0x02, 64240, 0, 0)
    c = csum(src + dst + struct.pack("!BBH", 0, 6, len(tcp)) + tcp)
    tcp = tcp[:16] + struct.pack("!H", c) + tcp[18:]
    raw.sendto(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40, 0, 0, 64, 6, 0, src, dst) + tcp, (server, 0))
    # Past Linux's per-socket limit on out-of-window answers (tcp_invalid_ratelimit, 500 ms),
    # which would skip (TCPACKSkippedChallenge) where the engine's 100 a second would not.
    time.sleep(0.6)
# The connection survived: one more echo round trip.
s.sendall(b"again"); got = b""
while len(got) < 5: got += s.recv(100)
after = counters()
print(json.dumps({k: after[k] - before[k] for k in after}), flush=True)
sys.stdin.read()
`;

describe('tcp-kernel: RFC 5961 counters and CurrEstab as Linux keeps them', function () {
  this.timeout(60000);
  let bed: TestBed | undefined;
  let engine: Engine | undefined;

  afterEach(async function () {
    const stopping = engine;
    engine = undefined;
    await stopEngineAndBed({ engine: stopping, bed });
    bed = undefined;
  });

  it('counts blind SYNs and the challenge ACKs they get as the kernel does', async function () {
    bed = await TestBed.up();
    engine = await startEngineOnBed(bed, echoApp);
    // The kernel's answer to the same steps, on a connection inside the peer namespace.
    const kernel = JSON.parse(
      await runPeerPython(bed, PY_INJECT, [bed.peerIpv4, '9007', bed.peerIpv4, 'serve']),
    ) as Record<string, number>;
    assert.deepEqual(kernel, { TCPSYNChallenge: 3, TCPChallengeACK: 3, TCPACKSkippedChallenge: 0 });

    const peer = bed.spawn([
      'python3',
      '-u',
      '-c',
      PY_INJECT,
      bed.engineIpv4,
      '7',
      bed.peerIpv4,
      'engine',
    ]);
    try {
      const line = await new Promise<string>((resolve, reject) => {
        let out = '';
        let err = '';
        const t = setTimeout(() => reject(new Error(`peer: nothing in 20 s: ${err}`)), 20000);
        peer.stderr!.on('data', (b: Buffer) => (err += b.toString()));
        peer.stdout!.on('data', (b: Buffer) => {
          out += b.toString();
          if (out.includes('\n')) {
            clearTimeout(t);
            resolve(out.split('\n')[0]);
          }
        });
        peer.once('exit', (code) => reject(new Error(`peer exited ${code}: ${err}`)));
      });
      // The engine's challenge ACKs reached the peer as ordinary duplicate ACKs: it counted none.
      assert.deepEqual(JSON.parse(line), {
        TCPSYNChallenge: 0,
        TCPChallengeACK: 0,
        TCPACKSkippedChallenge: 0,
      });
      const stats = await engine.stats();
      const { Tcp, TcpExt } = sumCounters(stats.map(netstatCounters));
      const ours = {
        TCPSYNChallenge: TcpExt.TCPSYNChallenge,
        TCPChallengeACK: TcpExt.TCPChallengeACK,
        TCPACKSkippedChallenge: TcpExt.TCPACKSkippedChallenge,
      };
      assert.deepEqual(ours, kernel, 'the engine counts what the kernel counted');
      assert.equal(Tcp.CurrEstab, 1, 'the open connection');
    } finally {
      peer.stdin!.end();
      if (peer.exitCode === null) peer.kill();
    }
  });
});
