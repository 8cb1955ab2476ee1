// The engine's connection timers against the Linux kernel on the test bed, watched on the wire:
// a packet sniffer (AF_PACKET, Python) on the peer's veth records every segment of the test's
// ports with its time, and the peer's answers are blackholed (setNetem lossPct 100, a tc filter
// on the peer's egress) where the test needs a dead peer. Keep-alive through net (Node's values:
// idle = the delay, 1 s interval, 10 probes) and through sys (SO_KEEPALIVE, TCP_KEEPIDLE,
// TCP_KEEPINTVL, TCP_KEEPCNT), TCP_USER_TIMEOUT, and the persist timer against a kernel
// receiver that stops reading.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TestBed } from '../../ts/testbed/testbed.js';
import type { Engine } from '../../ts/runtime/engine.js';
import { startEngineOnBed, stopEngineAndBed } from '../support/engine-on-bed.js';
import { readResult } from '../support/result-file.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const app = path.join(here, 'apps/timers.js');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const FIN = 0x01;
const SYN = 0x02;
const RST = 0x04;
const ACK = 0x10;

// Every IPv4 TCP segment to or from one of the ports on the interface, as one JSON array a line:
// [monotonic seconds, sent by the peer (1) or received, sport, dport, flags, seq, ack, len, win].
const PY_SNIFF = `
import json, socket, struct, sys, time
ifname, ports = sys.argv[1], {int(p) for p in sys.argv[2].split(",")}
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
# A busy machine can starve this loop for a while: a large buffer keeps the kernel from dropping
# what it captured meanwhile (a missed segment would look like one the engine skipped).
s.setsockopt(socket.SOL_SOCKET, 33, 32 << 20)  # SO_RCVBUFFORCE (we run as root)
s.bind((ifname, 0))
print("ready", flush=True)
while True:
    b, a = s.recvfrom(65536)
    t = time.monotonic()
    if len(b) < 54 or b[12:14] != b"\\x08\\x00" or b[23] != 6:
        continue
    ihl = (b[14] & 15) * 4
    o = 14 + ihl
    sp, dp, seq, ack, off, fl, win = struct.unpack("!HHIIBBH", b[o:o + 16])
    if sp not in ports and dp not in ports:
        continue
    n = struct.unpack("!H", b[16:18])[0] - ihl - (off >> 4) * 4
    out = int(a[2] == socket.PACKET_OUTGOING)
    print(json.dumps([round(t, 4), out, sp, dp, fl, seq, ack, n, win]), flush=True)
`;

// The kernel peers, one mode each:
//   hold P S    accept on P, stay silent S seconds, then "ping" (expects it echoed), FIN, EOF
//   pair E P S  listen on P+1 and connect to E:P, both silent S seconds, then as hold on each
//   sink P      accept on P and read until EOF or an error (stays until the test ends)
//   slow P S    accept on P with a small receive buffer, read nothing for S seconds, then read
//               to EOF and answer "<bytes> <sha256>"
const PY_PEER = `
import hashlib, json, socket, sys, time
mode = sys.argv[1]
def listen(port, rcvbuf=0):
    l = socket.socket()
    l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if rcvbuf:
        l.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    l.bind(("0.0.0.0", port)); l.listen(4); l.settimeout(30)
    return l
def connect(host, port):
    end = time.monotonic() + 20
    while True:
        try:
            return socket.create_connection((host, port), timeout=10)
        except OSError:
            if time.monotonic() > end: raise
            time.sleep(0.1)
def finish(s):
    s.settimeout(10)
    s.sendall(b"ping")
    echo = b""
    while len(echo) < 4:
        b = s.recv(4 - len(echo))
        if not b: break
        echo += b
    s.shutdown(socket.SHUT_WR)
    eof = s.recv(1) == b""
    s.close()
    return {"echo": echo.decode(), "eof": eof}
out = {}
if mode == "hold":
    l = listen(int(sys.argv[2])); print("ready", flush=True)
    a, _ = l.accept()
    time.sleep(float(sys.argv[3]))
    out = finish(a)
elif mode == "pair":
    p = int(sys.argv[3])
    l = listen(p + 1); print("ready", flush=True)
    c = connect(sys.argv[2], p)
    a, _ = l.accept()
    time.sleep(float(sys.argv[4]))
    out = {"toEngine": finish(c), "fromEngine": finish(a)}
elif mode == "sink":
    l = listen(int(sys.argv[2])); print("ready", flush=True)
    a, _ = l.accept(); a.settimeout(60)
    try:
        while a.recv(65536): pass
        out["end"] = "eof"
    except OSError as e:
        out["end"] = type(e).__name__
elif mode == "slow":
    l = listen(int(sys.argv[2]), 4096); print("ready", flush=True)
    a, _ = l.accept(); a.settimeout(30)
    time.sleep(float(sys.argv[3]))
    h = hashlib.sha256(); n = 0
    while True:
        b = a.recv(65536)
        if not b: break
        h.update(b); n += len(b)
    a.sendall(("%d %s\\n" % (n, h.hexdigest())).encode())
    a.close()
    out = {"got": n}
print(json.dumps(out), flush=True)
`;

