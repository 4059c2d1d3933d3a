/** The contracts between the runner, the targets (proxies under test) and the scenarios. */

export type Mode = 'smoke' | 'quick' | 'full';

/** How long each measurement runs, per mode. */
export interface Timing {
  warmupSec: number;
  reps: number;
  durSec: number;
  /** The targets take turns: each repetition is a round in which every target is started, warmed up and measured once. */
  interleaved?: boolean;
}

/** Where the proxy runs and where everything else (load generator, upstream) runs. */
export interface CorePlan {
  /** taskset CPU list for the proxy. */
  proxy: string;
  /** taskset CPU list for the load generator and the upstream. */
  load: string;
  pinned: boolean;
  describe: string;
}

export interface Tools {
  wrk: boolean;
  h2load: boolean;
  nginx: boolean;
  nginxStream: boolean;
  haproxy: boolean;
}

/** What the upstream serves; the HTTP one answers these paths. */
export type UpstreamKind = 'http' | 'tcp-source' | 'grpc';
export const HTTP_PATHS = { small: '/small', oneK: '/1k', sixtyFourK: '/64k' } as const;

export interface Endpoint {
  host: string;
  port: number;
  /** HTTPS: the load generators and the readiness probe speak TLS (certificates not verified). */
  tls?: boolean;
}

export interface StartArgs {
  /** The upstream; with several (`Scenario.upstreamCount`), the first of them. */
  upstream: Endpoint;
  /** Every upstream, for the load-balancing targets; `[upstream]` in most scenarios. */
  upstreams: readonly Endpoint[];
  upstreamKind: UpstreamKind;
  workers: number;
  cpus: CorePlan;
  tmp: string;
}

export interface RunningTarget {
  /** What the load generator connects to (a VIP redirected by iptables). */
  endpoint: Endpoint;
  /** The proxy's process (its process tree is summed for memory); none for "direct". */
  pid?: number;
  /** Resolves if the process exits (readiness then fails at once instead of timing out). */
  exited?: Promise<unknown>;
  /** Its log, quoted when it fails. */
  logFile?: string;
  stop(): Promise<void>;
}

/** A proxy under test, or "direct" (no proxy). */
export interface Target {
  id: string;
  label: string;
  /** 'l7' parses HTTP; 'l4' forwards bytes; 'none' is direct. */
  layer: 'l7' | 'l4' | 'none';
  /** Which upstream kinds it can front. */
  serves: readonly UpstreamKind[];
  /** Undefined when it can run here, else why not. */
  unavailable(tools: Tools): string | undefined;
  start(args: StartArgs): Promise<RunningTarget>;
}

/** One repetition's result. `value` is the scenario's headline metric. */
export interface Sample {
  value: number;
  /** Latency percentiles in ms, [percentile, ms]. */
  percentiles?: [number, number][];
  /** Other per-repetition numbers (p99, errors, RSS…), summarised by median. */
  extra?: Record<string, number>;
}

export interface Row {
  target: string;
  label: string;
  layer: Target['layer'];
  workers: number;
  /** The proxy's CPU list, and whether the load generator had the other cores to itself. */
  cpus: string;
  pinned: boolean;
  variant: string;
  tool: string;
  unit: string;
  samples: number[];
  median: number;
  min: number;
  max: number;
  extra: Record<string, number>;
  /** Median over repetitions at each percentile, for the latency chart. */
  percentiles?: [number, number][];
  error?: string;
}

export interface MeasureContext {
  mode: Mode;
  timing: Timing;
  tools: Tools;
  tmp: string;
  cpus: CorePlan;
  workers: number;
  log(msg: string): void;
}

/** One measurement of a scenario against one target; the runner repeats it. */
export interface Variant {
  name: string;
  tool: string;
  /** Runs one repetition of about `run.sec` seconds; warm-up runs are the same call, discarded. */
  measure(ctx: MeasureContext, endpoint: Endpoint, run: { sec: number; warmup: boolean }, pid: number | undefined): Promise<Sample>;
}

export interface Scenario {
  name: string;
  title: string;
  /** One paragraph for the report: what is measured and how. */
  describes: string;
  order: number;
  unit: string;
  higherIsBetter: boolean;
  modes: readonly Mode[];
  upstream: UpstreamKind;
  /** How many HTTP upstreams to start (each on its own port); 1 unless the scenario balances load. */
  upstreamCount?: number;
  /** Target ids, in report order; unavailable ones are skipped with a note. */
  targets(mode: Mode): string[];
  /** Overrides of the mode's timing (e.g. one long repetition for memory). */
  timing?(mode: Mode): Partial<Timing>;
  /**
   * The least warm-up, in quick and full runs, after which this scenario measures a steady
   * state: a shorter warm-up (the mode's or --warmup's) is raised to it. Smoke runs keep theirs.
   */
  steadyWarmupSec?: number;
  /** Worker counts to run (the default comes from the command line). */
  workers?(mode: Mode, requested: number[]): number[];
  variants(ctx: MeasureContext): Variant[];
  /** Targets the table shows ratios against (a row is compared with the same workers and variant). */
  compareWith: readonly string[];
  /** 'ratio' (×, the default) or 'difference' (+unit, e.g. latency added). */
  compareAs?: 'ratio' | 'difference';
  /** Extra columns to show, from `Row.extra`, with headers. */
  columns?: readonly { key: string; header: string; digits?: number }[];
  /** Pass/fail lines against the targets, printed under the table. */
  verdicts?(rows: readonly Row[]): string[];
  /** Scenarios that do not fit the per-target loop (config apply) run themselves. */
  runSelf?(ctx: MeasureContext): Promise<Row[]>;
  notes?: string[];
}

export interface Machine {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  kernel: string;
  os: string;
  node: string;
  legateCommit: string;
  versions: Record<string, string>;
}

export interface ScenarioResult {
  scenario: string;
  title: string;
  describes: string;
  unit: string;
  higherIsBetter: boolean;
  mode: Mode;
  date: string;
  command: string;
  machine: Machine;
  timing: Timing;
  rows: Row[];
  skipped: { target: string; reason: string }[];
  notes: string[];
  verdicts: string[];
  /** 1-minute load average before and after: other work on the machine skews every figure. */
  loadAverage: { before: number; after: number };
  columns: readonly { key: string; header: string; digits?: number }[];
  compareWith: readonly string[];
  compareAs: 'ratio' | 'difference';
  upstream: string;
}
