// TCP on the engine against the Linux kernel as the peer (test bed: veth + AF_XDP + netns), the
// edges of a connection's life: the peer going away under a writer, SO_LINGER {1,0} resets,
// TIME-WAIT on the active closer and SO_REUSEADDR, connections reset before accept, a thousand
// concurrent connections, and 20 MB both ways through 1% loss.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TestBed } from '../../ts/testbed/testbed.js';
import { Engine } from '../../ts/runtime/engine.js';
import {
  PY_CLOSE_SECOND,
  PY_EXPECT_RESET,
  PY_READ_THEN_CLOSE,
  PY_RESET_BEFORE_ACCEPT,
} from './edge-scripts.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const scenarioApp = path.join(here, 'apps/scenario.js');
const echoApp = path.join(here, '../../examples/tcp-echo.js');

// N connections opened at once with selectors, all held open until every one has echoed its own
// message; bounded by a deadline. Prints connected/echoed counts.
const PY_MANY = `
import json, resource, selectors, socket, sys, time
host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
resource.setrlimit(resource.RLIMIT_NOFILE, (n + 256, n + 256))
sel = selectors.DefaultSelector()
deadline = time.monotonic() + 40
state = {}
for i in range(n):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setblocking(False)
    s.connect_ex((host, port))
    msg = ("conn-%05d;" % i).encode()
    state[s] = {"msg": msg, "sent": False, "got": b""}
    sel.register(s, selectors.EVENT_WRITE)
connected = echoed = errors = 0
while echoed + errors < n and time.monotonic() < deadline:
    for key, ev in sel.select(timeout=1):
        s = key.fileobj; st = state[s]
        try:
            if not st["sent"]:
                err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err: raise OSError(err, "connect")
                connected += 1
                s.send(st["msg"]); st["sent"] = True
                sel.modify(s, selectors.EVENT_READ)
            else:
                b = s.recv(64)
                if not b: raise OSError(0, "eof")
                st["got"] += b
                if st["got"] == st["msg"]:
                    echoed += 1; sel.unregister(s)
        except OSError:
            errors += 1; sel.unregister(s)
open_at_end = sum(1 for s in state if s.fileno() >= 0)
for s in state: s.close()
print(json.dumps({"connected": connected, "echoed": echoed, "errors": errors, "open": open_at_end}))
`;

// Sends N random bytes (a thread writes while the main thread reads), half-closes, reads the echo
// to EOF; prints whether the SHA-256 of what came back matches what went.
const PY_ECHO_SHA = `
import hashlib, json, os, socket, sys, threading
host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.create_connection((host, port), timeout=60)
data = os.urandom(n)
def send():
    s.sendall(data); s.shutdown(socket.SHUT_WR)
t = threading.Thread(target=send); t.start()
h = hashlib.sha256(); got = 0
while True:
    b = s.recv(65536)
    if not b: break
    h.update(b); got += len(b)
t.join()
print(json.dumps({"match": h.hexdigest() == hashlib.sha256(data).hexdigest(), "got": got}))
`;