interface Segment {
  t: number; // seconds
  fromPeer: boolean;
  sport: number;
  dport: number;
  flags: number;
  seq: number;
  ack: number;
  len: number;
  win: number;
}

/** A process in the peer namespace whose stdout lines are kept as they come. */
class PeerProcess {
  readonly lines: string[] = [];
  private partial = '';
  stderr = '';

  constructor(readonly child: ChildProcess) {
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (d: string) => {
      const all = (this.partial + d).split('\n');
      this.partial = all.pop() ?? '';
      this.lines.push(...all);
    });
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (d: string) => (this.stderr += d));
  }

  async waitLine(pred: (l: string) => boolean, what: string, ms = 20000): Promise<string> {
    const end = Date.now() + ms;
    for (;;) {
      const hit = this.lines.find(pred);
      if (hit !== undefined) return hit;
      if (this.child.exitCode !== null || Date.now() > end) {
        assert.fail(`no ${what} (exit ${this.child.exitCode}): ${this.stderr}`);
      }
      await sleep(20);
    }
  }
}

/** The segments of the connection whose port (on either side) is `port`, in capture order. */
function segmentsOf(sniffer: PeerProcess, port: number): Segment[] {
  return sniffer.lines
    .filter((l) => l.startsWith('['))
    .map((l) => {
      const [t, out, sport, dport, flags, seq, ack, len, win] = JSON.parse(l) as number[];
      return { t, fromPeer: out === 1, sport, dport, flags, seq, ack, len, win };
    })
    .filter((s) => s.sport === port || s.dport === port);
}

/**
 * The engine's probes: empty pure ACKs one below what the peer last acknowledged
 * (<SEQ=SND.UNA-1>, keep-alive and zero-window probes alike), each with whether the kernel
 * answered it (an ACK of SND.UNA within 200 ms).
 */
function probesIn(segs: Segment[]): { seg: Segment; answered: boolean }[] {
  const out: { seg: Segment; answered: boolean }[] = [];
  let una = -1;
  for (let i = 0; i < segs.length; i++) {
    const s = segs[i];
    if (s.fromPeer) {
      if ((s.flags & ACK) !== 0) una = s.ack;
      continue;
    }
    if (una < 0 || s.len !== 0 || s.flags !== ACK || s.seq !== (una - 1) >>> 0) continue;
    const answered = segs
      .slice(i + 1)
      .some((a) => a.fromPeer && a.ack === una && a.t - s.t < 0.2 && (a.flags & ACK) !== 0);
    out.push({ seg: s, answered });
  }
  return out;
}

const ms = (a: Segment, b: Segment): number => Math.round((b.t - a.t) * 1000);

/**
 * The end of a connection to a blackholed peer: from the last segment the peer got out, the
 * engine's unanswered probes and its RST, as delays in ms.
 */
