import { existsSync, readFileSync } from 'node:fs';
import { corePlan, CORES, pinSelf } from './cpus.js';
import { pathWorks } from './load/probe.js';
import { markCpu, otherCpuSince } from './other_cpu.js';
import { sleep, treeCpuSeconds, treeMemoryMB, waitUntil } from './proc.js';
import { summarise } from './stats.js';
import { TARGETS } from './targets/index.js';
import type { CorePlan, MeasureContext, Mode, Row, RunningTarget, Sample, Scenario, Target, Timing, Tools } from './types.js';
import { startUpstream, type Upstream } from './upstream.js';

export interface RunOptions {
  mode: Mode;
  timing: Timing;
  /** From the command line; wins over the mode's and the scenario's timing. */
  timingOverride?: Partial<Timing>;
  tools: Tools;
  tmp: string;
  workers: number[];
  /** When set, only these targets run. */
  targets?: string[];
  log(msg: string): void;
}

export interface ScenarioRun {
  rows: Row[];
  skipped: { target: string; reason: string }[];
  upstream: string;
  timing: Timing;
}

function measureContext(o: RunOptions, workers: number): MeasureContext {
  return { mode: o.mode, timing: o.timing, tools: o.tools, tmp: o.tmp, cpus: corePlan(workers), workers, log: o.log };
}

/** A row that records a failure instead of figures. */
function failedRow(r: Pick<Row, 'target' | 'label' | 'layer' | 'workers' | 'unit'> & { cpus: CorePlan }, error: string): Row {
  return { ...r, cpus: r.cpus.proxy, pinned: r.cpus.pinned, variant: '', tool: '', samples: [], median: NaN, min: NaN, max: NaN, extra: {}, error };
}

/** The last lines of a failed target's log, for the report. */
function logTail(file: string | undefined): string {
  if (!file || !existsSync(file)) return '';
  const lines = readFileSync(file, 'utf8').trim().split('\n').slice(-3).join(' / ');
  return lines ? ` (log: ${lines.slice(0, 300)})` : '';
}

/** Warm-up (discarded), then `reps` repetitions. */
async function repeat(t: Timing, run: (r: { sec: number; warmup: boolean }) => Promise<Sample>): Promise<Sample[]> {
  if (t.warmupSec > 0) await run({ sec: t.warmupSec, warmup: true });
  const samples: Sample[] = [];
  for (let i = 0; i < t.reps; i++) samples.push(await run({ sec: t.durSec, warmup: false }));
  return samples;
}

/** The mode's timing with the scenario's overrides, the warm-up no shorter than its steady state needs. */
function scenarioTiming(s: Scenario, o: RunOptions): Timing {
  const t = { ...o.timing, ...s.timing?.(o.mode), ...o.timingOverride };
  const floor = o.mode === 'smoke' ? 0 : s.steadyWarmupSec ?? 0;
  if (t.warmupSec < floor) {
    o.log(`${s.name}: warm-up raised from ${t.warmupSec} s to ${floor} s, the time this scenario needs to reach a steady state`);
    t.warmupSec = floor;
  }
  return t;
}

/** One target's figures for one scenario: per variant its samples and the proxy's CPU over them. */
interface TargetMeasure {
  error?: string;
  rssIdle?: number;
  variants: { name: string; tool: string; samples: Sample[]; otherCpu: number; wallSec: number; cpu?: { user: number; system: number } }[];
}

/** Starts `t`, checks it end to end, measures every variant (warm-up and repetitions), stops it. */
async function measureTarget(s: Scenario, o: RunOptions, ctx: MeasureContext, t: Target, upstream: Upstream, timing: Timing): Promise<TargetMeasure> {
  let running: RunningTarget | undefined;
  try {
    running = await t.start({ upstream: upstream.endpoint, upstreams: upstream.endpoints, upstreamKind: s.upstream, workers: ctx.workers, cpus: ctx.cpus, tmp: o.tmp });
    const ep = running.endpoint;
    await waitUntil(`${t.label} end to end`, () => pathWorks(s.upstream, ep), 15_000, running.exited);
    // Memory after start-up and one request, before any load: every row carries it.
    const out: TargetMeasure = { rssIdle: running.pid === undefined ? undefined : treeMemoryMB(running.pid).rss, variants: [] };
    for (const v of s.variants(ctx)) {
      const mark = markCpu();
      const cpuBefore = running.pid === undefined ? undefined : treeCpuSeconds(running.pid);
      const wallBefore = performance.now();
      const samples = await repeat(timing, (r) => v.measure(ctx, ep, r, running!.pid));
      const cpuAfter = running.pid === undefined ? undefined : treeCpuSeconds(running.pid);
      out.variants.push({
        name: v.name,
        tool: v.tool,
        samples,
        otherCpu: otherCpuSince(mark),
        wallSec: (performance.now() - wallBefore) / 1000,
        cpu: cpuBefore && cpuAfter ? { user: cpuAfter.user - cpuBefore.user, system: cpuAfter.system - cpuBefore.system } : undefined,
      });
    }
    return out;
  } catch (err) {
    const msg = (err as Error).message.split('\n')[0] + logTail(running?.logFile);
    o.log(`  failed: ${msg}`);
    return { error: msg, variants: [] };
  } finally {
    await running?.stop();
    await sleep(50); // let sockets and the kernel settle between targets
  }
}

