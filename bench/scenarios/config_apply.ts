import { selfRunScenario } from '../lib/self_run.js';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { adminGet } from '../lib/admin_client.js';
import { timeRenameToApplied } from '../lib/apply_timer.js';
import { onCpus } from '../lib/cpus.js';
import { endpointPortOf, manyServiceEntries, MESH_YAML } from '../lib/legate_config.js';
import { REPO } from '../lib/paths.js';
import { canConnect, start, treeMemoryMB, waitUntil } from '../lib/proc.js';
import { summarise } from '../lib/stats.js';
import { ADMIN, legateArgv } from '../lib/targets/legate.js';
import type { MeasureContext, Mode, Row, Sample, Scenario } from '../lib/types.js';

/** Quick runs stop at 1,000: translating 10,000 takes seconds per repetition. */
interface Cluster {
  name: string;
  endpoints: { port: number }[];
}

const SIZES: Record<Mode, number[]> = { smoke: [100], quick: [1000], full: [1000, 10000] };
/**
 * Each ServiceEntry now takes ~100 stat slots (cluster counters, breaker gauges, outlier and
 * histogram buckets, tcp_proxy): 10,000 fit the default 1,048,576 with little room, so the
 * benches give the proxy 2,097,152 (a configuration that does not fit is not applied).
 */
const STATS_CAPACITY = 1 << 21;

function row(ctx: MeasureContext, target: string, label: string, variant: string, samples: Sample[]): Row {
  return { target, label, layer: 'l4', workers: ctx.workers, cpus: ctx.cpus.proxy, pinned: ctx.cpus.pinned, variant, tool: 'wall clock', unit: 'ms', ...summarise(samples) };
}

function timeCommand(ctx: MeasureContext, args: string[]): Sample {
  const argv = onCpus(ctx.cpus.proxy, [process.execPath, join(REPO, 'bin', 'legate.js'), ...args]);
  const t = performance.now();
  const r = spawnSync(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  const ms = performance.now() - t;
  if (args[0] === 'validate' && r.status !== 0) throw new Error(`legate validate failed: ${r.stdout}${r.stderr}`.slice(0, 500));
  return { value: ms };
}

async function runSelf(ctx: MeasureContext): Promise<Row[]> {
  const rows: Row[] = [];
  const dir = join(ctx.tmp, 'config-apply');
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  const reps = ctx.timing.reps;
  const startup: Sample[] = [];
  for (let i = 0; i < reps; i++) startup.push(timeCommand(ctx, ['--help']));
  rows.push(row(ctx, 'node-startup', 'node start-up (legate --help), for reference', '—', startup));
  for (const n of SIZES[ctx.mode]) {
    const file = join(dir, `service-entries-${n}.yaml`);
    writeFileSync(file, manyServiceEntries(n), { mode: 0o644 });
    const samples: Sample[] = [];
    for (let i = 0; i < reps; i++) samples.push(timeCommand(ctx, ['validate', file]));
    rows.push(row(ctx, 'legate-validate', 'legate validate (process start to exit)', `${n} ServiceEntries`, samples));
  }

  const confDir = join(dir, 'watched');
  mkdirSync(confDir, { recursive: true, mode: 0o755 });
  writeFileSync(join(confDir, 'mesh.yaml'), MESH_YAML, { mode: 0o644 });
  const proc = start(legateArgv(ctx.cpus.proxy, confDir, ctx.workers, 'handoff', ['--stats-capacity', String(STATS_CAPACITY)]), {
    logFile: join(ctx.tmp, 'legate-config-apply.log'),
  });
  try {
    await waitUntil('legate admin', () => canConnect(ADMIN.host, ADMIN.port), 10_000, proc.exited);
    let generation = 0;
    for (const n of SIZES[ctx.mode]) {
      await timeRenameToApplied(ctx.tmp, confDir, manyServiceEntries(n, ++generation)); // warm-up
      const samples: Sample[] = [];
      for (let i = 0; i < reps; i++) samples.push(await timeRenameToApplied(ctx.tmp, confDir, manyServiceEntries(n, ++generation)));
      // The counter moved; check that /config_dump really serves the new version: every entry, each at its new port.
      const dump = JSON.parse(await adminGet('/config_dump?resource=dynamic_active_clusters')) as { configs: { version_info?: string; cluster: Cluster }[] };
      const clusters = dump.configs.map((c) => c.cluster);
      const current = clusters.filter((c) => {
        const i = /^outbound\|\d+\|\|svc-(\d+)\.bench\.internal$/.exec(c.name)?.[1];
        return i !== undefined && Number(i) < n && c.endpoints[0]?.port === endpointPortOf(Number(i), generation);
      }).length;
      if (current !== n) throw new Error(`/config_dump shows ${current} of the ${n} entries at their new endpoint`);
      const r = row(ctx, 'legate-reload', 'legate reload (file rename → new version applied)', `${n} ServiceEntries`, samples);
      r.extra.rss = treeMemoryMB(proc.pid).rss;
      r.extra.version = Math.max(...dump.configs.map((c) => Number(c.version_info ?? NaN)));
      rows.push(r);
    }
  } finally {
    await proc.stop();
  }
  return rows;
}

export const scenario: Scenario = selfRunScenario({
  name: 'config_apply',
  title: 'Configuration apply time, 1,000 and 10,000 ServiceEntries',
  describes:
    '`legate validate` on a generated file (process start to exit; Node start-up shown for reference), and on a running proxy the time from ' +
    'renaming a new file into the watched directory until `legate.config.update_success` counts the new version (polled every 5 ms on /stats; ' +
    'includes the file watcher\'s 100 ms debounce); /config_dump is then checked to serve every entry at its new endpoint. Each generation moves ' +
    'every entry to another endpoint port. The proxy runs with --stats-capacity 2097152 (the default is 1,048,576 slots).',
  order: 80,
  unit: 'ms',
  // Each repetition is one validate or one reload (the reload has one warm-up apply of its own).
  oneShot: true,
  runSelf,
  columns: [
    { key: 'rss', header: 'proxy RSS MB after', digits: 0 },
    { key: 'version', header: 'config version', digits: 0 },
  ],
});
