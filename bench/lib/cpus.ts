import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import type { CorePlan } from './types.js';

export const CORES = availableParallelism();

const list = (from: number, to: number) => (from === to ? String(from) : `${from}-${to}`);

/**
 * With more than one core and fewer proxy workers than cores, the proxy gets cores
 * 0..workers-1 to itself and the load generator and upstream get the rest. Otherwise
 * nothing is pinned (every process may use every core), and the report says so.
 */
export function corePlan(workers: number, cores = CORES): CorePlan {
  const all = list(0, cores - 1);
  if (cores > 1 && workers < cores) {
    const proxy = list(0, workers - 1);
    const load = list(workers, cores - 1);
    return { proxy, load, pinned: true, describe: `proxy on cpu ${proxy}, load+upstream on cpu ${load}` };
  }
  return { proxy: all, load: all, pinned: false, describe: 'unpinned' };
}

/** The command prefix that runs a program on `cpus`. */
export function onCpus(cpus: string, argv: string[]): string[] {
  return ['taskset', '-c', cpus, ...argv];
}

/** Moves this process (every thread) to `cpus`; children started afterwards inherit it. */
export function pinSelf(cpus: string): void {
  execFileSync('taskset', ['-a', '-p', '-c', cpus, String(process.pid)], { stdio: 'ignore' });
}
