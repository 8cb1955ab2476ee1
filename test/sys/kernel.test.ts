// The sys API (BSD sockets, epoll, poll, select) on the test bed with the Linux kernel as the peer:
// an engine app (apps/kernel-peer-app.ts) written against the sys calls, a Python client in the
// peer namespace stepping it through trigger modes, resets, half-closes and connects; then the
// epoll echo example serving 1,000 concurrent kernel connections with every byte checked.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TestBed } from '../../ts/testbed/testbed.js';
import type { Engine } from '../../ts/runtime/engine.js';
import {
  EPOLLERR,
  EPOLLHUP,
  EPOLLIN,
  EPOLLOUT,
  EPOLLRDHUP,
  EPOLLRDNORM,
  POLLIN,
  POLLOUT,
} from '../../ts/api/sys/constants.js';
import { Errno } from '../../ts/api/sys/errno.js';
import { startEngineOnBed, stopEngineAndBed } from '../support/engine-on-bed.js';
import { runPeerPython } from '../support/peer-namespace.js';
import { readResult } from '../support/result-file.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const peerApp = path.join(here, 'apps/kernel-peer-app.js');
const epollEcho = path.join(here, '../../examples/epoll-echo.js');

// The kernel side of apps/kernel-peer-app.ts, step for step (one-byte signals on the control
// connection). Prints what it saw as JSON.
const PY_STEPS = `
import json, socket, struct, sys, threading, time
E, P = sys.argv[1], sys.argv[2]
log = {}
def conn(port):
    end = time.monotonic() + 10
    while True:
        try:
            return socket.create_connection((E, port), timeout=10)
        except OSError:
            if time.monotonic() > end: raise
            time.sleep(0.1)
def expect(s, b):
    got = s.recv(1)
    assert got == b, (b, got)
def rst(s):
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind((P, 7200)); srv.listen(4); srv.settimeout(30)
def serve():
    a, _ = srv.accept(); a.settimeout(10)
    a.sendall(a.recv(64)); a.recv(64); a.close()
threading.Thread(target=serve, daemon=True).start()
c = conn(7100)
expect(c, b"0"); c.sendall(b"A" * 100)
expect(c, b"1"); c.sendall(b"B" * 50)
expect(c, b"2"); c.shutdown(socket.SHUT_WR)
expect(c, b"3"); log["eofAfterClose"] = c.recv(10) == b""
c.close()
k = conn(7100)
r = conn(7102)
expect(k, b"r"); rst(r); time.sleep(0.3); k.sendall(b"a")
expect(k, b"b"); r2 = conn(7102); r2.sendall(b"hi"); log["hi"] = r2.recv(2).decode(); r2.close()
e = conn(7100)
expect(k, b"e"); rst(e)
log["controlEof"] = k.recv(1) == b""
print(json.dumps(log))
`;

// N connections opened at once (selectors), each sending its own 1-4 KB of random bytes and
// checking that exactly those bytes come back; bounded by a deadline. Prints counts.
const PY_MANY_ECHO = `
import json, os, resource, selectors, socket, sys, time
host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
resource.setrlimit(resource.RLIMIT_NOFILE, (n + 256, n + 256))
sel = selectors.DefaultSelector()
deadline = time.monotonic() + 60
st = {}
for i in range(n):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setblocking(False)
    s.connect_ex((host, port))
    st[s] = {"msg": os.urandom(1024 + (i * 37) % 3072), "sent": 0, "got": bytearray(), "up": False}
    sel.register(s, selectors.EVENT_WRITE)
connected = echoed = errors = mismatched = total = 0
while echoed + errors + mismatched < n and time.monotonic() < deadline:
    for key, ev in sel.select(timeout=1):
        s = key.fileobj; x = st[s]
        try:
            if not x["up"]:
                err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err: raise OSError(err, "connect")
                x["up"] = True; connected += 1
            if ev & selectors.EVENT_WRITE and x["sent"] < len(x["msg"]):
                x["sent"] += s.send(x["msg"][x["sent"]:])
                if x["sent"] == len(x["msg"]): sel.modify(s, selectors.EVENT_READ)
            if ev & selectors.EVENT_READ:
                b = s.recv(65536)
                if not b: raise OSError(0, "eof")
                x["got"] += b
                if len(x["got"]) >= len(x["msg"]):
                    sel.unregister(s)
                    if bytes(x["got"]) == x["msg"]:
                        echoed += 1; total += len(x["msg"])
                    else:
                        mismatched += 1
        except OSError:
            errors += 1; sel.unregister(s)
for s in st: s.close()
print(json.dumps({"connected": connected, "echoed": echoed, "errors": errors,
                  "mismatched": mismatched, "bytes": total}))
`;

