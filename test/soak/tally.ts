// What happened in one simulated hour, counted; and what should not have happened, with the
// first few cases described for the failure message.

export class Tally {
  /** Client connects started, by kind. */
  exchanges = 0;
  keepAlives = 0;
  churnClients = 0;
  /** Clients whose handshake completed ('connect'). */
  connected = 0;
  /** Exchanges that ran to their planned FIN with every byte checked at both ends. */
  completed = 0;
  /** Bytes checked against the pattern: up at the server, down at the client. */
  bytesUp = 0;
  bytesDown = 0;
  /** Resets an app sent on purpose, and resets (or writes into one) the other end reported. */
  resetsSent = 0;
  resetsSeen = 0;
  aborts = 0;
  keepAliveExpired = 0;
  keepAliveSurvived = 0;
  churnListeners = 0;
  churnServed = 0;
  churnRefused = 0;
  churnReset = 0;
  churnGaveUp = 0;
  lossPeriods = 0;
  blackouts = 0;
  /** Outcomes outside the plan, by description. */
  readonly unexpected = new Map<string, number>();
  readonly examples: string[] = [];

  flag(what: string, detail: string): void {
    this.unexpected.set(what, (this.unexpected.get(what) ?? 0) + 1);
    if (this.examples.length < 5) this.examples.push(`${what}: ${detail}`);
  }

  get unexpectedCount(): number {
    let n = 0;
    for (const v of this.unexpected.values()) n += v;
    return n;
  }

  /** Adds another tally's counts into this one (the day's totals). */
  add(t: Tally): void {
    for (const [k, v] of Object.entries(t)) {
      if (typeof v === 'number') (this as unknown as Record<string, number>)[k] += v;
    }
    for (const [k, v] of t.unexpected) this.unexpected.set(k, (this.unexpected.get(k) ?? 0) + v);
    for (const e of t.examples) if (this.examples.length < 5) this.examples.push(e);
  }
}
