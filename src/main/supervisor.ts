import type { Server } from 'node:http';
// First: sets V8's regex backtracking limit before any worker isolate exists.
import '../config/re2.js';
import { configureWorkerV8 } from './worker_v8.js';
import { adminRoutes, startHttp, type AdminView } from '../admin/server.js';
import { appHealthRoutes } from '../admin/app_health.js';
import { statusPortRoutes } from '../admin/status_port.js';
import { renderPrometheus } from '../admin/prometheus.js';
import type { ServerGauges } from '../admin/prometheus.js';
import { proxyIdentity } from '../stats/istio/identity.js';
import { collectHistograms } from '../stats/latency.js';
import { formatDiagnostic } from '../config/diagnostics.js';
import { FileConfigSource, type SnapshotUpdate } from '../config/source.js';
import { XdsSource } from '../xds/source.js';
import { XdsStats } from '../xds/stats.js';
import { nodeIdentity, nodeMessage, type NodeIdentity } from '../xds/node.js';
import { defaultMesh } from '../config/mesh.js';
import type { Snapshot } from '../config/model.js';
import type { ProxyRole } from '../config/model.js';
import { indexStatsAfter, serverStatIndex, type StatIndex } from '../config/snapshot.js';
import { LegateError } from '../errors.js';
import { logger } from '../log.js';
import { BoundListeners } from '../listener/bound_listeners.js';
import { nativeSockets } from '../listener/native/index.js';
import { StatsRegistry } from '../stats/store.js';
import { CircuitBreakerRegistry } from '../cluster/circuit_breaker_registry.js';
import { indexBreakers } from '../cluster/circuit_breaker_stats.js';
import type { ProxyOptions } from './options.js';
import { WorkerPool } from './worker_pool.js';
import { DEFAULT_DNS_RUNTIME, DnsRuntime } from '../dns/runtime.js';
import { dnsAdminHandler } from '../dns/admin.js';
import { HostRegistry } from '../cluster/host_registry.js';
import { OutlierManager } from '../cluster/outlier/manager.js';
import type { HostUpdateSink } from '../cluster/host_update.js';
import { ownHeapFigures } from '../admin/memory.js';
import { logLevel } from '../log.js';
import { activeDownstreamConnections, terminationSettings, waitForTermination } from './lifecycle.js';

const log = logger('main');

/**
 * The main thread of `legate proxy sidecar|router`: configuration, workers, listeners,
 * admin/readiness/Prometheus, and the lifecycle (SIGTERM drain, /quitquitquit).
 */