describe('tcp-kernel: connection edges with the kernel as peer', function () {
  let bed: TestBed;
  let engine: Engine | undefined;
  let dir: string;
  let result: string;

  async function start(app: string, env: Record<string, string> = {}): Promise<void> {
    Object.assign(process.env, env);
    engine = await Engine.start({
      ifname: bed.engineIf,
      ipv4: [`${bed.engineIpv4}/${bed.ipv4Prefix}`],
      ipv6: [`${bed.engineIpv6}/${bed.ipv6Prefix}`],
      app,
      workers: 1,
    });
  }

  function scenario(name: string): Promise<void> {
    return start(scenarioApp, { XDPNET_TK_SCENARIO: name, XDPNET_TK_RESULT: result });
  }

  async function readResult<T>(file: string, ms: number): Promise<T> {
    const end = Date.now() + ms;
    while (!existsSync(file) && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    assert.ok(existsSync(file), `no result in ${file} after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50)); // the write completes
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  }

  async function py(script: string, args: string[], timeoutMs = 30000): Promise<string> {
    const r = await bed.exec(['python3', '-c', script, ...args], { timeoutMs });
    assert.equal(r.code, 0, r.stderr);
    return r.stdout.trim();
  }

  async function peerRetransSegs(): Promise<number> {
    const r = await bed.exec(['nstat', '-az', 'TcpRetransSegs']);
    const m = /TcpRetransSegs\s+(\d+)/.exec(r.stdout);
    assert.ok(m, r.stdout + r.stderr);
    return Number(m[1]);
  }

  beforeEach(async function () {
    bed = await TestBed.up();
    dir = mkdtempSync(path.join(tmpdir(), 'h16-tcpk-'));
    result = path.join(dir, 'result.json');
  });

  afterEach(async function () {
    try {
      const audit = await engine?.stop();
      if (audit) assert.ok(audit.ok && audit.audited, audit.problems.join('; '));
    } finally {
      engine = undefined;
      await bed?.down();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('gives a server that keeps writing EPIPE or ECONNRESET once the client has closed', async function () {
    await scenario('write-until-error');
    const got = Number(await py(PY_READ_THEN_CLOSE, [bed.engineIpv4, '7001']));
    assert.ok(got >= 65536, `read ${got} bytes`);
    const r = await readResult<{ error: string; written: number }>(result, 25000);
    assert.ok(['EPIPE', 'ECONNRESET'].includes(r.error), JSON.stringify(r));
  });

  it('resets on resetAndDestroy (SO_LINGER {1,0}): the peer gets ECONNRESET, no TIME-WAIT here', async function () {
    await scenario('reset');
    assert.equal(await py(PY_EXPECT_RESET, [bed.engineIpv4, '7002']), 'ECONNRESET');
    const r = await readResult<{ timeWait: number; connections: number }>(result, 10000);
    assert.equal(r.timeWait, 0);
    assert.equal(r.connections, 0);
  });

  it('holds TIME-WAIT as the active closer; relisten needs SO_REUSEADDR', async function () {
    await scenario('time-wait');
    const echoed = await py(PY_CLOSE_SECOND, [bed.engineIpv4, '7003', '1.5']);
    const r = await readResult<Record<string, unknown>>(result, 10000);
    assert.equal(r.timeWait, 1, JSON.stringify(r));
    assert.equal(r.connections, 1, JSON.stringify(r)); // the TIME-WAIT connection
    assert.equal(r.withoutReuse, -98, JSON.stringify(r)); // EADDRINUSE
    assert.equal(r.relisten, 'ok', JSON.stringify(r));
    assert.equal(echoed, 'again');
  });

  it('keeps accepting when clients reset before their connection is accepted', async function () {
    await scenario('echo');
    await readResult(result, 10000);
    const [echoed, seconds] = (await py(PY_RESET_BEFORE_ACCEPT, [bed.engineIpv4, '7004'])).split(
      ' ',
    );
    assert.equal(echoed, 'hello');
    assert.ok(Number(seconds) < 2, `the echo took ${seconds} s`);
  });

  it('holds 1000 concurrent connections from the kernel and serves every one', async function () {
    this.timeout(90000);
    await start(echoApp);
    const out = await py(PY_MANY, [bed.engineIpv4, '7', '1000'], 60000);
    const r = JSON.parse(out) as { connected: number; echoed: number; errors: number };
    assert.deepEqual(r, { connected: 1000, echoed: 1000, errors: 0, open: 1000 });
  });

  it('moves 20 MB each way with matching SHA-256 through 1% loss', async function () {
    this.timeout(150000);
    await bed.setNetem({ lossPct: 1 });
    await start(echoApp);
    const n = 20 * 1024 * 1024;
    const retrans0 = await peerRetransSegs();
    const out = await py(PY_ECHO_SHA, [bed.engineIpv4, '7', String(n)], 120000);
    assert.deepEqual(JSON.parse(out), { match: true, got: n });
    // The loss was real: the kernel had to resend what the filter dropped.
    assert.ok((await peerRetransSegs()) > retrans0, 'the peer retransmitted nothing');
  });
});
