// rss: 'follow' and 'program' on a NIC the test bed cannot be (veth reports no RSS): a fake NIC
// reading with its own key and indirection table. Ownership and connect()'s source ports computed
// from the choice must agree with where that NIC, hashing with its own key and table (the
// bit-serial reference hash, not the engine's table-driven one), puts each flow.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chooseRss, type RssChoice } from '../../ts/runtime/rss-choice.js';
import { planBinding } from '../../ts/runtime/binding-plan.js';
import type { NicRssReading, RssInfo } from '../../ts/dev/xdp/nic-info.js';
import { createSteeringLayout, FlowOwner } from '../../ts/dev/steering/index.js';
import {
  Reta,
  ToeplitzHasher,
  pickEphemeralPort,
  queueTableSpreading,
  retaFollowingQueues,
  toeplitzHash,
  type RetaSize,
} from '../../ts/rss/index.js';

const FOUR_TUPLE = { fields: ['ip-src', 'ip-dst', 'src-port', 'dst-port'], bits: 0xf0 };

/** A NIC that hashes the 4-tuple with `rss`'s key and table. */
function fakeNic(rss: Partial<RssInfo> & Pick<RssInfo, 'key' | 'indirectionTable'>): NicRssReading {
  return {
    name: 'eth7',
    driver: 'mlx5_core',
    rss: { hashFunction: 'toeplitz', inputTransform: 'none', ...rss },
    flowHash: { tcp4: FOUR_TUPLE, udp4: FOUR_TUPLE, tcp6: FOUR_TUPLE, udp6: FOUR_TUPLE },
  };
}

/** A table over `queues` queues in a scrambled order, as a driver may fill it. */
function scrambledTable(entries: number, queues: number): number[] {
  const bytes = randomBytes(entries);
  return Array.from(bytes, (b) => b % queues);
}

/** The RX queue the NIC picks for a flow (tuple bytes in RSS order). */
function nicQueue(nic: NicRssReading, tuple: Uint8Array): number {
  const rss = nic.rss as RssInfo;
  const hash = toeplitzHash(Uint8Array.from(rss.key), tuple);
  return rss.indirectionTable[hash % rss.indirectionTable.length];
}

function tuple(src: Uint8Array, dst: Uint8Array, sport: number, dport: number): Uint8Array {
  const t = new Uint8Array(2 * src.length + 4);
  t.set(src, 0);
  t.set(dst, src.length);
  new DataView(t.buffer).setUint16(2 * src.length, sport);
  new DataView(t.buffer).setUint16(2 * src.length + 2, dport);
  return t;
}

/** An Ethernet frame of a TCP segment from `src`:`sport` to `dst`:`dport` (IPv4 or IPv6). */
function tcpFrame(src: Uint8Array, dst: Uint8Array, sport: number, dport: number): Uint8Array {
  const v6 = src.length === 16;
  const l3 = 14;
  const l4 = l3 + (v6 ? 40 : 20);
  const frame = new Uint8Array(l4 + 20);
  const view = new DataView(frame.buffer);
  view.setUint16(12, v6 ? 0x86dd : 0x0800);
  if (v6) {
    frame[l3] = 0x60;
    frame[l3 + 6] = 6;
    frame.set(src, l3 + 8);
    frame.set(dst, l3 + 24);
  } else {
    frame[l3] = 0x45;
    frame[l3 + 9] = 6;
    frame.set(src, l3 + 12);
    frame.set(dst, l3 + 16);
  }
  view.setUint16(l4, sport);
  view.setUint16(l4 + 2, dport);
  return frame;
}

function randomAddress(family: 4 | 6): Uint8Array {
  return Uint8Array.from(randomBytes(family === 4 ? 4 : 16));
}

/** The owner steered workers compute for a frame, from the choice's key and RETA. */
function ownerOf(choice: RssChoice, workers: number): FlowOwner {
  const layout = createSteeringLayout({ workers, frames: 64, key: choice.key, reta: choice.reta });
  return FlowOwner.forLayout(layout);
}

