// The edges of a connection's life with a kernel client and an engine server (apps/scenario.ts),
// run over IPv4 by kernel-peer.test.ts and over IPv6 by transfer.test.ts: each starts one engine
// scenario, drives it with a Python client from edge-scripts.ts and checks both sides' accounts.
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestBed } from '../../ts/testbed/testbed.js';
import { runPeerPython } from '../support/peer-namespace.js';
import { readResult } from '../support/result-file.js';
import {
  PY_CLOSE_SECOND,
  PY_EXPECT_RESET,
  PY_READ_THEN_CLOSE,
  PY_RESET_BEFORE_ACCEPT,
} from './edge-scripts.js';

export const scenarioApp = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  'apps/scenario.js',
);

/** The environment that makes apps/scenario.ts run `name` and write its account to `result`. */
export function scenarioEnv(name: string, result: string): Record<string, string> {
  return { XDPNET_TK_SCENARIO: name, XDPNET_TK_RESULT: result };
}

export interface EdgeRun {
  bed: TestBed;
  /** The engine's address in the family under test. */
  engineAddress: string;
  /** Starts the engine on apps/scenario.ts running `name`, its account going to `result`. */
  scenario(name: string): Promise<void>;
  result: string;
}

/** A server that keeps writing gets EPIPE or ECONNRESET once the client closed with data unread. */
export async function serverWritesPastClose(run: EdgeRun): Promise<void> {
  await run.scenario('write-until-error');
  const got = Number(await runPeerPython(run.bed, PY_READ_THEN_CLOSE, [run.engineAddress, '7001']));
  assert.ok(got >= 65536, `read ${got} bytes`);
  const r = await readResult<{ error: string }>(run.result, 25000);
  assert.ok(['EPIPE', 'ECONNRESET'].includes(r.error), JSON.stringify(r));
}

/** resetAndDestroy (SO_LINGER {1,0}): the client gets ECONNRESET, the engine holds no TIME-WAIT. */
export async function serverResets(run: EdgeRun): Promise<void> {
  await run.scenario('reset');
  assert.equal(
    await runPeerPython(run.bed, PY_EXPECT_RESET, [run.engineAddress, '7002']),
    'ECONNRESET',
  );
  const r = await readResult<{ timeWait: number; connections: number }>(run.result, 10000);
  assert.equal(r.timeWait, 0);
  assert.equal(r.connections, 0);
}

/**
 * The engine server closes first and holds TIME-WAIT; listening again on the port needs
 * SO_REUSEADDR. Returns the engine's account for further checks.
 */
export async function serverHoldsTimeWait(run: EdgeRun): Promise<Record<string, unknown>> {
  await run.scenario('time-wait');
  const echoed = await runPeerPython(run.bed, PY_CLOSE_SECOND, [run.engineAddress, '7003', '1.5']);
  const r = await readResult<Record<string, unknown>>(run.result, 10000);
  assert.equal(r.timeWait, 1, JSON.stringify(r));
  assert.equal(r.withoutReuse, -98, JSON.stringify(r)); // EADDRINUSE
  assert.equal(r.relisten, 'ok', JSON.stringify(r));
  assert.equal(echoed, 'again');
  return r;
}

/** Clients that reset before their connection is accepted leave the listener serving. */
export async function serverSurvivesResetBeforeAccept(run: EdgeRun): Promise<void> {
  await run.scenario('echo');
  await readResult(run.result, 10000);
  const out = await runPeerPython(run.bed, PY_RESET_BEFORE_ACCEPT, [run.engineAddress, '7004']);
  const [echoed, seconds] = out.split(' ');
  assert.equal(echoed, 'hello');
  assert.ok(Number(seconds) < 2, `the echo took ${seconds} s`);
}