/** A later round's figures added to the earlier rounds' (CPU and wall time summed, so the rate is over all rounds). */
function mergeMeasures(a: TargetMeasure | undefined, b: TargetMeasure): TargetMeasure {
  if (!a || b.error) return b;
  return {
    rssIdle: a.rssIdle,
    variants: a.variants.map((v, i) => {
      const w = b.variants[i]!;
      return {
        ...v,
        samples: [...v.samples, ...w.samples],
        otherCpu: Math.max(v.otherCpu, w.otherCpu),
        wallSec: v.wallSec + w.wallSec,
        cpu: v.cpu && w.cpu ? { user: v.cpu.user + w.cpu.user, system: v.cpu.system + w.cpu.system } : undefined,
      };
    }),
  };
}

/** The "direct" rows have no workers: first worker count only. Quick runs keep the peers there too. */
const runsAtWorkerCount = (id: string, index: number, mode: Mode) => index === 0 || (!id.startsWith('direct') && (mode === 'full' || id.startsWith('legate-')));

/**
 * Runs a scenario: for each worker count, the upstream on the load cores, then each target
 * in turn (started, checked end to end, measured, stopped), one row per variant. Interleaved
 * (`--interleave`): the targets take turns, one repetition each per round.
 */
export async function runScenario(s: Scenario, o: RunOptions): Promise<ScenarioRun> {
  const rows: Row[] = [];
  const skipped: ScenarioRun['skipped'] = [];
  const workersList = s.workers?.(o.mode, o.workers) ?? o.workers;
  const timing = scenarioTiming(s, o);
  if (s.runSelf) {
    const ctx = measureContext({ ...o, timing }, workersList[0]);
    if (CORES > 1) pinSelf(ctx.cpus.load);
    try {
      return { rows: await s.runSelf(ctx), skipped, upstream: 'n/a', timing };
    } catch (err) {
      const error = (err as Error).message.split('\n')[0];
      o.log(`  failed: ${error}`);
      return { rows: [failedRow({ target: s.name, label: s.title, layer: 'l4', workers: ctx.workers, cpus: ctx.cpus, unit: s.unit }, error)], skipped, upstream: 'n/a', timing };
    }
  }
  let upstreamName = '';
  const ids = s.targets(o.mode).filter((id) => !o.targets || o.targets.includes(id));
  for (const id of ids) {
    const t = TARGETS.get(id);
    const why = !t ? `unknown target ${id}` : t.unavailable(o.tools) ?? (t.serves.includes(s.upstream) ? undefined : `does not serve ${s.upstream}`);
    if (why) skipped.push({ target: id, reason: why });
  }
  const runnable = ids.filter((id) => !skipped.some((k) => k.target === id));
  // Interleaved: every target runs one repetition per round, so each target's figures sample the
  // same stretches of a drifting VM as the others' (each round starts the target afresh).
  const rounds = timing.interleaved ? timing.reps : 1;
  const perRound: Timing = timing.interleaved ? { ...timing, reps: 1 } : timing;
  for (const [i, workers] of workersList.entries()) {
    const ctx = measureContext({ ...o, timing }, workers);
    if (CORES > 1) pinSelf(ctx.cpus.load);
    const upstream = await startUpstream(s.upstream, o.tools, o.tmp, o.mode === 'smoke', s.upstreamCount);
    upstreamName = upstream.describe;
    const here = runnable.filter((id) => runsAtWorkerCount(id, i, o.mode));
    const results = new Map<string, TargetMeasure>();
    try {
      for (let round = 0; round < rounds; round++) {
        for (const id of here) {
          const t = TARGETS.get(id)!;
          const before = results.get(id);
          if (before?.error) continue;
          o.log(`${s.name}: ${t.label}, ${workers} worker(s), ${ctx.cpus.describe}${rounds > 1 ? `, round ${round + 1} of ${rounds}` : ''}`);
          results.set(id, mergeMeasures(before, await measureTarget(s, o, ctx, t, upstream, perRound)));
        }
      }
    } finally {
      await upstream.stop();
    }
    for (const id of here) {
      const t = TARGETS.get(id)!;
      const m = results.get(id)!;
      if (m.error) {
        rows.push(failedRow({ target: t.id, label: t.label, layer: t.layer, workers, cpus: ctx.cpus, unit: s.unit }, m.error));
        continue;
      }
      for (const v of m.variants) {
        const sum = summarise(v.samples);
        sum.extra.otherCpu = v.otherCpu;
        // How busy the proxy was: near 100% per pinned core means CPU-bound; well below means it waited.
        if (v.wallSec > 0 && v.cpu) {
          const user = v.cpu.user / v.wallSec;
          const system = v.cpu.system / v.wallSec;
          sum.extra.proxyCpu = 100 * (user + system);
          // CPU per operation stays comparable when other load skews the rates (rate-type units
          // only); the user-space part is what the proxy's own code costs, the rest is the kernel's.
          if (s.unit === 'req/s' || s.unit === 'conn/s') {
            sum.extra.cpuPerOp = ((user + system) * 1e6) / sum.median;
            sum.extra.cpuUserPerOp = (user * 1e6) / sum.median;
          }
        }
        if (m.rssIdle !== undefined) sum.extra.rssIdle = m.rssIdle;
        rows.push({ target: t.id, label: t.label, layer: t.layer, workers, cpus: ctx.cpus.proxy, pinned: ctx.cpus.pinned, variant: v.name, tool: v.tool, unit: s.unit, ...sum });
      }
    }
  }
  return { rows, skipped, upstream: upstreamName, timing };
}
