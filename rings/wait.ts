// Parking helpers shared by both ring sides. A side parks on the *other* side's index word: the
// word changes exactly when there is something new to look at, so no separate doorbell is needed.

/** Result of parking on an index word: woken/changed ('ok' or 'not-equal') or 'timed-out'. */
export type WaitOutcome = 'ok' | 'not-equal' | 'timed-out';

interface WaitAsyncResult {
  async: boolean;
  value: WaitOutcome | Promise<WaitOutcome>;
}

// Atomics.waitAsync is in Node >= 16 but only in TypeScript's ES2024 lib; the project targets ES2022.
const waitAsync = (
  Atomics as unknown as {
    waitAsync(a: Int32Array, i: number, v: number, t?: number): WaitAsyncResult;
  }
).waitAsync;

/** Blocks the thread while `ctl[word] === seen` (at most `timeoutMs`). */
export function parkSync(
  ctl: Int32Array,
  word: number,
  seen: number,
  timeoutMs: number,
): WaitOutcome {
  return Atomics.wait(ctl, word, seen | 0, timeoutMs);
}

/** Like parkSync but yields to the event loop instead of blocking the thread. */
export function parkAsync(
  ctl: Int32Array,
  word: number,
  seen: number,
  timeoutMs: number,
): Promise<WaitOutcome> {
  const r = waitAsync(ctl, word, seen | 0, timeoutMs);
  return r.async ? (r.value as Promise<WaitOutcome>) : Promise.resolve(r.value as WaitOutcome);
}