interface Steps {
  error?: string;
  peek: [number, number];
  firstRead: number;
  firstBytes: string;
  partly: { lt: number[]; et: number[]; os: number[] };
  agree: {
    epoll: Record<string, number>;
    pollN: number;
    poll: number[];
    selectN: number;
    select: { rd: number[]; wr: number[]; ex: number[] };
    c: number;
    lfd: number;
  };
  newData: { et: number; os: number; osRearmed: number; osAfter: number };
  drain: { bytes: number; last: string; lt: number; et: number };
  rdhup: number;
  readAfterFin: number;
  resetBeforeAccept: { readable: number; accept: string; after: number; next: [number, number] };
  reset: { events: number; soError: number; write: string; writeAgain: string };
  connect: {
    open: { first: string; events: number; soError: number; echo: string };
    closed: { first: string; events: number; soError: number };
  };
}

describe('sys: epoll and BSD sockets with the kernel as peer', function () {
  this.timeout(120000);
  let bed: TestBed;
  let engine: Engine | undefined;
  let dir: string;

  async function start(app: string, env: Record<string, string> = {}): Promise<void> {
    Object.assign(process.env, env);
    engine = await startEngineOnBed(bed, app);
  }

  async function stop(): Promise<void> {
    const stopping = engine;
    engine = undefined;
    await stopEngineAndBed({ engine: stopping, bed, dir });
  }

  describe('one engine app stepped by a kernel client', function () {
    let r: Steps;
    let peerLog: Record<string, unknown>;

    // One run for all the cases below (a bed and an engine per case would take minutes).
    before(async function () {
      bed = await TestBed.up();
      dir = mkdtempSync(path.join(tmpdir(), 'c-sysk-'));
      const result = path.join(dir, 'steps.json');
      try {
        await start(peerApp, { XDPNET_SYS_RESULT: result, XDPNET_SYS_PEER: bed.peerIpv4 });
        const out = await runPeerPython(bed, PY_STEPS, [bed.engineIpv4, bed.peerIpv4], 60000);
        peerLog = JSON.parse(out) as Record<string, unknown>;
        r = await readResult<Steps>(result, 20000);
        assert.equal(r.error, undefined, r.error);
      } finally {
        await stop();
      }
    });

    it('MSG_PEEK leaves the data in place', function () {
      assert.deepEqual(r.peek, [100, 100]);
      assert.equal(r.firstRead, 10);
      assert.equal(r.firstBytes, 'A'.repeat(10)); // the peeked bytes are still the first ones
    });

    it('ET reports a partly read socket once, LT until drained, ONESHOT once until re-armed', function () {
      const inBits = EPOLLIN | EPOLLRDNORM;
      assert.deepEqual(
        r.partly.lt.map((e) => e & inBits),
        [EPOLLIN, EPOLLIN],
      );
      assert.deepEqual(r.partly.et, [EPOLLIN, 0]);
      assert.deepEqual(r.partly.os, [EPOLLIN, 0]);
      // New data from the kernel: a new ET edge; the disarmed ONESHOT stays silent until MOD.
      assert.equal(r.newData.et, EPOLLIN);
      assert.equal(r.newData.os, 0);
      assert.equal(r.newData.osRearmed, EPOLLIN);
      assert.equal(r.newData.osAfter, 0);
      assert.deepEqual(r.drain, { bytes: 140, last: 'EAGAIN', lt: 0, et: 0 });
    });

    it('poll ignores descriptor -1; select and poll agree with epollWait', function () {
      const { c, lfd } = r.agree;
      assert.deepEqual(r.agree.epoll, { [c]: EPOLLIN | EPOLLOUT });
      assert.equal(r.agree.pollN, 1);
      assert.deepEqual(r.agree.poll, [0, POLLIN | POLLOUT, 0]);
      assert.equal(r.agree.selectN, 2);
      assert.deepEqual(r.agree.select, { rd: [c], wr: [c], ex: [] });
      assert.notEqual(c, lfd);
    });

    it('reports RDHUP when the kernel shuts down its side; read returns 0 after the FIN', function () {
      assert.equal(r.rdhup & EPOLLRDHUP, EPOLLRDHUP);
      assert.equal(r.rdhup & (EPOLLERR | EPOLLHUP), 0); // our side still open
      assert.equal(r.readAfterFin, 0);
      assert.equal(peerLog.eofAfterClose, true);
    });

    it('accept after the client reset its queued connection returns EAGAIN; the next is served', function () {
      const x = r.resetBeforeAccept;
      assert.equal(x.readable, EPOLLIN);
      assert.equal(x.accept, 'EAGAIN');
      assert.equal(x.after, 0);
      assert.deepEqual(x.next, [EPOLLIN, 2]);
      assert.equal(peerLog.hi, 'hi');
      assert.equal(peerLog.controlEof, true);
    });

    it('reports ERR and HUP unasked on a kernel RST; SO_ERROR ECONNRESET, then write EPIPE', function () {
      assert.equal(r.reset.events & (EPOLLERR | EPOLLHUP), EPOLLERR | EPOLLHUP);
      assert.equal(r.reset.events & ~(EPOLLERR | EPOLLHUP), 0); // nothing else was asked for
      assert.equal(r.reset.soError, Errno.ECONNRESET);
      assert.equal(r.reset.write, 'EPIPE');
      assert.equal(r.reset.writeAgain, 'EPIPE');
    });

    it('non-blocking connect: EINPROGRESS, then writable with SO_ERROR 0 or ECONNREFUSED', function () {
      const { open, closed } = r.connect;
      assert.equal(open.first, 'EINPROGRESS');
      assert.equal(open.events, EPOLLOUT);
      assert.equal(open.soError, 0);
      assert.equal(open.echo, 'ping');
      assert.equal(closed.first, 'EINPROGRESS');
      assert.equal(closed.events & (EPOLLOUT | EPOLLERR), EPOLLOUT | EPOLLERR);
      assert.equal(closed.soError, Errno.ECONNREFUSED);
    });
  });

  describe('the epoll echo example', function () {
    beforeEach(async function () {
      bed = await TestBed.up();
      dir = mkdtempSync(path.join(tmpdir(), 'c-sysk-'));
    });

    afterEach(stop);

    it('echoes every byte of 1,000 concurrent kernel connections', async function () {
      this.timeout(150000);
      await start(epollEcho, { ECHO_PORT: '7' });
      const out = await runPeerPython(bed, PY_MANY_ECHO, [bed.engineIpv4, '7', '1000'], 90000);
      const r = JSON.parse(out) as Record<string, number>;
      assert.deepEqual(
        { connected: r.connected, echoed: r.echoed, errors: r.errors, mismatched: r.mismatched },
        { connected: 1000, echoed: 1000, errors: 0, mismatched: 0 },
      );
      assert.ok(r.bytes > 1000 * 1024, `echoed ${r.bytes} bytes`);
    });
  });
});
