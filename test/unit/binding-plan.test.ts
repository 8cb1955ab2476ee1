// The queue plan's frame rule (binding-plan.ts checkFrameFit), which both Engine.start and
// `xdpnet nic` apply: frames too large for one UMEM frame need multi-buffer descriptor chains,
// which only the device a single worker reads on a one-queue interface gathers.
import assert from 'node:assert/strict';
import { checkFrameFit, planBinding } from '../../ts/runtime/binding-plan.js';

const enotsup = (mtu: number, queues: number, workers: number) => ({
  code: 'ENOTSUP',
  message:
    `MTU ${mtu} needs multi-buffer frames, which run on an interface with one queue and one ` +
    `worker (got ${queues} queues, ${workers} workers)`,
});

describe('binding plan: frames that need multi-buffer chains', function () {
  it('takes MTU 9000 with one worker on one queue only', function () {
    checkFrameFit(planBinding('eth0', 1, 1), 9000);
    assert.throws(() => checkFrameFit(planBinding('eth0', 1, 4), 9000), enotsup(9000, 4, 1));
    assert.throws(() => checkFrameFit(planBinding('eth0', 2, 4), 9000), enotsup(9000, 4, 2));
    // More workers than the one queue: the dispatcher moves one descriptor per packet.
    assert.throws(() => checkFrameFit(planBinding('eth0', 2, 1), 9000), enotsup(9000, 1, 2));
  });

  it('takes any plan whose frames fit one UMEM frame', function () {
    for (const [workers, queues] of [
      [1, 1],
      [1, 4],
      [2, 4],
      [4, 1],
    ]) {
      const plan = planBinding('eth0', workers, queues);
      checkFrameFit(plan, 1500);
      // 3000 + 14 bytes fit a 4096-byte frame past the kernel's 256 bytes of XDP headroom.
      checkFrameFit(plan, 3000, 4096, 0);
      // ...but not a 2048-byte one: a chain, which only one worker on one queue takes.
      if (workers === 1 && queues === 1) checkFrameFit(plan, 3000);
      else assert.throws(() => checkFrameFit(plan, 3000), { code: 'ENOTSUP' });
    }
  });
});