export async function runProxy(opts: ProxyOptions, role: ProxyRole): Promise<void> {
  if (opts.config.length === 0 && !opts.xds) throw new LegateError('EOPTION', 'no configuration: pass --config PATH (a file or directory) or --xds HOST:PORT');
  if (opts.config.length > 0 && opts.xds) throw new LegateError('EOPTION', '--config and --xds are exclusive: configuration comes from files or from a management server');
  const startedAt = new Date();
  const identity = proxyIdentity({ podName: opts.podName, workloadName: opts.workloadName, namespace: opts.podNamespace, labels: opts.proxyLabels, clusterId: opts.clusterId, meshId: opts.meshId });
  const registry = new StatsRegistry({
    slabs: opts.concurrency * 2 + 1,
    capacity: opts.statsCapacity,
    ...(opts.disableIstioStats ? {} : { istio: { identity, maxSeries: opts.istioStatsSeries } }),
  });
  const mainStats = registry.mainWriter();
  // Circuit-breaker counts shared by all workers (a column per live worker, as many as stats slabs).
  const breakers = new CircuitBreakerRegistry({ columns: opts.concurrency * 2 });
  const server = serverStatIndex(registry);
  const native = nativeSockets();

  const source = opts.xds ? xdsSource(opts, opts.xds, role, new XdsStats(registry, mainStats)) : fileSource(opts, role);
  const firstSnapshot = source instanceof XdsSource ? await waitForXds(source, opts.xds!) : loadFiles(source);
  // Bad lifecycle settings (e.g. MINIMUM_DRAIN_DURATION) stop the start, not the shutdown.
  const startTermination = terminationSettings(process.env, firstSnapshot.mesh);
  configureWorkerV8(opts.workerSemiSpaceMb);
  const pool = new WorkerPool(opts.concurrency, registry, native, {
    breakers,
    maxConnections: opts.maxConnections,
    acceptMode: opts.acceptMode,
    transparent: opts.transparent,
    locality: opts.locality,
    certDir: opts.certDir,
    credentialDir: opts.credentialDir,
    busyPoll: opts.busyPoll,
    onRestart: () => mainStats.inc(server.workerRestarts),
  });
  // Every cluster's hosts get a shared slot (outlier counters and verdicts, /clusters stats);
  // the outlier detectors decide on this thread from the workers' reports.
  const hostRegistry = new HostRegistry(pool.hostSlots);
  const outlier = new OutlierManager(hostRegistry, { registry, writer: mainStats }, (cluster) => pool.announceEjections(cluster));
  pool.onOutlierReport = (r) => outlier.onReport(r);
  const hostSink: HostUpdateSink = {
    publishHosts: (u, full) => {
      hostRegistry.onDnsHosts(u, full);
      pool.publishHosts(u, full);
    },
    forgetHosts: (cluster) => pool.forgetHosts(cluster),
  };
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
    hostSink,
    { registry, writer: mainStats },
  );
  const bound = native && opts.acceptMode === 'handoff' ? new BoundListeners(native, pool, { transparent: opts.transparent, backlog: opts.backlog, onLost: () => mainStats.inc(server.handoffFailed) }) : undefined;
  if (!native) log.error('listeners are not started without the native addon; admin and readiness still serve');
  const http: Server[] = [];
  /** Stops everything started: at the end of a shutdown, or when a later start step fails. */
  const release = async () => {
    source.close();
    bound?.closeAll();
    pool.stopAccepting();
    // Apps resolve until the end of the drain; the DNS proxy goes with the admin ports.
    await dns.close();
    for (const h of http) h.close();
    await pool.close();
  };
  /**
   * A start step that fails (a port in use, say) stops what the steps before it started, so the
   * process exits with the error, as Envoy does, instead of lingering half-started: workers and
   * listeners alive, nothing answering readiness, and nothing for the kubelet to restart.
   */
  const startStep = <T>(step: Promise<T>): Promise<T> =>
    step.catch(async (err: unknown) => {
      await release().catch((e: Error) => log.error(`stopping after a failed start: ${e.message}`));
      throw err;
    });
  // Updates are applied one at a time, in order. Listeners a change adds are bound once the
  // workers serve the snapshot that has them (so no connection reaches a worker that does not
  // know its listener), and then accept at once. DNS host sets follow the snapshot on the same
  // channel, so workers always know the clusters they are for.
  let applying: Promise<void> = Promise.resolve();
  let stats: StatIndex | undefined;
  const publish = ({ snapshot: s, delta }: SnapshotUpdate) => {
    applying = applying.then(async () => {
      const previous = stats;
      stats = indexStatsAfter(previous, s, delta, registry);
      stats.hostSlots = hostRegistry.syncSnapshot(s.clusters);
      indexBreakers(breakers, registry, stats === previous && delta ? delta.clusters.upsert : s.clusters, (stats.breakers ??= {}));
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
  await startStep(dns.start(firstSnapshot));
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
    clusters: { hosts: hostRegistry, outlier },
    snapshot: () => source.current,
    lastRejected: () => source.lastRejected,
    resourceInfo: (o: object) => source.resourceInfo(o),
    configInfo: () => ({ counts: source.counts, last_apply_ms: source instanceof FileConfigSource ? source.lastTimings : undefined, ...(source instanceof XdsSource ? source.info() : {}), listenerErrors: Object.fromEntries(bound?.errors ?? []), workers: Object.fromEntries(pool.appliedVersions()) }),
    sectionVersion: (k) => (source instanceof XdsSource ? source.sectionVersion(k) : undefined),
    // Envoy: initialized and not health-check-failed is LIVE; /healthcheck/fail reads as DRAINING.
    state: () => (state === 'LIVE' && view.healthcheckFailed ? 'DRAINING' : state),
    // Ready: every worker serves a configuration and every listener accepts (a capture listener
    // that could not be bound would black-hole the pod's traffic).
    ready: () => view.state() === 'LIVE' && pool.appliedVersions().size >= opts.concurrency && (bound?.errors.size ?? 0) === 0,
    startedAt,
    serverGauges: (): ServerGauges => {
      const mem = process.memoryUsage();
      return {
        live: state === 'LIVE' ? 1 : 0,
        uptime: Math.floor((Date.now() - startedAt.getTime()) / 1000),
        concurrency: opts.concurrency,
        state: ({ LIVE: 0, DRAINING: 1, PRE_INITIALIZING: 2, INITIALIZING: 3 } as const)[state],
        memory_allocated: mem.heapUsed,
        memory_heap_size: mem.heapTotal,
      };
    },
    histograms: () => collectHistograms(pool.id, pool.appliedVersions().size),
    healthcheckFailed: false,
    quit: () => void shutdown(0),
    identity: {
      ...identityOf(nodeIdentity(role, process.env, { namespace: opts.podNamespace, labels: opts.proxyLabels, dnsCapture: opts.dnsCapture, dnsAutoAllocate: opts.dnsAutoAllocate })),
      concurrency: opts.concurrency,
      drainTimeMs: firstSnapshot.mesh.drainDurationMs,
      terminationDrainMs: startTermination.terminationDrainMs,
      logLevel,
      argv: process.argv.slice(2),
    },
    drainListeners,
    heaps: async () => [ownHeapFigures(), ...(await pool.heaps())],
  };
  const routes = adminRoutes(view);
  routes.get['/dns'] = dnsAdminHandler(dns);
  routes.help['/dns'] = 'DNS proxy name table, caches and DNS clusters';
  http.push(await startStep(startHttp(routes, opts.adminAddress, opts.adminPort)));
  // Also the rewritten app probes (Istio's /app-health on its status port): `legate inject` points the kubelet here.
  http.push(await startStep(startHttp({ get: { '/healthz/ready': (_q, res) => void res.writeHead(view.ready() ? 200 : 503).end(), ...appHealthRoutes(process.env.ISTIO_KUBE_APP_PROBERS) } }, '0.0.0.0', opts.readinessPort)));
  // Istio's merged metrics port: the same text as the admin's /stats/prometheus.
  http.push(await startStep(startHttp({ get: { '/stats/prometheus': routes.get['/stats/prometheus'] } }, '0.0.0.0', opts.prometheusPort)));
  if (opts.statusPort > 0) {
    // pilot-agent's port: where injected pods send the kubelet's probes and Prometheus. Not
    // being able to serve it degrades probes and scraping only, so the proxy goes on.
    const statusView = { ready: view.ready, prometheus: () => renderPrometheus(view.registry, view.serverGauges?.()), quit: view.quit };
    await startHttp(statusPortRoutes(statusView, process.env), '0.0.0.0', opts.statusPort).then(
      (server) => http.push(server),
      (err: Error) => log.error(`status port :${opts.statusPort} not served: ${err.message}`),
    );
  }
  log.info(`admin on ${opts.adminAddress}:${opts.adminPort}, readiness on :${opts.readinessPort}, prometheus on :${opts.prometheusPort}, status on :${opts.statusPort || 'off'}; ${opts.concurrency} workers, ${opts.acceptMode} accept`);

  /**
   * Envoy's /drain_listeners: the bound listeners (inbound ones only with `inboundOnly`) either
   * stop accepting at once, or drain gracefully — HTTP responses carry `connection: close`, idle
   * keep-alive connections close — and stop accepting after the drain time (mesh drainDuration).
   */
  function drainListeners({ graceful, inboundOnly }: { graceful: boolean; inboundOnly: boolean }): void {
    const s = source.current;
    if (!s) return;
    const names = s.listeners.filter((l) => l.bindToPort && (!inboundOnly || l.trafficDirection === 'INBOUND')).map((l) => l.name);
    const stop = () => {
      bound?.stop(names);
      pool.stopAccepting(names);
    };
    log.info(`draining listeners ${names.join(', ') || '(none)'}${graceful ? ` gracefully for ${s.mesh.drainDurationMs} ms` : ''}`);
    if (!graceful) return stop();
    pool.drainHttp(names);
    setTimeout(stop, s.mesh.drainDurationMs).unref();
  }

  /**
   * Istio's order on SIGTERM: not ready at once; inbound listeners drain gracefully (a router
   * drains all); outbound keeps working for terminationDrainDuration — or, with
   * EXIT_ON_ZERO_ACTIVE_CONNECTIONS, until no connection is open after MINIMUM_DRAIN_DURATION;
   * then exit.
   */
  function shutdown(code: number): Promise<void> {
    quitting ??= (async () => {
      state = 'DRAINING';
      let term = startTermination;
      try {
        if (source.current) term = terminationSettings(process.env, source.current.mesh);
      } catch (err) {
        log.error(`${(err as Error).message}; using the settings read at start`);
      }
      log.info(
        term.exitOnZeroActiveConnections
          ? `draining: exit once no connection is open, checked after ${term.minimumDrainMs} ms`
          : `draining for ${term.terminationDrainMs} ms before exit`,
      );
      drainListeners({ graceful: true, inboundOnly: role === 'sidecar' });
      source.close();
      await waitForTermination(term, () => activeDownstreamConnections(registry), (n) => n > 0 && log.info(`${n} active connections`));
      await release();
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
    loopbackPorts: [opts.adminPort, opts.dnsPort],
    hcmTimeouts: { streamIdleTimeoutMs: opts.streamIdleTimeoutMs, requestHeadersTimeoutMs: opts.requestHeadersTimeoutMs },
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

/** The node as /server_info shows it: the same id, cluster and metadata the proxy sends to an xDS server. */
function identityOf(node: NodeIdentity): { nodeId: string; cluster: string; metadata: Record<string, unknown> } {
  return { nodeId: node.id, cluster: node.cluster, metadata: node.metadata };
}
