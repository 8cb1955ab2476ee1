// The record each test bed keeps of itself in /run/xdpnet/beds/<name>.json: which names it owns
// and which process owns it. The file is created atomically before any interface exists (link(2)
// of a complete temporary file, so the claim of a slot and its contents appear together); a bed
// whose owner died is found here and removed by the next TestBed.up().
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { type BedNames, namesMatchSlot, slotOfName } from './addressing.js';
import { makeError } from './command.js';

export interface BedState extends BedNames {
  version: 1;
  /** The process whose exit removes the bed (unless persist). */
  pid: number;
  /** /proc/<pid>/stat start time, so a recycled pid is not mistaken for the owner. */
  pidStart: string | null;
  /** Left up after the owner exits (`xdpnet testbed up`); removed only by `testbed down`. */
  persist: boolean;
  queues: number;
  mtu: number;
  createdAt: string;
  /**
   * A wire bed's relay namespace (xdpnet-<slot>-wire), recorded for tools that list namespaces;
   * removal never trusts it but derives the name from the slot.
   */
  wireNetns?: string;
}

export function stateDir(): string {
  return process.env.XDPNET_STATE_DIR ?? '/run/xdpnet/beds';
}

function statePath(name: string): string {
  return path.join(stateDir(), `${name}.json`);
}

/** Field 22 of /proc/<pid>/stat (start time in clock ticks); null if the process is gone. */
export function processStartTime(pid: number): string | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parentheses; fields after it may not.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] ?? null;
  } catch {
    return null;
  }
}

export function isProcessAlive(pid: number, startTime: string | null): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  return startTime === null || processStartTime(pid) === startTime;
}

export function isOwnerAlive(state: BedState): boolean {
  return isProcessAlive(state.pid, state.pidStart);
}

function writeExclusive(file: string, contents: string): boolean {
  const tmp = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  fs.writeFileSync(tmp, contents, { mode: 0o644 });
  try {
    fs.linkSync(tmp, file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    fs.unlinkSync(tmp);
  }
}

/** Atomically records the bed; false when the slot's file already exists (someone holds it). */
export function claimState(state: BedState): boolean {
  fs.mkdirSync(stateDir(), { recursive: true, mode: 0o755 });
  return writeExclusive(statePath(state.name), JSON.stringify(state, null, 2) + '\n');
}

export function stateExists(name: string): boolean {
  return fs.existsSync(statePath(name));
}

export function removeState(name: string): void {
  fs.rmSync(statePath(name), { force: true });
}

function parseState(text: string, file: string): BedState {
  let state: BedState;
  try {
    state = JSON.parse(text) as BedState;
  } catch {
    throw makeError('EINVAL', `test bed state file ${file} is not valid JSON; remove it by hand`);
  }
  if (state.version !== 1 || !namesMatchSlot(state) || typeof state.pid !== 'number') {
    throw makeError(
      'EPERM',
      `refusing to use ${file}: it names interfaces or a namespace (${state.engineIf}, ` +
        `${state.peerIf}, ${state.netns}) that the test bed would not have created; ` +
        'check them and remove the file by hand',
    );
  }
  return state;
}

/** The state of bed `name`; EINVAL for a name that is not a bed name, ENOENT if not recorded. */
export function readState(name: string): BedState {
  if (slotOfName(name) === undefined) {
    throw makeError(
      'EINVAL',
      `refusing to touch '${name}': not a test bed name (xdpnet-<0..511>); ` +
        'the test bed only removes what it created',
    );
  }
  const file = statePath(name);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    throw makeError('ENOENT', `no test bed '${name}' (no ${file}); see \`xdpnet testbed list\``);
  }
  return parseState(text, file);
}

/** Every recorded bed; files that do not parse or name foreign things are skipped, not deleted. */
export function listStates(): BedState[] {
  let files: string[];
  try {
    files = fs.readdirSync(stateDir());
  } catch {
    return [];
  }
  const states: BedState[] = [];
  for (const file of files.sort()) {
    const match = /^(xdpnet-\d+)\.json$/.exec(file);
    if (!match) continue;
    try {
      states.push(readState(match[1]));
    } catch {
      // Left for a human: see readState's messages.
    }
  }
  return states;
}

const REAPING = /^(xdpnet-\d+)\.reaping\.(\d+)$/;

/**
 * Takes the record of a dead bed for removal: renaming is atomic, so of several processes
 * reaping at once exactly one wins. Returns the new file, or undefined if someone else won.
 */
export function takeForReaping(name: string): string | undefined {
  const target = path.join(stateDir(), `${name}.reaping.${process.pid}`);
  try {
    fs.renameSync(statePath(name), target);
    return target;
  } catch {
    return undefined;
  }
}

/** Reaping records left by reapers that died half-way, taken over by this process. */
export function takeAbandonedReapings(): { file: string; state: BedState }[] {
  let files: string[];
  try {
    files = fs.readdirSync(stateDir());
  } catch {
    return [];
  }
  const taken: { file: string; state: BedState }[] = [];
  for (const file of files) {
    const match = REAPING.exec(file);
    if (!match || isProcessAlive(Number(match[2]), null)) continue;
    const from = path.join(stateDir(), file);
    const to = path.join(stateDir(), `${match[1]}.reaping.${process.pid}`);
    try {
      fs.renameSync(from, to);
      taken.push({ file: to, state: parseState(fs.readFileSync(to, 'utf8'), to) });
    } catch {
      // Another reaper took it, or the record names foreign things: leave it.
    }
  }
  return taken;
}

export function readStateFile(file: string): BedState {
  return parseState(fs.readFileSync(file, 'utf8'), file);
}
