import { selfRunScenario } from '../lib/self_run.js';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { adminGet } from '../lib/admin_client.js';
import { timeRenameToApplied } from '../lib/apply_timer.js';
import { onCpus } from '../lib/cpus.js';
import { endpointPortOf, MESH_YAML, serviceEntry } from '../lib/legate_config.js';
import { asProxyUser } from '../lib/netns.js';
import { REPO } from '../lib/paths.js';
import { canConnect, sleep, start, treeMemoryMB, waitUntil, type Started } from '../lib/proc.js';
import { summarise } from '../lib/stats.js';
import { ADMIN } from '../lib/targets/legate.js';
import type { MeasureContext, Mode, Row, Sample, Scenario } from '../lib/types.js';

const SIZES: Record<Mode, number[]> = { smoke: [100], quick: [1000], full: [1000, 10000] };
const XDS_PORT = 15010;
const DEBUG_PORT = 15014;
const STATS_CAPACITY = 1 << 21;
/** Extra proxies connected to measure the server's memory per proxy (one in smoke runs, which only check the path). */
const EXTRA_PROXIES: Record<Mode, number> = { smoke: 1, quick: 4, full: 4 };

interface Cluster {
  name: string;
  endpoints: { port: number }[];
}

/** `n` ServiceEntries at generation `base`, except entry 0 (the one endpoint that moves) at `moved`. */
function services(n: number, base: number, moved: number): string {
  const docs = [MESH_YAML];
  for (let i = 0; i < n; i++) {
    const vip = `10.${128 + ((i >> 16) & 127)}.${(i >> 8) & 255}.${i & 255}`;
    docs.push(serviceEntry({ name: `svc-${i}`, vip, port: 8000 + (i % 1000), endpointPort: endpointPortOf(i, i === 0 ? moved : base) }));
  }
  return docs.join('---\n');
}

function legateCli(ctx: MeasureContext, cpus: string, args: string[]): string[] {
  return onCpus(cpus, asProxyUser([process.execPath, join(REPO, 'bin', 'legate.js'), ...args]));
}

/** A proxy driven only by the xDS server; `k` > 0 moves its ports out of the measured proxy's way. */
function xdsProxy(ctx: MeasureContext, k: number): Started {
  const ports = k === 0 ? [] : ['--admin-port', String(16000 + k), '--readiness-port', String(16100 + k), '--prometheus-port', String(16200 + k), '--status-port', String(16500 + k), '--outbound-port', String(16300 + k), '--inbound-port', String(16400 + k)];
  const args = ['proxy', 'sidecar', '--xds', `127.0.0.1:${XDS_PORT}`, '--concurrency', String(k === 0 ? ctx.workers : 1), '--stats-capacity', String(STATS_CAPACITY), ...ports];
  return start(legateCli(ctx, k === 0 ? ctx.cpus.proxy : ctx.cpus.load, args), { logFile: join(ctx.tmp, `legate-xds-${k}.log`) });
}

async function servedPort(name: string): Promise<number | undefined> {
  const dump = JSON.parse(await adminGet('/config_dump?resource=dynamic_active_clusters')) as { configs: { cluster: Cluster }[] };
  return dump.configs.find((c) => c.cluster.name === name)?.cluster.endpoints[0]?.port;
}

function row(ctx: MeasureContext, target: string, label: string, variant: string, samples: Sample[]): Row {
  return { target, label, layer: 'l4', workers: ctx.workers, cpus: ctx.cpus.proxy, pinned: ctx.cpus.pinned, variant, tool: 'wall clock', unit: 'ms', ...summarise(samples) };
}

