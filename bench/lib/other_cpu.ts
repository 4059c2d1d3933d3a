import { readdirSync, readFileSync } from 'node:fs';
import { CORES } from './cpus.js';

/**
 * How much CPU the rest of the machine used while a target was measured: the machine's
 * user+system time (/proc/stat) minus this run's own (this process and its descendants,
 * reaped children included), as a percentage of all cores. A shared machine skews every
 * figure; this says which rows to distrust.
 */
const TICKS_PER_SEC = 100; // USER_HZ on Linux

function machineTicks(): number {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0].split(/\s+/);
  return Number(cpu[1]) + Number(cpu[2]) + Number(cpu[3]); // user, nice, system
}

/** CPU ticks of this process and every descendant (utime + stime + reaped children's). */
function ourTicks(): number {
  const procs = new Map<number, { ppid: number; ticks: number }>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      procs.set(Number(name), { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]) });
    } catch {
      /* exited meanwhile */
    }
  }
  const tree = [process.pid];
  for (let i = 0; i < tree.length; i++) for (const [pid, p] of procs) if (p.ppid === tree[i]) tree.push(pid);
  return tree.reduce((n, pid) => n + (procs.get(pid)?.ticks ?? 0), 0);
}

export interface CpuMark {
  at: number;
  machine: number;
  ours: number;
}

export function markCpu(): CpuMark {
  return { at: performance.now(), machine: machineTicks(), ours: ourTicks() };
}

/** Percent of the machine's CPU (all cores) used by other processes since `mark`. */
export function otherCpuSince(mark: CpuMark): number {
  const sec = (performance.now() - mark.at) / 1000;
  const other = machineTicks() - mark.machine - (ourTicks() - mark.ours);
  return sec > 0 ? Math.max(0, (100 * other) / TICKS_PER_SEC / sec / CORES) : 0;
}
