// CPU time of the calling thread alone. Node 20's process.cpuUsage() counts every thread of the
// process; Linux keeps each thread's time on the CPU, in nanoseconds, in the first field of
// /proc/thread-self/schedstat (exact, where stat's utime and stime are 10 ms tick samples).
import fs from 'node:fs';

export function threadCpuSeconds(): number {
  return Number(fs.readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]) / 1e9;
}
