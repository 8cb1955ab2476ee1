// The AF_XDP bind mode chosen from the driver's features (issue 14): zero-copy where the netdev
// family says xsk-zerocopy, copy mode elsewhere, copy mode again when a zero-copy bind fails, and
// the reason kept. veth has native XDP but no AF_XDP zero-copy, so on the test bed 'auto' binds in
// copy mode; told (falsely) that veth offers zero-copy, the binding tries it, the kernel refuses,
// and it falls back to copy mode saying why.
import assert from 'node:assert/strict';
import { TestBed } from '../../ts/testbed/testbed.js';
import { XdpBinding } from '../../ts/dev/xdp/xdp-binding.js';
import { chooseBindMode } from '../../ts/dev/xdp/bind-mode.js';
import { nodeXdp } from '../../ts/dev/xdp/native.js';

const ZERO_COPY = {
  features: { xdpFeatures: ['basic', 'redirect', 'xsk-zerocopy'], xdpFeaturesBits: 11 },
};
const VETH = { features: { xdpFeatures: ['basic', 'redirect', 'rx-sg'], xdpFeaturesBits: 35 } };

describe('AF_XDP bind mode from the driver features', function () {
  describe('chooseBindMode', function () {
    it('takes zero-copy where the driver offers it, copy mode where it does not', function () {
      assert.deepEqual(chooseBindMode('auto', 'native', 'ice', ZERO_COPY), {
        mode: 'zerocopy',
        why: 'ice offers xsk-zerocopy',
      });
      assert.deepEqual(chooseBindMode('auto', 'native', 'veth', VETH), {
        mode: 'copy',
        why: 'veth does not offer xsk-zerocopy (xdp-features: basic, redirect, rx-sg)',
      });
    });

    it('copies under generic XDP, leaves it to the kernel where the kernel does not say, and obeys an explicit mode', function () {
      assert.equal(chooseBindMode('auto', 'generic', 'ice', ZERO_COPY).mode, 'copy');
      assert.match(chooseBindMode('auto', 'generic', 'ice', ZERO_COPY).why, /generic \(skb\) mode/);
      const old = { unsupported: { code: 'ENOENT', message: 'no netdev family' } };
      assert.deepEqual(chooseBindMode('auto', 'native', 'ice', old), {
        mode: 'auto',
        why: 'no netdev family; the kernel tried zero-copy itself',
      });
      assert.equal(chooseBindMode('copy', 'native', 'ice', ZERO_COPY).mode, 'copy');
      assert.equal(chooseBindMode('zerocopy', 'native', 'veth', VETH).mode, 'zerocopy');
    });
  });

  describe('on the test bed (veth)', function () {
    let bed: TestBed | undefined;
    let binding: XdpBinding | undefined;

    beforeEach(async function () {
      bed = await TestBed.up();
    });

    afterEach(async function () {
      try {
        binding?.close();
      } finally {
        binding = undefined;
        await bed?.down();
      }
    });

    it("binds in copy mode by default, because veth's features have no xsk-zerocopy", function () {
      const features = nodeXdp().nicXdpFeatures(bed!.engineIf).features;
      assert.ok(features, 'this kernel has the netdev family (Linux 6.3+)');
      assert.ok(!features.xdpFeatures.includes('xsk-zerocopy'));
      binding = XdpBinding.open({ ifname: bed!.engineIf, ipv4: [bed!.engineIpv4] });
      const facts = binding.facts;
      assert.equal(facts.xdpMode, 'native');
      assert.equal(facts.bindMode, 'copy');
      assert.equal(facts.zeroCopy, false);
      assert.equal(facts.needWakeup, true);
      assert.equal(facts.busyPoll, false);
      assert.match(
        facts.bindModeWhy,
        /^veth does not offer xsk-zerocopy \(xdp-features: basic, redirect/,
      );
    });

    it('falls back to copy mode when a zero-copy bind fails, and records why', function () {
      binding = XdpBinding.open({
        ifname: bed!.engineIf,
        ipv4: [bed!.engineIpv4],
        xdpFeatures: ZERO_COPY,
      });
      const facts = binding.facts;
      assert.equal(facts.bindMode, 'copy');
      assert.equal(binding.sockets[0].mode, 'copy');
      assert.match(
        facts.bindModeWhy,
        /^veth offers xsk-zerocopy, but the zero-copy bind failed \(EOPNOTSUPP: .*\); copy mode instead$/,
      );
      // The facts outlive the binding, for reports made after stop.
      binding.close();
      assert.equal(binding.facts.bindMode, 'copy');
      assert.equal(binding.facts.queues, 1);
    });

    it('fails when zero-copy is asked for and the driver cannot', function () {
      assert.throws(() => XdpBinding.open({ ifname: bed!.engineIf, bindMode: 'zerocopy' }), {
        code: 'EOPNOTSUPP',
        message: /zero-copy required but driver 'veth' does not support it/,
      });
      assert.equal(nodeXdp().attachedXdpProgram(bed!.engineIf), null);
    });
  });
});