async function runSelf(ctx: MeasureContext): Promise<Row[]> {
  const rows: Row[] = [];
  const confDir = join(ctx.tmp, 'xds-push', 'watched');
  mkdirSync(confDir, { recursive: true, mode: 0o755 });
  for (const n of SIZES[ctx.mode]) {
    let generation = 0;
    writeFileSync(join(confDir, 'services.yaml'), services(n, generation, generation), { mode: 0o644 });
    // The control plane runs beside the load generator, the proxy on its own core(s).
    const server = start(legateCli(ctx, ctx.cpus.load, ['xds-server', '--config', confDir, '--port', String(XDS_PORT), '--debug-port', String(DEBUG_PORT)]), {
      logFile: join(ctx.tmp, `xds-server-${n}.log`),
    });
    const procs: Started[] = [server];
    try {
      await waitUntil('xds-server', () => canConnect('127.0.0.1', XDS_PORT), 60_000, server.exited);
      const idleServer = treeMemoryMB(server.pid).rss;
      const proxy = xdsProxy(ctx, 0);
      procs.push(proxy);
      await waitUntil('legate admin (first configuration over xDS)', () => canConnect(ADMIN.host, ADMIN.port), 120_000, proxy.exited);
      const oneProxy = treeMemoryMB(server.pid).rss;
      const one: Sample[] = [];
      const all: Sample[] = [];
      await timeRenameToApplied(ctx.tmp, confDir, services(n, generation, ++generation)); // warm-up
      for (let i = 0; i < ctx.timing.reps; i++) one.push(await timeRenameToApplied(ctx.tmp, confDir, services(n, 0, ++generation)));
      const port = await servedPort(`outbound|8000||svc-0.bench.internal`);
      if (port !== endpointPortOf(0, generation)) throw new Error(`/config_dump serves svc-0 at ${port}, not at generation ${generation}'s port`);
      for (let i = 0; i < ctx.timing.reps; i++) {
        ++generation;
        all.push(await timeRenameToApplied(ctx.tmp, confDir, services(n, generation, generation)));
      }
      const r1 = row(ctx, 'xds-push-one', 'xDS push: one endpoint changed → applied on every worker', `${n} ServiceEntries`, one);
      const r2 = row(ctx, 'xds-push-all', 'xDS push: every endpoint changed → applied on every worker', `${n} ServiceEntries`, all);
      const extra = EXTRA_PROXIES[ctx.mode];
      for (let k = 1; k <= extra; k++) procs.push(xdsProxy(ctx, k));
      await waitUntil(`${extra} more proxies configured`, async () => {
        for (let k = 1; k <= extra; k++) if (!(await canConnect('127.0.0.1', 16000 + k))) return false;
        return true;
      }, 120_000);
      await sleep(500);
      const perProxy = (treeMemoryMB(server.pid).rss - oneProxy) / extra;
      for (const r of [r1, r2]) {
        r.extra.serverIdle = idleServer;
        r.extra.serverPerProxy = perProxy;
      }
      rows.push(r1, r2);
    } finally {
      for (const p of procs.reverse()) await p.stop();
    }
  }
  return rows;
}

export const scenario: Scenario = selfRunScenario({
  name: 'xds_push',
  title: 'xDS push to applied on every worker, and the server\'s memory per proxy',
  describes:
    '`legate xds-server` serves a watched directory of ServiceEntries to `legate proxy sidecar --xds` (Delta ADS). A new file is renamed in; ' +
    'the time until the proxy counts the new version applied on every worker (`legate.config.update_success`, polled every 5 ms on /stats; ' +
    'includes the server\'s file watcher and its 100 ms debounce, translation, the push of the changed types, conversion and the workers\' apply). ' +
    'Rows: one endpoint moved (EDS only), and every endpoint moved. The server\'s RSS when idle, and its growth per extra connected proxy ' +
    `(${EXTRA_PROXIES.quick} more proxies of the same namespace; 1 in smoke runs).`,
  order: 85,
  unit: 'ms',
  oneShot: true,
  runSelf,
  columns: [
    { key: 'serverIdle', header: 'server RSS MB idle', digits: 0 },
    { key: 'serverPerProxy', header: 'server RSS MB per extra proxy', digits: 1 },
  ],
});
