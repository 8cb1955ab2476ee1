// An engine on the test bed's engine-side interface, holding the bed's addresses, and the
// teardown of a test that ran one: the engine stops first and its frame audit must pass; the
// peer's processes, the bed and the result directory go away whatever happened before.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import type { TestBed } from '../../ts/testbed/testbed.js';
import { Engine, type EngineOptions } from '../../ts/runtime/engine.js';

/** One worker running `app`, unless `extra` says otherwise. */
export function startEngineOnBed(
  bed: TestBed,
  app: string,
  extra: Partial<EngineOptions> = {},
): Promise<Engine> {
  return Engine.start({
    ifname: bed.engineIf,
    ipv4: [`${bed.engineIpv4}/${bed.ipv4Prefix}`],
    ipv6: [`${bed.engineIpv6}/${bed.ipv6Prefix}`],
    app,
    workers: 1,
    ...extra,
  });
}

export interface BedTeardown {
  engine: Engine | undefined;
  bed: TestBed | undefined;
  /** Processes in the bed's namespaces, killed (if still running) before the bed goes down. */
  children?: ChildProcess[];
  /** A temporary directory of result files, removed last. */
  dir?: string;
  /** The audit must have covered every frame, not only found no problem (default true). */
  requireFullAudit?: boolean;
}

export async function stopEngineAndBed(t: BedTeardown): Promise<void> {
  try {
    const audit = await t.engine?.stop();
    if (audit) {
      const clean = t.requireFullAudit === false ? audit.ok : audit.ok && audit.audited;
      assert.ok(clean, audit.problems.join('; '));
    }
  } finally {
    for (const c of t.children ?? []) if (c.exitCode === null) c.kill('SIGKILL');
    await t.bed?.down();
    if (t.dir !== undefined) rmSync(t.dir, { recursive: true, force: true });
  }
}
