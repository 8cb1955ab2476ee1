// nicInfo(): what a NIC says about its queues and RSS, on a 4-queue veth of the test bed (which
// reports its channels but none of its RSS: veth picks the receive queue by the sender's choice,
// not by a hash of its own) and on the loopback (which reports neither).
import assert from 'node:assert/strict';
import { TestBed } from '../../ts/testbed/testbed.js';
import {
  isUnsupported,
  nicInfo,
  type FlowType,
  type OffloadInfo,
} from '../../ts/dev/xdp/nic-info.js';

const FLOWS: FlowType[] = ['tcp4', 'udp4', 'tcp6', 'udp6'];

describe('nicInfo: queues and RSS as the driver reports them', function () {
  let bed: TestBed | undefined;

  afterEach(async function () {
    await bed?.down();
    bed = undefined;
  });

  it('reports a 4-queue veth: its queues, and that it has no RSS key, table or flow hash to report', async function () {
    bed = await TestBed.up({ queues: 4 });
    const info = nicInfo(bed.engineIf);
    assert.equal(info.driver, 'veth');
    assert.equal(info.rxQueues, 4);
    assert.equal(info.mac, bed.engineMac);
    assert.ok(!isUnsupported(info.channels));
    assert.deepEqual(
      [info.channels.rx, info.channels.tx, info.channels.maxRx, info.channels.combined],
      [4, 4, 4, 0],
    );
    assert.ok(isUnsupported(info.rss));
    assert.equal(info.rss.code, 'EOPNOTSUPP');
    assert.equal(
      info.rss.unsupported,
      'veth does not report its RSS key and indirection table (ETHTOOL_GRSSH: EOPNOTSUPP)',
    );
    assert.deepEqual(Object.keys(info.flowHash), FLOWS);
    for (const flow of FLOWS) {
      const hash = info.flowHash[flow];
      assert.ok(isUnsupported(hash), `${flow}: ${JSON.stringify(hash)}`);
      assert.equal(hash.code, 'EOPNOTSUPP');
      assert.match(hash.unsupported, new RegExp(`veth does not report .* for ${flow}`));
    }
    // Native XDP and redirect, multi-buffer RX, no AF_XDP zero-copy (netdev netlink).
    assert.ok(!isUnsupported(info.xdp), JSON.stringify(info.xdp));
    assert.deepEqual(info.xdp.xdpFeatures.slice(0, 2), ['basic', 'redirect']);
    assert.ok(info.xdp.xdpFeatures.includes('rx-sg'));
    assert.ok(!info.xdp.xdpFeatures.includes('xsk-zerocopy'));
    assert.ok(!isUnsupported(info.offloads));
    const offload = (name: string) => (info.offloads as OffloadInfo[]).find((o) => o.name === name);
    assert.equal(offload('rx-checksum')?.active, true);
    assert.equal(offload('rx-lro')?.active, false);
    // Plain data, for a --json report.
    assert.deepEqual(JSON.parse(JSON.stringify(info)), info);
  });

  it('reports the loopback, which has no channels either', function () {
    const info = nicInfo('lo');
    assert.equal(info.rxQueues, 1);
    assert.ok(isUnsupported(info.channels));
    assert.match(info.channels.unsupported, /does not report its channel counts/);
    assert.ok(isUnsupported(info.rss));
    // No native XDP on lo: only the kernel's generic XDP.
    assert.ok(!isUnsupported(info.xdp));
    assert.deepEqual(info.xdp.xdpFeatures, []);
    assert.deepEqual(JSON.parse(JSON.stringify(info)), info);
  });

  it('throws ENODEV for an interface that does not exist', function () {
    assert.throws(() => nicInfo('xn-no-such'), { code: 'ENODEV', message: /ip link/ });
  });
});
