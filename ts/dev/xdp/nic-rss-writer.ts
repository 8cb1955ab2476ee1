// Writes a NIC's RSS (the engine's rss: 'program') and puts the NIC's own settings back: the key,
// indirection table and hash function (ETHTOOL_SRSSH), then the fields hashed per flow type
// (ETHTOOL_SRXFH). The key and table go first: if the driver refuses them, nothing has changed
// and the write throws. A flow type whose fields the driver will not change is not fatal (the
// engine's steering hands such flows to their owner): it comes back as a note. What a kill -9
// leaves cannot be put back.
import { nodeXdp, type NativeRssWrite } from './native.js';
import type { FlowType } from './nic-info.js';

/** One side of a change: the RSS write, and the RXH_* fields of the flow types that change. */
export interface NicRssSettings {
  rss: NativeRssWrite;
  flowHashes: { flow: FlowType; bits: number }[];
}

/** The NIC's RSS as the engine wrote it, until `restore()` puts the NIC's own back. */
export class ProgrammedNicRss {
  private restoring: NicRssSettings | undefined;

  private constructor(
    readonly ifname: string,
    restore: NicRssSettings,
    /** Flow types whose fields the driver refused to change, and why. */
    readonly notes: string[],
  ) {
    this.restoring = restore;
  }

  /** Writes `apply`; throws, having changed nothing, if the key and table are refused. */
  static write(ifname: string, apply: NicRssSettings, restore: NicRssSettings): ProgrammedNicRss {
    const xdp = nodeXdp();
    xdp.nicSetRss(ifname, apply.rss);
    const notes: string[] = [];
    const written: FlowType[] = [];
    for (const { flow, bits } of apply.flowHashes) {
      try {
        xdp.nicSetFlowHash(ifname, flow, bits);
        written.push(flow);
      } catch (err) {
        notes.push(`${flow}: the NIC kept its own hash fields (${(err as Error).message})`);
      }
    }
    const back = {
      rss: restore.rss,
      flowHashes: restore.flowHashes.filter((f) => written.includes(f.flow)),
    };
    return new ProgrammedNicRss(ifname, back, notes);
  }

  /**
   * Puts the NIC's own settings back; idempotent. Returns what could not be put back (empty
   * when all went back), since the engine's stop reports rather than throws.
   */
  restore(): string[] {
    const settings = this.restoring;
    if (!settings) return [];
    this.restoring = undefined;
    const xdp = nodeXdp();
    const problems: string[] = [];
    const attempt = (what: string, write: () => void) => {
      try {
        write();
      } catch (err) {
        problems.push(`could not put back ${what} of ${this.ifname}: ${(err as Error).message}`);
      }
    };
    for (const { flow, bits } of settings.flowHashes) {
      attempt(`the ${flow} hash fields`, () => xdp.nicSetFlowHash(this.ifname, flow, bits));
    }
    attempt('the RSS key and indirection table', () => xdp.nicSetRss(this.ifname, settings.rss));
    return problems;
  }
}
