import { adminRoutes, startHttp, type AdminView } from '../admin/server.js';
import { renderPrometheus } from '../admin/prometheus.js';
import { formatDiagnostic } from '../config/diagnostics.js';
import { FileConfigSource, type SnapshotUpdate } from '../config/source.js';
import { XdsSource } from '../xds/source.js';
import { XdsStats } from '../xds/stats.js';
import { nodeIdentity, nodeMessage } from '../xds/node.js';
import { defaultMesh } from '../config/mesh.js';
import type { Snapshot } from '../config/model.js';
import type { ProxyRole } from '../config/model.js';
import { indexStatsAfter, serverStatIndex, type StatIndex } from '../config/snapshot.js';
import { LegateError } from '../errors.js';
import { logger } from '../log.js';
import { BoundListeners } from '../listener/bound_listeners.js';
import { nativeSockets } from '../listener/native/index.js';
import { StatsRegistry } from '../stats/store.js';
import type { ProxyOptions } from './options.js';
import { WorkerPool } from './worker_pool.js';
import { DEFAULT_DNS_RUNTIME, DnsRuntime } from '../dns/runtime.js';
import { dnsAdminHandler } from '../dns/admin.js';

const log = logger('main');

/**
 * The main thread of `legate proxy sidecar|router`: configuration, workers, listeners,
 * admin/readiness/Prometheus, and the lifecycle (SIGTERM drain, /quitquitquit).
 */
export async function runProxy(opts: ProxyOptions, role: ProxyRole): Promise<void> {
  if (opts.config.length === 0 && !opts.xds) throw new LegateError('EOPTION', 'no configuration: pass --config PATH (a file or directory) or --xds HOST:PORT');
  if (opts.config.length > 0 && opts.xds) throw new LegateError('EOPTION', '--config and --xds are exclusive: configuration comes from files or from a management server');
  const startedAt = new Date();
  const registry = new StatsRegistry({ slabs: opts.concurrency * 2 + 1, capacity: opts.statsCapacity });
  const mainStats = registry.mainWriter();
  const server = serverStatIndex(registry);
  const native = nativeSockets();

  const source = opts.xds ? xdsSource(opts, opts.xds, role, new XdsStats(registry, mainStats)) : fileSource(opts, role);
  const firstSnapshot = source instanceof XdsSource ? await waitForXds(source, opts.xds!) : loadFiles(source);
  const pool = new WorkerPool(opts.concurrency, registry, native, {
    acceptMode: opts.acceptMode,
    transparent: opts.transparent,
    onRestart: () => mainStats.inc(server.workerRestarts),
  });
  // DNS clusters resolve on this thread and reach workers as host-set diffs through the pool.
  const dns = new DnsRuntime(
    {
      ...DEFAULT_DNS_RUNTIME,
      capture: opts.dnsCapture,
      listenAddress: opts.dnsAddress,
      port: opts.dnsPort,
      upstreams: opts.dnsUpstream.flatMap((s) => s.split(',')).filter(Boolean),
      namespace: opts.podNamespace,
    },
    pool,
    { registry, writer: mainStats },
  );
  const bound = native && opts.acceptMode === 'handoff' ? new BoundListeners(native, pool, { transparent: opts.transparent, backlog: opts.backlog, onLost: () => mainStats.inc(server.handoffFailed) }) : undefined;
  if (!native) log.error('listeners are not started without the native addon; admin and readiness still serve');
  // Updates are applied one at a time, in order. Listeners a change adds are bound once the
  // workers serve the snapshot that has them (so no connection reaches a worker that does not
  // know its listener), and then accept at once. DNS host sets follow the snapshot on the same
  // channel, so workers always know the clusters they are for.
  let applying: Promise<void> = Promise.resolve();
  let stats: StatIndex | undefined;
  const publish = ({ snapshot: s, delta }: SnapshotUpdate) => {
    applying = applying.then(async () => {
      stats = indexStatsAfter(stats, s, delta, registry);
      pool.publish({ snapshot: s, stats }, delta);
      dns.onSnapshot(s);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([pool.whenApplied(s.version), new Promise((r) => (timer = setTimeout(r, 2000)))]);
      clearTimeout(timer);
      await bound?.sync(s);
      mainStats.inc(server.configApplied);
      log.info(`configuration version ${s.version} applied`, { listeners: s.listeners.length, routes: s.routes.length, clusters: s.clusters.length });
    }).catch((err) => {
      // E.g. stats capacity exhausted by a much larger config: workers keep what they have, and
      // later changes still apply (the chain must not stay rejected).
      mainStats.inc(server.configRejected);
      log.error(`configuration version ${s.version} could not be applied: ${(err as Error).message}`);
    });
    return applying;
  };
  await publish({ snapshot: firstSnapshot });
  await dns.start(firstSnapshot);
  source.on('update', (u: SnapshotUpdate) => void publish(u));
  source.on('rejected', () => {
    mainStats.inc(server.configRejected);
    log.error('configuration change rejected; the last good configuration keeps serving');
  });
  source.watch();

  let state: ReturnType<AdminView['state']> = 'INITIALIZING';
  if (native && opts.acceptMode === 'reuseport') {
    // Workers bind their own SO_REUSEPORT sockets once they have the snapshot: until every one
    // has, connections would be refused, so readiness waits for them.
    void pool.whenListening().then(() => {
      if (state === 'INITIALIZING') state = 'LIVE';
    });
  } else {
    state = 'LIVE';
  }

  let quitting: Promise<void> | undefined;
  const view: AdminView = {
    registry,
    snapshot: () => source.current,
    lastRejected: () => source.lastRejected,
    resourceInfo: (o: object) => source.resourceInfo(o),
    configInfo: () => ({ counts: source.counts, last_apply_ms: source instanceof FileConfigSource ? source.lastTimings : undefined, ...(source instanceof XdsSource ? source.info() : {}), listenerErrors: Object.fromEntries(bound?.errors ?? []), workers: Object.fromEntries(pool.appliedVersions()) }),
    sectionVersion: (k) => (source instanceof XdsSource ? source.sectionVersion(k) : undefined),
    state: () => state,
    ready: () => state === 'LIVE' && !view.healthcheckFailed,
    startedAt,
    healthcheckFailed: false,
    quit: () => void shutdown(0),
  };
  const routes = adminRoutes(view);
  routes.get['/dns'] = dnsAdminHandler(dns);
  const http = [
    await startHttp(routes, opts.adminAddress, opts.adminPort),
    await startHttp({ get: { '/healthz/ready': (_q, res) => (res.writeHead(view.ready() ? 200 : 503), res.end()) } }, '0.0.0.0', opts.readinessPort),
    await startHttp(
      { get: { '/stats/prometheus': (_q, res) => (res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }), res.end(renderPrometheus(registry))) } },
      '0.0.0.0',
      opts.prometheusPort,
    ),
  ];
  log.info(`admin on ${opts.adminAddress}:${opts.adminPort}, readiness on :${opts.readinessPort}, prometheus on :${opts.prometheusPort}; ${opts.concurrency} workers, ${opts.acceptMode} accept`);

  /** Stop accepting, let open connections run for terminationDrainDuration, then exit 0. */
  function shutdown(code: number): Promise<void> {
    quitting ??= (async () => {
      state = 'DRAINING';
      const drainMs = source.current?.mesh.terminationDrainDurationMs ?? 5000;
      log.info(`draining for ${drainMs} ms before exit`);
      bound?.closeAll();
      pool.stopAccepting();
      source.close();
      await new Promise((r) => setTimeout(r, drainMs));
      // Apps resolve until the end of the drain; the DNS proxy goes with the admin ports.
      await dns.close();
      for (const h of http) h.close();
      await pool.close();
      process.exit(code);
    })();
    return quitting;
  }
  process.once('SIGTERM', () => void shutdown(0));
  process.once('SIGINT', () => void shutdown(0));
}

