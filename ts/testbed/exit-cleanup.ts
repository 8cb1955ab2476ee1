// Removing live test beds when the process ends: on 'exit' (process.exit, end of the event loop,
// an uncaught exception) and on SIGINT/SIGTERM/SIGHUP. Only synchronous work runs there. kill -9
// cannot be caught; TestBed.up() reaps what such a death leaves behind.

export interface SyncCleanup {
  cleanupSync(): void;
}

const live = new Set<SyncCleanup>();
const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

function cleanupAll(): void {
  for (const bed of [...live]) {
    live.delete(bed);
    try {
      bed.cleanupSync();
    } catch {
      // Keep going: the other beds must still go.
    }
  }
}

function onExit(): void {
  cleanupAll();
}

function onSignal(signal: NodeJS.Signals): void {
  // Someone else handles the signal (an engine's graceful stop, which still needs the bed for
  // its FINs): the bed goes when they are done, by down() or by the 'exit' handler.
  if (process.listenerCount(signal) > 1) return;
  cleanupAll();
  uninstall();
  // With no other handler the process would have died of the signal: restore that. When the
  // application handles the signal itself, it decides whether to exit.
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

function install(): void {
  process.on('exit', onExit);
  for (const s of SIGNALS) process.on(s, onSignal);
}

function uninstall(): void {
  process.removeListener('exit', onExit);
  for (const s of SIGNALS) process.removeListener(s, onSignal);
}

export function removeOnExit(bed: SyncCleanup): void {
  if (live.size === 0) install();
  live.add(bed);
}

export function forgetOnExit(bed: SyncCleanup): void {
  if (!live.delete(bed)) return;
  // Our signal handlers change what SIGINT does, so they stay only while a bed is up.
  if (live.size === 0) uninstall();
}
