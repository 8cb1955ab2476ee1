// The result files the worker apps of the kernel-peer tests write: one JSON document each,
// written once when the app has its answer.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Waits up to `ms` for `file` to appear, then parses it. */
export async function readResult<T>(file: string, ms: number): Promise<T> {
  const end = Date.now() + ms;
  while (!existsSync(file) && Date.now() < end) await sleep(50);
  assert.ok(existsSync(file), `no result in ${file} after ${ms} ms`);
  await sleep(50); // the write completes
  return JSON.parse(readFileSync(file, 'utf8')) as T;
}