/** Checks 500 random flows of each family: the engine's owner reads the NIC's queue. */
function assertOwnershipAgrees(
  nic: NicRssReading,
  choice: RssChoice,
  queues: number,
  workers: number,
) {
  const plan = planBinding(nic.name, workers, queues);
  const owner = ownerOf(choice, workers);
  for (const family of [4, 6] as const) {
    for (let i = 0; i < 500; i++) {
      const [src, dst] = [randomAddress(family), randomAddress(family)];
      const [sport, dport] = [1 + ((i * 131) % 65535), 1 + ((i * 977) % 65535)];
      const queue = nicQueue(nic, tuple(src, dst, sport, dport));
      const expected = plan.queuesOf.findIndex((q) => q.includes(queue));
      const frame = tcpFrame(src, dst, sport, dport);
      assert.equal(owner.ownerOf(frame, 0, frame.length), expected);
    }
  }
}

describe("rss: 'follow' and 'program' against a NIC's own key and table", function () {
  it('follow: every flow is owned by the worker that reads the queue the NIC puts it on', function () {
    for (const [entries, queues, workers] of [
      [128, 4, 2],
      [64, 4, 4],
      [256, 8, 3],
      [512, 6, 6],
      [32, 2, 1],
    ]) {
      const nic = fakeNic({
        key: Array.from(randomBytes(40)),
        indirectionTable: scrambledTable(entries, queues),
      });
      const choice = chooseRss(undefined, nic, planBinding(nic.name, workers, queues));
      assert.equal(choice.mode, 'follow', choice.why);
      assert.equal(choice.requested, 'default');
      assert.deepEqual(choice.notes, []);
      assert.equal(choice.program, undefined, 'following writes nothing');
      assertOwnershipAgrees(nic, choice, queues, workers);
    }
  });

  it("follow: connect()'s ports bring the replies to the calling worker's own queue", function () {
    const queues = 4;
    const workers = 2;
    const nic = fakeNic({
      key: Array.from(randomBytes(52)),
      indirectionTable: scrambledTable(128, queues),
    });
    const plan = planBinding(nic.name, workers, queues);
    const choice = chooseRss('follow', nic, plan);
    // The stack worker builds these from its config (rssKey, reta), as stack-worker.ts does.
    const hasher = new ToeplitzHasher(choice.key);
    const reta = new Reta(workers, choice.reta.length as RetaSize);
    reta.table.set(choice.reta);
    for (const family of [4, 6] as const) {
      const [local, remote] = [randomAddress(family), randomAddress(family)];
      for (let worker = 0; worker < workers; worker++) {
        for (let k = 0; k < 50; k++) {
          const port = pickEphemeralPort({
            hasher,
            reta,
            worker,
            localAddr: local,
            remoteAddr: remote,
            remotePort: 80,
          });
          // The reply comes from the peer: source = remote:80, destination = local:port.
          const queue = nicQueue(nic, tuple(remote, local, 80, port));
          assert.ok(plan.queuesOf[worker].includes(queue), `port ${port}: queue ${queue}`);
        }
      }
    }
  });

  it('follow: a table larger than 512 entries is followed where it repeats every 512', function () {
    const repeating = scrambledTable(512, 8);
    const table = [...repeating, ...repeating, ...repeating, ...repeating];
    const nic = fakeNic({ key: Array.from(randomBytes(40)), indirectionTable: table });
    const choice = chooseRss('follow', nic, planBinding(nic.name, 8, 8));
    assert.equal(choice.reta.length, 512);
    assertOwnershipAgrees(nic, choice, 8, 8);
    table[600] = (table[600] + 1) % 8;
    assert.throws(() => retaFollowingQueues(table, (q) => q), { code: 'ENOTSUP' });
  });

  it('follow is refused (ENOTSUP) where the engine cannot hash as the NIC does; the default falls back', function () {
    const table = scrambledTable(128, 4);
    const key = Array.from(randomBytes(40));
    const plan = planBinding('eth7', 2, 4);
    for (const [nic, why] of [
      [
        fakeNic({ key, indirectionTable: table, hashFunction: 'xor' }),
        /hashes with 'xor', not Toeplitz/,
      ],
      [
        fakeNic({ key, indirectionTable: table, inputTransform: 'sym-xor' }),
        /transforms the fields \(sym-xor\)/,
      ],
      [
        fakeNic({ key: key.slice(0, 16), indirectionTable: table }),
        /16-byte key; IPv6 flows need 40/,
      ],
      [
        fakeNic({ key, indirectionTable: table.slice(0, 96) }),
        /96-entry indirection table is not a power of two/,
      ],
    ] as const) {
      assert.throws(
        () => chooseRss('follow', nic, plan),
        (err: Error & { code?: string }) => {
          assert.equal(err.code, 'ENOTSUP');
          assert.match(err.message, why);
          assert.match(err.message, /^rss: 'follow' on eth7: .*; use rss: 'software'/);
          return true;
        },
      );
      const fallback = chooseRss(undefined, nic, plan);
      assert.equal(fallback.mode, 'software');
      assert.match(fallback.why, why);
      assert.deepEqual(Array.from(fallback.reta), Array.from(new Reta(2, 128).table));
    }
  });

  it('with more workers than queues the dispatcher decides: follow and program refused', function () {
    const nic = fakeNic({ key: Array.from(randomBytes(40)), indirectionTable: Array(128).fill(0) });
    const plan = planBinding(nic.name, 4, 1);
    assert.equal(plan.kind, 'dispatch');
    assert.equal(chooseRss(undefined, nic, plan).mode, 'software');
    for (const mode of ['follow', 'program'] as const) {
      assert.throws(() => chooseRss(mode, nic, plan), /the dispatcher spreads queue 0/);
    }
  });

  it("program: writes the engine's key and a table the engine then follows; the NIC's own go back", function () {
    const original = scrambledTable(256, 8);
    const originalKey = Array.from(randomBytes(52));
    const nic = fakeNic({ key: originalKey, indirectionTable: original, hashFunction: 'xor' });
    nic.flowHash.udp4 = { fields: ['ip-src', 'ip-dst'], bits: 0x30 };
    const workers = 3;
    const plan = planBinding(nic.name, workers, 8);
    const choice = chooseRss('program', nic, plan);
    assert.equal(choice.mode, 'program');
    const { apply, restore } = choice.program!;
    assert.deepEqual(apply.rss.indirectionTable, queueTableSpreading(256, workers));
    assert.equal(apply.rss.key.length, 52, "the NIC's key size");
    assert.equal(apply.rss.hashFunction, 'toeplitz');
    assert.deepEqual(apply.flowHashes, [{ flow: 'udp4', bits: 0xf0 }]);
    assert.deepEqual(restore.rss.indirectionTable, original);
    assert.deepEqual(restore.rss.key, originalKey);
    assert.equal(restore.rss.hashFunction, 'xor');
    assert.deepEqual(restore.flowHashes, [{ flow: 'udp4', bits: 0x30 }]);
    assert.deepEqual(choice.notes, [], 'every flow type hashes the 4-tuple once written');
    // Once written, the NIC hashes with what 'program' wrote: ownership agrees with that.
    const written = fakeNic({ key: apply.rss.key, indirectionTable: apply.rss.indirectionTable });
    assertOwnershipAgrees(written, choice, 8, workers);
  });

  it('where the driver reports no RSS (veth), follow and program name it and say to use software', function () {
    const veth: NicRssReading = {
      name: 'xn-veth0',
      driver: 'veth',
      rss: {
        code: 'EOPNOTSUPP',
        unsupported:
          'veth does not report its RSS key and indirection table (ETHTOOL_GRSSH: EOPNOTSUPP)',
      },
      flowHash: fakeNic({ key: [], indirectionTable: [] }).flowHash,
    };
    const plan = planBinding(veth.name, 2, 2);
    const choice = chooseRss(undefined, veth, plan);
    assert.equal(choice.mode, 'software');
    assert.match(choice.why, /^veth does not report .*, so the engine uses its own Toeplitz key/);
    assert.equal(chooseRss('software', veth, plan).requested, 'software');
    assert.throws(() => chooseRss('program', veth, plan), {
      code: 'ENOTSUP',
      message:
        "rss: 'program' on xn-veth0: veth does not report its RSS key and indirection table " +
        "(ETHTOOL_GRSSH: EOPNOTSUPP); use rss: 'software' (--rss software), which steers " +
        'flows between the workers instead',
    });
    assert.throws(() => chooseRss('bogus' as never, veth, plan), { code: 'EINVAL' });
  });
});
