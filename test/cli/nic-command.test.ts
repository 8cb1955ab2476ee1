// `xdpnet nic IFACE` (issue 14) as a user runs it, on a 4-queue veth of the test bed and on the
// loopback: what the interface reports (driver, queues, XDP features, zero-copy, RSS, offloads)
// and what the engine would do there, as text and as one JSON object. And engineOnNic, the plan
// behind it, for a NIC the bed cannot be: zero-copy capable with an RSS key and table.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TestBed } from '../../ts/testbed/testbed.js';
import { nodeXdp } from '../../ts/dev/xdp/native.js';
import type { NicInfo } from '../../ts/dev/xdp/nic-info.js';
import { engineOnNic, type EngineOnNic } from '../../ts/runtime/nic-plan.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const cli = path.join(here, '../../../bin/xdpnet.js');

function xdpnet(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [cli, ...args], { timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

type NicJson = NicInfo & { engine: EngineOnNic };

describe('xdpnet nic', function () {
  describe('on a 4-queue veth of the test bed', function () {
    let bed: TestBed | undefined;

    before(async function () {
      bed = await TestBed.up({ queues: 4 });
    });

    after(async function () {
      await bed?.down();
    });

    it('--json: the driver, queues, XDP features, RSS and offloads, and the engine plan', async function () {
      const r = await xdpnet(['nic', bed!.engineIf, '--json']);
      assert.equal(r.code, 0, r.stderr);
      const nic = JSON.parse(r.stdout) as NicJson;
      assert.equal(nic.name, bed!.engineIf);
      assert.equal(nic.driver, 'veth');
      assert.equal(nic.rxQueues, 4);
      assert.ok('xdpFeatures' in nic.xdp);
      assert.ok(nic.xdp.xdpFeatures.includes('redirect'));
      assert.ok(!nic.xdp.xdpFeatures.includes('xsk-zerocopy'));
      assert.equal((nic.rss as { code: string }).code, 'EOPNOTSUPP');
      assert.ok(Array.isArray(nic.offloads) && nic.offloads.length > 20);

      const engine = nic.engine;
      assert.deepEqual(engine.xdpMode, {
        mode: 'native',
        why: 'veth has native XDP with redirect',
      });
      assert.equal(engine.bindMode.mode, 'copy');
      assert.match(engine.bindMode.why, /^veth does not offer xsk-zerocopy/);
      assert.equal(engine.needWakeup.on, true);
      assert.match(engine.busyPoll.needs, /veth does not/);
      // veth reports no RSS: the engine steers in software, and refuses follow and program.
      assert.equal(engine.rss.mode, 'software');
      assert.match(engine.rss.why, /^veth does not report its RSS key and indirection table/);
      assert.match(engine.rss.follow, /ETHTOOL_GRSSH: EOPNOTSUPP\); use rss: 'software'/);
      assert.match(engine.rss.program, /use rss: 'software'/);
      const byCount = new Map(engine.workers.map((w) => [w.workers, w]));
      assert.deepEqual(byCount.get(1)?.queuesOf, [[0, 1, 2, 3]]);
      assert.equal(byCount.get(2)?.kind, 'steered');
      assert.deepEqual(byCount.get(2)?.queuesOf, [
        [0, 2],
        [1, 3],
      ]);
      assert.equal(byCount.get(4)?.isDefault, true);
      // Attaches nothing.
      assert.equal(nodeXdp().attachedXdpProgram(bed!.engineIf), null);
    });

    it('prints the same as text, and plans for --workers N alone, refusals explained', async function () {
      const r = await xdpnet(['nic', bed!.engineIf]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`^${bed!.engineIf}: driver veth, MTU 1500`));
      assert.match(r.stdout, /^ {2}XDP +basic, redirect/m);
      assert.match(r.stdout, /^ {2}zero-copy +no \(no xsk-zerocopy\)/m);
      assert.match(r.stdout, /^ {2}AF_XDP +copy mode: veth does not offer xsk-zerocopy/m);
      assert.match(r.stdout, /^ {2}offloads +rx-checksum on/m);
      assert.match(r.stdout, /^ {2}RSS +software: veth does not report its RSS key/m);
      assert.match(r.stdout, /^ +--rss follow: rss: 'follow' on /m);
      const five = await xdpnet(['nic', bed!.engineIf, '--workers', '5']);
      assert.equal(five.code, 0, five.stderr);
      assert.match(five.stdout, /^ {2}workers +5: refused \(ENOTSUP\)/m);
      assert.match(five.stdout, /Run 4 or fewer workers/);
    });
  });

  it('on the loopback: generic XDP, so copy mode and no busy polling to speak of', async function () {
    const r = await xdpnet(['nic', 'lo', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const { engine, xdp } = JSON.parse(r.stdout) as NicJson;
    assert.deepEqual(xdp, { xdpFeatures: [], xdpRxMetadata: [], xskFeatures: [] });
    assert.equal(engine.xdpMode.mode, 'generic');
    assert.equal(engine.bindMode.mode, 'copy');
    assert.match(engine.bindMode.why, /generic \(skb\) mode/);
    assert.match(engine.busyPoll.needs, /generic XDP never gives/);
    const text = await xdpnet(['nic', 'lo']);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^ {2}XDP +none: no native XDP \(generic XDP only\)/m);
  });

  it('fails with ENODEV for an interface that does not exist', async function () {
    const r = await xdpnet(['nic', 'xn-no-such']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^xdpnet: ENODEV: interface 'xn-no-such' not found/);
  });

  it('engineOnNic: zero-copy and RSS where a NIC reports them', function () {
    const info: NicInfo = {
      name: 'eth9',
      ifindex: 9,
      mac: '02:00:00:00:00:09',
      mtu: 1500,
      driver: 'ice',
      rxQueues: 8,
      channels: { rx: 0, tx: 0, combined: 8, other: 1, maxRx: 0, maxTx: 0, maxCombined: 64 },
      rss: {
        hashFunction: 'toeplitz',
        inputTransform: 'none',
        key: Array.from({ length: 52 }, (_, i) => i),
        indirectionTable: Array.from({ length: 512 }, (_, i) => i % 8),
      },
      flowHash: {
        tcp4: { fields: ['ip-src', 'ip-dst', 'src-port', 'dst-port'], bits: 0xf0 },
        udp4: { fields: ['ip-src', 'ip-dst'], bits: 0x30 },
        tcp6: { fields: ['ip-src', 'ip-dst', 'src-port', 'dst-port'], bits: 0xf0 },
        udp6: { fields: ['ip-src', 'ip-dst'], bits: 0x30 },
      },
      xdp: {
        xdpFeatures: ['basic', 'redirect', 'ndo-xmit', 'xsk-zerocopy', 'rx-sg'],
        xdpZcMaxSegs: 5,
      },
      offloads: [],
    };
    const plan = engineOnNic(info, 4);
    assert.equal(plan.xdpMode.mode, 'native');
    assert.deepEqual(plan.bindMode, { mode: 'zerocopy', why: 'ice offers xsk-zerocopy' });
    assert.equal(plan.rss.mode, 'follow');
    assert.match(plan.rss.why, /^ice reports its Toeplitz key \(52 bytes\) and 512-entry/);
    assert.equal(plan.rss.follow, 'possible');
    assert.equal(plan.rss.program, 'possible');
    assert.deepEqual(
      plan.rss.notes.map((n) => n.split(':')[0]),
      ['udp4', 'udp6'],
      'UDP hashed on addresses only is noted',
    );
    assert.deepEqual(
      plan.workers.map((w) => [w.workers, w.kind, w.isDefault]),
      [
        [1, 'xdp', false],
        [2, 'steered', false],
        [4, 'steered', false],
        [8, 'steered', true],
      ],
    );
    // A driver with native XDP but no redirect would drop what the program redirects: generic.
    const noRedirect = engineOnNic({ ...info, xdp: { xdpFeatures: ['basic'] } }, 4);
    assert.equal(noRedirect.xdpMode.mode, 'generic');
    assert.equal(noRedirect.bindMode.mode, 'copy');
  });
});
