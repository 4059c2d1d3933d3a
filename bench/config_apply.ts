/**
 * How long a configuration change takes to serve on every worker, and what it costs in
 * memory, for 10, 1,000 and 10,000 services (each a ServiceEntry with a DestinationRule of
 * two subsets and a weighted VirtualService). Runs the real pieces in-process: the file
 * source (watch, debounce, parse, validate, translate, share), the stats index, and a
 * WorkerPool of real worker threads that apply the snapshot or delta and acknowledge it.
 *
 *   node dist/bench/config_apply.js [--sizes 10,1000,10000] [--workers 2] [--out bench/results]
 *
 * Measured per size: the initial load; a file change to one service's endpoints (a host
 * change: one delta of a few clusters); a change to one VirtualService's weights (the
 * port's route configuration is resent); adding a service. "watch→served" includes the
 * source's 100 ms debounce; "apply→served" starts at the reload itself.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { FileConfigSource, type SnapshotUpdate } from '../src/config/source.js';
import { indexStatsAfter, type StatIndex } from '../src/config/snapshot.js';
import { DEFAULT_TRANSLATE_OPTIONS } from '../src/config/translate/context.js';
import { WorkerPool } from '../src/main/worker_pool.js';
import { StatsRegistry } from '../src/stats/store.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const args = process.argv.slice(2);
const arg = (name: string, dflt: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const SIZES = arg('sizes', '10,1000,10000').split(',').map(Number);
const WORKERS = Number(arg('workers', '2'));
const OUT = arg('out', join('bench', 'results'));
const PER_FILE = 500;
const DEBOUNCE_MS = 100;

const ip = (i: number, base: number) => `${base}.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;

function serviceYaml(i: number, v1Weight = 90, endpointSeed = 0): string {
  const name = `svc-${i}`;
  return `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: ${name}, namespace: bench}
spec:
  hosts: [${name}.bench.svc.cluster.local]
  addresses: [${ip(i, 10)}]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{number: 80, name: http, protocol: HTTP}]
  endpoints:
  - {address: ${ip(i + endpointSeed, 11)}, labels: {version: v1}}
  - {address: ${ip(i, 12)}, labels: {version: v2}}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: ${name}, namespace: bench}
spec:
  host: ${name}
  trafficPolicy:
    connectionPool: {tcp: {maxConnections: 100}, http: {http1MaxPendingRequests: 50}}
    outlierDetection: {consecutive5xxErrors: 5, interval: 10s}
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v2, labels: {version: v2}}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ${name}, namespace: bench}
spec:
  hosts: [${name}]
  http:
  - match: [{headers: {x-canary: {exact: "yes"}}}]
    route: [{destination: {host: ${name}, subset: v2}}]
  - route:
    - {destination: {host: ${name}, subset: v1}, weight: ${v1Weight}}
    - {destination: {host: ${name}, subset: v2}, weight: ${100 - v1Weight}}
    retries: {attempts: 3, perTryTimeout: 2s}
    timeout: 10s
---
`;
}

function writeFiles(dir: string, n: number, overrides: Map<number, string> = new Map()): void {
  for (let f = 0; f * PER_FILE < n; f++) writeFile(dir, f, n, overrides);
}
function writeFile(dir: string, f: number, n: number, overrides: Map<number, string>): void {
  let text = '';
  for (let i = f * PER_FILE; i < Math.min(n, (f + 1) * PER_FILE); i++) text += overrides.get(i) ?? serviceYaml(i);
  writeFileSync(join(dir, `services-${String(f).padStart(3, '0')}.yaml`), text);
}

const mb = (b: number) => Math.round((b / 1048576) * 10) / 10;

interface Step {
  step: string;
  watchToServedMs: number;
  delta: string;
  /** Main-thread phases of the change, and publishing (stats index + posting). */
  phases?: Record<string, number>;
}