function deadEnd(segs: Segment[]): {
  firstMs: number;
  gapsMs: number[];
  rstMs: number;
  totalMs: number;
} {
  const rstAt = segs.findIndex((s) => !s.fromPeer && (s.flags & RST) !== 0);
  assert.ok(rstAt >= 0, 'the engine sent no RST');
  const rst = segs[rstAt];
  const heard = segs.slice(0, rstAt).filter((s) => s.fromPeer);
  assert.ok(heard.length > 0, 'nothing from the peer before the RST');
  const last = heard[heard.length - 1];
  const probes = probesIn(segs.slice(0, rstAt)).filter((p) => p.seg.t > last.t);
  assert.ok(probes.length > 0, 'no probe before the RST');
  assert.ok(probes.every((p) => !p.answered));
  const gapsMs = probes.slice(1).map((p, i) => ms(probes[i].seg, p.seg));
  return {
    firstMs: ms(last, probes[0].seg),
    gapsMs,
    rstMs: ms(probes[probes.length - 1].seg, rst),
    totalMs: ms(last, rst),
  };
}

/**
 * After the peer went silent: `count` probes, the first ~2 s after it was last heard and then
 * ~1 s apart, and the RST ~1 s after the last one.
 */
function assertProbesThenReset(segs: Segment[], count: number): void {
  const end = deadEnd(segs);
  assert.equal(end.gapsMs.length + 1, count, JSON.stringify(end));
  around(end.firstMs, 2000, 'first probe');
  end.gapsMs.forEach((g, i) => around(g, 1000, `probe ${i + 2}`, 700));
  around(end.rstMs, 1000, 'RST after the last probe', 700);
}

/** Timer delays on a shared 2-core machine: not before `want` (less clock slack), not far after. */
function around(got: number, want: number, what: string, late = 1000): void {
  assert.ok(got >= want - 150 && got <= want + late, `${what}: ${got} ms, expected ~${want} ms`);
}

