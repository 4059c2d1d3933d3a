import { existsSync, readFileSync } from 'node:fs';
import { corePlan, CORES, pinSelf } from './cpus.js';
import { pathWorks } from './load/probe.js';
import { markCpu, otherCpuSince } from './other_cpu.js';
import { sleep, treeCpuSeconds, treeMemoryMB, waitUntil } from './proc.js';
import { summarise } from './stats.js';
import { TARGETS } from './targets/index.js';
import type { CorePlan, MeasureContext, Mode, Row, RunningTarget, Sample, Scenario, Timing, Tools } from './types.js';
import { startUpstream } from './upstream.js';

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

/** The "direct" rows have no workers: first worker count only. Quick runs keep the peers there too. */
const runsAtWorkerCount = (id: string, index: number, mode: Mode) => index === 0 || (!id.startsWith('direct') && (mode === 'full' || id.startsWith('legate-')));

/**
 * Runs a scenario: for each worker count, the upstream on the load cores, then each target
 * in turn (started, checked end to end, measured, stopped), one row per variant.
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
  for (const [i, workers] of workersList.entries()) {
    const ctx = measureContext({ ...o, timing }, workers);
    if (CORES > 1) pinSelf(ctx.cpus.load);
    const upstream = await startUpstream(s.upstream, o.tools, o.tmp, o.mode === 'smoke', s.upstreamCount);
    upstreamName = upstream.describe;
    try {
      for (const id of runnable.filter((id) => runsAtWorkerCount(id, i, o.mode))) {
        const t = TARGETS.get(id)!;
        o.log(`${s.name}: ${t.label}, ${workers} worker(s), ${ctx.cpus.describe}`);
        let running: RunningTarget | undefined;
        try {
          running = await t.start({ upstream: upstream.endpoint, upstreams: upstream.endpoints, upstreamKind: s.upstream, workers, cpus: ctx.cpus, tmp: o.tmp });
          const ep = running.endpoint;
          await waitUntil(`${t.label} end to end`, () => pathWorks(s.upstream, ep), 15_000, running.exited);
          // Memory after start-up and one request, before any load: every row carries it.
          const idle = running.pid === undefined ? undefined : treeMemoryMB(running.pid).rss;
          for (const v of s.variants(ctx)) {
            const mark = markCpu();
            const cpuBefore = running.pid === undefined ? undefined : treeCpuSeconds(running.pid);
            const wallBefore = performance.now();
            const samples = await repeat(timing, (r) => v.measure(ctx, ep, r, running!.pid));
            const sum = summarise(samples);
            sum.extra.otherCpu = otherCpuSince(mark);
            // How busy the proxy was: near 100% per pinned core means CPU-bound; well below means it waited.
            if (running.pid !== undefined && cpuBefore !== undefined) {
              const cpu = treeCpuSeconds(running.pid);
              const wallSec = (performance.now() - wallBefore) / 1000;
              const user = (cpu.user - cpuBefore.user) / wallSec;
              const system = (cpu.system - cpuBefore.system) / wallSec;
              sum.extra.proxyCpu = 100 * (user + system);
              // CPU per operation stays comparable when other load skews the rates (rate-type units
              // only); the user-space part is what the proxy's own code costs, the rest is the kernel's.
              if (s.unit === 'req/s' || s.unit === 'conn/s') {
                sum.extra.cpuPerOp = ((user + system) * 1e6) / sum.median;
                sum.extra.cpuUserPerOp = (user * 1e6) / sum.median;
              }
            }
            if (idle !== undefined) sum.extra.rssIdle = idle;
            rows.push({ target: t.id, label: t.label, layer: t.layer, workers, cpus: ctx.cpus.proxy, pinned: ctx.cpus.pinned, variant: v.name, tool: v.tool, unit: s.unit, ...sum });
          }
        } catch (err) {
          const msg = (err as Error).message.split('\n')[0] + logTail(running?.logFile);
          o.log(`  failed: ${msg}`);
          rows.push(failedRow({ target: t.id, label: t.label, layer: t.layer, workers, cpus: ctx.cpus, unit: s.unit }, msg));
        } finally {
          await running?.stop();
          await sleep(50); // let sockets and the kernel settle between targets
        }
      }
    } finally {
      await upstream.stop();
    }
  }
  return { rows, skipped, upstream: upstreamName, timing };
}
