import type { Server } from 'node:net';
import { adminRoutes, startHttp, type AdminView } from '../admin/server.js';
import { renderPrometheus } from '../admin/prometheus.js';
import { formatDiagnostic } from '../config/diagnostics.js';
import { FileConfigSource } from '../config/source.js';
import type { Snapshot } from '../config/model.js';
import { indexStats, serverStatIndex } from '../config/snapshot.js';
import { LegateError } from '../errors.js';
import { logger } from '../log.js';
import { listenHandoff } from '../listener/handoff.js';
import { nativeSockets } from '../listener/native/index.js';
import { StatsRegistry } from '../stats/store.js';
import type { ProxyOptions } from './options.js';
import { WorkerPool } from './worker_pool.js';
import { DEFAULT_DNS_RUNTIME, DnsRuntime } from '../dns/runtime.js';
import { dnsAdminHandler } from '../dns/admin.js';

const log = logger('main');

/**
 * The main thread of `legate proxy sidecar`: configuration, workers, capture listeners,
 * admin/readiness/Prometheus, and the lifecycle (SIGTERM drain, /quitquitquit).
 */
export async function runSidecar(opts: ProxyOptions): Promise<void> {
  if (opts.config.length === 0) throw new LegateError('EOPTION', 'no configuration: pass --config PATH (a file or directory)');
  const startedAt = new Date();
  const registry = new StatsRegistry({ slabs: opts.concurrency * 2 + 1, capacity: opts.statsCapacity });
  const mainStats = registry.mainWriter();
  const server = serverStatIndex(registry);
  const native = nativeSockets();

  const source = new FileConfigSource(opts.config, {
    outboundPort: opts.outboundPort,
    inboundPort: opts.inboundPort,
    inboundTargetAddress: opts.inboundTarget,
    inboundSourceAddress: '127.0.0.6',
    dnsCapture: opts.dnsCapture,
    dnsAutoAllocate: opts.dnsAutoAllocate,
  });
  const first = source.load();
  if (!first.snapshot) {
    throw new LegateError('ECONFIG', `configuration rejected:\n${first.diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic).join('\n')}`);
  }
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
  const publish = (s: Snapshot) => {
    pool.publish({ snapshot: s, stats: indexStats(s, registry) });
    dns.onSnapshot(s);
    mainStats.inc(server.configApplied);
    log.info(`configuration version ${s.version} applied`, { listeners: s.listeners.length, clusters: s.clusters.length });
  };
  publish(first.snapshot);
  await dns.start(first.snapshot);
  source.on('snapshot', publish);
  source.on('rejected', () => {
    mainStats.inc(server.configRejected);
    log.error('configuration change rejected; the last good configuration keeps serving');
  });
  source.watch();

  let state: ReturnType<AdminView['state']> = 'INITIALIZING';
  const listeners: Server[] = [];
  if (!native) {
    log.error('capture listeners are not started without the native addon; admin and readiness still serve');
  } else if (opts.acceptMode === 'handoff') {
    for (const l of first.snapshot.listeners.filter((l) => l.bindToPort)) {
      listeners.push(
        await listenHandoff(l, native, pool, { transparent: opts.transparent, backlog: opts.backlog, onLost: () => mainStats.inc(server.handoffFailed) }),
      );
      log.info(`listening on ${l.address.address}:${l.address.port} (${l.name})`);
    }
  }
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
      for (const l of listeners) l.close();
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