async function measure(n: number): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), `legate-bench-config-${n}-`));
  writeFiles(dir, n);
  gc();
  const before = process.memoryUsage();
  const registry = new StatsRegistry({ slabs: WORKERS * 2 + 1, capacity: 1 << 20 });
  const pool = new WorkerPool(WORKERS, registry, null, { acceptMode: 'handoff', transparent: false, onRestart: () => {} });
  const source = new FileConfigSource([dir], { ...DEFAULT_TRANSLATE_OPTIONS, namespace: 'bench' }, DEBOUNCE_MS, 60_000);
  let lastApplied = 0;
  let publishMs = 0;
  let stats: StatIndex | undefined;
  const publish = ({ snapshot, delta }: SnapshotUpdate) => {
    const t = performance.now();
    stats = indexStatsAfter(stats, snapshot, delta, registry);
    pool.publish({ snapshot, stats }, delta);
    publishMs = Math.round(performance.now() - t);
    lastApplied = snapshot.version;
  };
  source.on('update', publish);
  const t0 = performance.now();
  const first = source.load();
  if (!first.snapshot) throw new Error(first.diagnostics.map((d) => d.message).slice(0, 5).join('\n'));
  const tLoaded = performance.now();
  await pool.whenApplied(1);
  const initialMs = performance.now() - t0;
  const translateMs = tLoaded - t0;
  const s = source.current!;
  source.watch();
  // Let start-up settle (workers and the main thread collect the initial load's garbage):
  // the first change right after start-up is measured separately.
  const firstChange = performance.now();
  const idx0 = 1;
  writeFile(dir, 0, n, new Map([[idx0, serviceYaml(idx0, 90, 3)]]));
  await pool.whenApplied(lastApplied + 1);
  const firstChangeMs = Math.round(performance.now() - firstChange);
  await new Promise((r) => setTimeout(r, 3000));

  const steps: Step[] = [];
  const change = async (step: string, edit: () => void) => {
    let delta = '';
    let updateAt = 0;
    const onUpdate = (u: SnapshotUpdate) => {
      updateAt = performance.now();
      const d = u.delta;
      delta = d ? `${d.listeners.upsert.length}L/${d.routes.upsert.length}R/${d.routePatches?.length ?? 0}P/${d.clusters.upsert.length}C` : 'full';
    };
    source.once('update', onUpdate);
    const target = lastApplied + 1;
    const start = performance.now();
    edit();
    await pool.whenApplied(target);
    steps.push({ step, watchToServedMs: Math.round(performance.now() - start), delta, phases: { ...source.lastTimings, publishMs, workerApplyMs: Math.max(...pool.lastApplyMs.values()), writeToUpdateMs: Math.round(updateAt - start) } });
  };
  const idx = Math.floor(n / 2);
  const fileOf = (i: number) => Math.floor(i / PER_FILE);
  await change('endpoint change (1 service)', () => writeFile(dir, fileOf(idx), n, new Map([[idx, serviceYaml(idx, 90, 7)]])));
  await change('VirtualService weights (1 service)', () => writeFile(dir, fileOf(idx), n, new Map([[idx, serviceYaml(idx, 70, 7)]])));
  await change('add a service', () => writeFileSync(join(dir, 'zz-new.yaml'), serviceYaml(n + 1)));

  // The pipeline without the debounce: reload() directly.
  writeFile(dir, fileOf(idx), n, new Map([[idx, serviceYaml(idx, 60, 9)]]));
  const r0 = performance.now();
  source.reload();
  await pool.whenApplied(lastApplied);
  const applyToServedMs = Math.round(performance.now() - r0);

  gc();
  const after = process.memoryUsage();
  const result = {
    services: n,
    resources: n * 3,
    workers: WORKERS,
    listeners: s.listeners.length,
    routeConfigs: s.routes.length,
    virtualHosts: s.routes.reduce((a, r) => a + r.virtualHosts.length, 0),
    clusters: s.clusters.length,
    initialTranslateMs: Math.round(translateMs),
    initialServedMs: Math.round(initialMs),
    firstChangeAfterStartMs: firstChangeMs,
    steps,
    applyToServedMs,
    heapMB: mb(after.heapUsed - before.heapUsed),
    rssMB: mb(after.rss - before.rss),
    snapshotJsonMB: mb(JSON.stringify({ l: s.listeners, r: s.routes, c: s.clusters }).length),
  };
  source.close();
  await pool.close();
  rmSync(dir, { recursive: true, force: true });
  return result;
}

const results: Record<string, unknown>[] = [];
for (const n of SIZES) {
  const r = await measure(n);
  results.push(r);
  process.stdout.write(JSON.stringify(r) + '\n');
}

const steps = (results[0].steps as Step[]).map((s) => s.step);
const md = [
  `# Config apply (${new Date().toISOString()}, ${WORKERS} workers, debounce ${DEBOUNCE_MS} ms, node ${process.version}; delta = listeners/route configs/route patches/clusters sent)`,
  '',
  `| services | clusters | initial translate | initial served | first change after start | ${steps.map((s) => `${s} watch→served (delta)`).join(' | ')} | reload→served | heap | RSS | snapshot JSON |`,
  `|---:|---:|---:|---:|---:|${steps.map(() => '---:').join('|')}|---:|---:|---:|---:|`,
  ...results.map((r) => `| ${r.services} | ${r.clusters} | ${r.initialTranslateMs} ms | ${r.initialServedMs} ms | ${r.firstChangeAfterStartMs} ms | ${(r.steps as Step[]).map((s) => `${s.watchToServedMs} ms (${s.delta})`).join(' | ')} | ${r.applyToServedMs} ms | ${r.heapMB} MB | ${r.rssMB} MB | ${r.snapshotJsonMB} MB |`),
  '',
].join('\n');
mkdirSync(OUT, { recursive: true });
writeFileSync(join(OUT, 'config_apply.json'), JSON.stringify(results, null, 2) + '\n');
writeFileSync(join(OUT, 'config_apply.md'), md);
process.stdout.write('\n' + md);
