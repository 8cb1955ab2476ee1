// CPU time of the calling thread alone. Node 20's process.cpuUsage() counts every thread of the
// process; Linux keeps per-thread utime and stime in /proc/thread-self/stat (clock ticks).
import fs from 'node:fs';

const TICKS_PER_SECOND = 100; // USER_HZ, fixed at 100 on Linux for this interface

export function threadCpuSeconds(): number {
  const stat = fs.readFileSync('/proc/thread-self/stat', 'utf8');
  // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}