describe('tcp-kernel: keep-alive, user timeout and persist timers against the kernel', function () {
  this.timeout(90000);
  let bed: TestBed | undefined;
  let engine: Engine | undefined;
  let dir: string;
  let children: ChildProcess[];
  const port = 9300;

  beforeEach(async function () {
    bed = await TestBed.up();
    dir = mkdtempSync(path.join(tmpdir(), 'ka-timers-'));
    children = [];
  });

  afterEach(async function () {
    const stopping = engine;
    engine = undefined;
    await stopEngineAndBed({ engine: stopping, bed, children, dir });
    bed = undefined;
  });

  function peer(argv: string[]): PeerProcess {
    const child = bed!.spawn(['python3', '-u', '-c', ...argv]);
    children.push(child);
    return new PeerProcess(child);
  }

  /** The sniffer and a kernel peer (ready), then the engine app in `scenario`. */
  async function start(scenario: string, peerArgs: string[], env: Record<string, string> = {}) {
    const sniffer = peer([PY_SNIFF, bed!.peerIf, `${port},${port + 1}`]);
    await sniffer.waitLine((l) => l === 'ready', 'sniffer');
    const kernel = peer([PY_PEER, ...peerArgs]);
    await kernel.waitLine((l) => l === 'ready', 'kernel peer');
    Object.assign(process.env, {
      XDPNET_TT_SCENARIO: scenario,
      XDPNET_TT_DIR: dir,
      XDPNET_TT_PEER: bed!.peerIpv4,
      XDPNET_TT_PORT: String(port),
      ...env,
    });
    engine = await startEngineOnBed(bed!, app);
    return { sniffer, kernel };
  }

  async function connectionUp(): Promise<void> {
    const end = Date.now() + 20000;
    while (!existsSync(path.join(dir, 'up'))) {
      assert.ok(Date.now() < end, 'the engine app never connected');
      await sleep(20);
    }
  }

  const resultFile = (): string => path.join(dir, 'result.json');

  it('net: keepAlive on a server and a connect() probes an idle kernel peer every idle period; the kernel answers, both stay up', async function () {
    const { sniffer, kernel } = await start('net-live', [
      'pair',
      bed!.engineIpv4,
      String(port),
      '7',
    ]);
    const out = JSON.parse(await kernel.waitLine((l) => l.startsWith('{'), 'kernel result', 30000));
    assert.deepEqual(out, {
      toEngine: { echo: 'ping', eof: true },
      fromEngine: { echo: 'ping', eof: true },
    });
    const r = await readResult<{ errors: string[]; echoed: number }>(resultFile(), 10000);
    assert.deepEqual(r, { errors: [], echoed: 8 });
    for (const p of [port, port + 1]) {
      const segs = segmentsOf(sniffer, p);
      const probes = probesIn(segs);
      assert.ok(probes.length >= 2, `${probes.length} probes on port ${p}`);
      assert.ok(
        probes.every((x) => x.answered),
        `unanswered probe on port ${p}`,
      );
      // The first comes 2 s after the handshake, each next 2 s after the last answer.
      const hs = segs.find((s) => (s.flags & (SYN | ACK)) === (SYN | ACK))!;
      around(ms(hs, probes[0].seg), 2000, `first probe on ${p}`);
      for (let i = 1; i < probes.length; i++) {
        around(ms(probes[i - 1].seg, probes[i].seg), 2000, `probe ${i} on ${p}`);
      }
    }
  });

  it("net: setKeepAlive(true, 2500) on a dead kernel peer uses Node's values: idle 2 s, 10 probes 1 s apart, then ETIMEDOUT", async function () {
    const { sniffer } = await start('net-dead', ['sink', String(port)]);
    await connectionUp();
    await bed!.setNetem({ lossPct: 100 });
    const r = await readResult<{ error: string }>(resultFile(), 40000);
    assert.equal(r.error, 'ETIMEDOUT');
    await sleep(200);
    assertProbesThenReset(segmentsOf(sniffer, port), 10);
  });

  it('sys: SO_KEEPALIVE with TCP_KEEPIDLE 2 probes an idle kernel peer every 2 s; the kernel answers, the connection stays up', async function () {
    const { sniffer, kernel } = await start('sys-live', ['hold', String(port), '7']);
    const out = JSON.parse(await kernel.waitLine((l) => l.startsWith('{'), 'kernel result', 30000));
    assert.deepEqual(out, { echo: 'ping', eof: true });
    const r = await readResult<{ last: number; echoed: number }>(resultFile(), 10000);
    assert.deepEqual(r, { last: 0, echoed: 4 });
    const segs = segmentsOf(sniffer, port);
    const probes = probesIn(segs);
    assert.ok(probes.length >= 2, `${probes.length} probes`);
    assert.ok(probes.every((x) => x.answered));
    const hs = segs.find((s) => (s.flags & (SYN | ACK)) === (SYN | ACK))!;
    around(ms(hs, probes[0].seg), 2000, 'first probe');
    for (let i = 1; i < probes.length; i++)
      around(ms(probes[i - 1].seg, probes[i].seg), 2000, `probe ${i}`);
  });

  it('sys: TCP_KEEPIDLE 2, TCP_KEEPINTVL 1, TCP_KEEPCNT 3 on a dead kernel peer: 3 probes 1 s apart, then ETIMEDOUT', async function () {
    const { sniffer } = await start('sys-dead', ['sink', String(port)]);
    await connectionUp();
    await bed!.setNetem({ lossPct: 100 });
    const r = await readResult<{ last: string; soError: number }>(resultFile(), 30000);
    assert.deepEqual(r, { last: 'ETIMEDOUT', soError: 0 });
    await sleep(200);
    assertProbesThenReset(segmentsOf(sniffer, port), 3);
  });

  it('sys: TCP_USER_TIMEOUT 3000 with unacknowledged data to a dead kernel peer fails with ETIMEDOUT after about 3 s', async function () {
    const { sniffer } = await start('sys-user-timeout', ['sink', String(port)]);
    await connectionUp();
    await bed!.setNetem({ lossPct: 100 });
    writeFileSync(path.join(dir, 'go'), '');
    const r = await readResult<{ ut: number; wrote: number; last: string; afterMs: number }>(
      resultFile(),
      30000,
    );
    await sleep(200);
    const segs = segmentsOf(sniffer, port);
    const data = segs.filter((s) => !s.fromPeer && s.len > 0);
    const rst = segs.find((s) => !s.fromPeer && (s.flags & RST) !== 0);
    const detail = JSON.stringify({ r, data: data.map((s) => [s.t, s.seq, s.len]), rst });
    assert.equal(r.ut, 3000);
    assert.equal(r.wrote, 16 * 1024);
    assert.equal(r.last, 'ETIMEDOUT', detail);
    assert.ok(rst !== undefined, detail);
    // Retransmitted: the first segment went out more than once.
    assert.ok(data.filter((s) => s.seq === data[0].seq).length >= 2, detail);
    const firstRtx = data.find((s, i) => i > 0 && s.seq === data[0].seq)!;
    // Linux: ETIMEDOUT once the user timeout has passed since the first retransmission, the
    // RTO clamped so that the last one fires at that moment (tcp_clamp_rto_to_user_timeout).
    around(ms(firstRtx, rst), 3000, `RST after the first retransmission ${detail}`, 1000);
  });

  it("net: the persist timer probes a kernel receiver's zero window and resumes when it reads; every byte arrives", async function () {
    const size = 512 * 1024;
    const { sniffer, kernel } = await start('net-persist', ['slow', String(port), '3'], {
      XDPNET_TT_SIZE: String(size),
    });
    const out = JSON.parse(await kernel.waitLine((l) => l.startsWith('{'), 'kernel result', 40000));
    assert.deepEqual(out, { got: size });
    const r = await readResult<{ got: number; match: boolean }>(resultFile(), 10000);
    assert.deepEqual(r, { got: size, match: true });
    const segs = segmentsOf(sniffer, port);
    const zeroAt = segs.findIndex((s) => s.fromPeer && (s.flags & ACK) !== 0 && s.win === 0);
    assert.ok(zeroAt >= 0, 'the kernel never closed its window');
    const reopened = segs.findIndex(
      (s, i) => i > zeroAt && s.fromPeer && s.win > 0 && (s.flags & FIN) === 0,
    );
    assert.ok(reopened > zeroAt, 'the window never reopened');
    const stalled = segs.slice(zeroAt, reopened);
    const probes = probesIn(segs.slice(0, reopened)).filter((p) => p.seg.t > segs[zeroAt].t);
    const shown = JSON.stringify(segs.slice(zeroAt, reopened + 1));
    assert.ok(probes.length >= 2, `${probes.length} zero-window probes: ${shown}`);
    // The kernel answers them with its zero window, though at most one an out-of-window segment
    // every 500 ms (tcp_invalid_ratelimit), so not every one of the early, closely spaced probes.
    assert.ok(
      probes.some((p) => p.answered),
      shown,
    );
    // No new data while the window is closed, only probes; data again once it opens. (A
    // retransmission below the closed window's edge is no breach: on a loaded machine an RTO can
    // fire before the ACK that closed the window is read.)
    const edge = segs[zeroAt].ack;
    const intoClosedWindow = stalled.filter(
      (s) => !s.fromPeer && s.len > 0 && ((s.seq + s.len - edge) | 0) > 0,
    );
    assert.deepEqual(intoClosedWindow, [], `data past the closed window's edge: ${shown}`);
    assert.ok(
      segs.slice(reopened).some((s) => !s.fromPeer && s.len > 0),
      'no data after the reopening',
    );
    // The engine sends its bytes in order: no segment starts past the end of what it has sent
    // (a probe carrying never-sent data from further on would land outside the closed window).
    let sent = -1;
    for (const s of segs) {
      if (s.fromPeer || s.len === 0 || (s.flags & SYN) !== 0) continue;
      if (sent >= 0) {
        assert.ok(((s.seq - sent) | 0) <= 0, `segment at ${s.seq} past ${sent}: ${shown}`);
      }
      if (sent < 0 || ((s.seq + s.len - sent) | 0) > 0) sent = (s.seq + s.len) >>> 0;
    }
  });
});