function fileSource(opts: ProxyOptions, role: ProxyRole): FileConfigSource {
  return new FileConfigSource(opts.config, {
    role,
    namespace: opts.podNamespace ?? 'default',
    labels: opts.proxyLabels,
    outboundPort: opts.outboundPort,
    inboundPort: opts.inboundPort,
    inboundTargetAddress: opts.inboundTarget,
    inboundSourceAddress: '127.0.0.6',
    dnsCapture: opts.dnsCapture,
    dnsAutoAllocate: opts.dnsAutoAllocate,
  });
}

/** First load of files: errors are fatal, since there is no last good configuration yet. */
function loadFiles(source: FileConfigSource): Snapshot {
  const first = source.load();
  if (!first.snapshot) {
    throw new LegateError('ECONFIG', `configuration rejected:\n${first.diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic).join('\n')}`);
  }
  return first.snapshot;
}

/** xDS carries no MeshConfig: Istio's defaults, with the ISTIO_META_* environment as proxyMetadata (as the agent passes it). */
function xdsSource(opts: ProxyOptions, target: string, role: ProxyRole, stats: XdsStats): XdsSource {
  const mesh = defaultMesh();
  for (const [k, v] of Object.entries(process.env)) if (k.startsWith('ISTIO_META_') && v !== undefined) mesh.proxyMetadata[k] = v;
  const node = nodeIdentity(role, process.env, { namespace: opts.podNamespace, labels: opts.proxyLabels, dnsCapture: opts.dnsCapture, dnsAutoAllocate: opts.dnsAutoAllocate });
  const nameTable = opts.dnsCapture ?? mesh.proxyMetadata.ISTIO_META_DNS_CAPTURE === 'true';
  log.info(`configuration from ${opts.xdsDelta ? 'Delta' : 'State-of-the-World'} ADS at ${target} as ${node.id}`);
  return new XdsSource({ target, role, delta: opts.xdsDelta, node: nodeMessage(node), mesh, nameTable }, stats);
}

/** Like Envoy, the proxy does not serve until the first configuration (clusters, listeners, their endpoints and routes) has arrived. */
async function waitForXds(source: XdsSource, target: string): Promise<Snapshot> {
  const nag = setInterval(() => log.warn(`still waiting for the first configuration from ${target}`), 10_000);
  try {
    return await source.start();
  } finally {
    clearInterval(nag);
  }
}
