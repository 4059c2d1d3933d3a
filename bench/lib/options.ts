import type { Mode, Timing } from './types.js';

export const TIMING: Record<Mode, Timing> = {
  smoke: { warmupSec: 0, reps: 2, durSec: 0.5 },
  quick: { warmupSec: 0.3, reps: 3, durSec: 1 },
  full: { warmupSec: 3, reps: 5, durSec: 5 },
};

export interface BenchOptions {
  mode: Mode;
  out?: string;
  only?: string[];
  targets?: string[];
  workers?: number[];
  install: boolean;
  /** Overrides of the mode's timing (--warmup, --reps, --dur), for trying a mode out quickly. */
  timing: Partial<Timing>;
  /** Set on the copy of the runner that runs inside the network namespace. */
  inside: boolean;
}

const USAGE = `usage: node dist/bench/run.js [--quick | --smoke] [--out DIR] [--only SCENARIO,…] [--targets ID,…] [--workers 1,2,…]
       [--warmup SEC] [--reps N] [--dur SEC] [--interleave] [--no-install]
  (default: the full run; --quick takes under 2 minutes; --smoke is the test suite's seconds-long run without peers;
   --interleave: the targets take turns, one repetition each per round, each round a fresh start)`;

export function parseBenchArgs(argv: readonly string[]): BenchOptions {
  const o: BenchOptions = { mode: 'full', install: true, inside: false, timing: {} };
  const num = (v: string | undefined, flag: string, min: number) => {
    const n = Number(v);
    if (!v || !Number.isFinite(n) || n < min) throw new Error(`${flag}: expected a number ≥ ${min}\n${USAGE}`);
    return n;
  };
  const list = (v: string | undefined, flag: string) => {
    if (!v) throw new Error(`${flag} needs a value\n${USAGE}`);
    return v.split(',').filter(Boolean);
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') o.mode = 'quick';
    else if (a === '--smoke') o.mode = 'smoke';
    else if (a === '--full') o.mode = 'full';
    else if (a === '--out') o.out = list(argv[++i], a)[0];
    else if (a === '--only') o.only = list(argv[++i], a);
    else if (a === '--targets') o.targets = list(argv[++i], a);
    else if (a === '--workers') {
      o.workers = list(argv[++i], a).map(Number);
      if (o.workers.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`--workers: positive integers, e.g. 1,2\n${USAGE}`);
    } else if (a === '--warmup') o.timing.warmupSec = num(argv[++i], a, 0);
    else if (a === '--reps') o.timing.reps = Math.round(num(argv[++i], a, 1));
    else if (a === '--dur') o.timing.durSec = num(argv[++i], a, 0.1);
    else if (a === '--interleave') o.timing.interleaved = true;
    else if (a === '--no-install') o.install = false;
    else if (a === '--inside') o.inside = true;
    else throw new Error(`unknown option ${a}\n${USAGE}`);
  }
  return o;
}
