import test, { type ExecutionContext } from 'ava';
import type { AddressInfo } from 'node:net';
import { adminRoutes, startHttp, type AdminView } from '../../src/admin/server.js';
import type { Snapshot } from '../../src/config/model.js';
import { StatsRegistry } from '../../src/stats/store.js';
import { LISTENER } from '../../src/stats/scopes.js';
import { logLevel, loggerLevels, setLogLevel } from '../../src/log.js';

const snapshot = {
  version: 3,
  source: 'test',
  builtAt: '2026-01-01T00:00:00.000Z',
  role: 'sidecar',
  mesh: { drainDurationMs: 45000, terminationDrainDurationMs: 5000, proxyMetadata: {} },
  listeners: [
    { name: 'virtualOutbound', address: { address: '0.0.0.0', port: 15001 }, trafficDirection: 'OUTBOUND', bindToPort: true, useOriginalDst: true, filterChains: [] },
    { name: 'virtualInbound', address: { address: '0.0.0.0', port: 15006 }, trafficDirection: 'INBOUND', bindToPort: true, useOriginalDst: true, filterChains: [] },
  ],
  routes: [],
  clusters: [{ name: 'outbound|80||a.example', type: 'STATIC', lbPolicy: 'ROUND_ROBIN', connectTimeoutMs: 1000, endpoints: [{ address: '10.0.0.9', port: 8080, weight: 1, labels: { version: 'v1' } }] }],
} as unknown as Snapshot;

async function admin(t: ExecutionContext) {
  const registry = new StatsRegistry({ slabs: 2, capacity: 256 });
  const out = registry.scope(LISTENER, 'virtualOutbound');
  registry.scope(LISTENER, 'virtualInbound');
  const w = registry.mainWriter();
  w.inc(out); // listener.virtualOutbound.downstream_cx_total
  w.inc(out + 1); // listener.virtualOutbound.downstream_cx_active
  const calls: string[] = [];
  let ready = true;
  const view: AdminView = {
    registry,
    snapshot: () => snapshot,
    lastRejected: () => undefined,
    state: () => (view.healthcheckFailed ? 'DRAINING' : 'LIVE'),
    ready: () => ready && !view.healthcheckFailed,
    startedAt: new Date(Date.now() - 7000),
    healthcheckFailed: false,
    quit: () => calls.push('quit'),
    identity: {
      nodeId: 'sidecar~10.1.2.3~app-1.ns~ns.svc.cluster.local',
      cluster: 'app.ns',
      metadata: { CLUSTER_ID: 'Kubernetes' },
      concurrency: 2,
      drainTimeMs: 45000,
      terminationDrainMs: 5000,
      logLevel,
      argv: ['proxy', 'sidecar'],
    },
    drainListeners: (o) => calls.push(`drain graceful=${o.graceful} inboundOnly=${o.inboundOnly}`),
    heaps: async () => [
      { usedHeapSize: 1000, totalHeapSize: 4000, totalPhysicalSize: 3000 },
      { usedHeapSize: 500, totalHeapSize: 2000, totalPhysicalSize: 1500 },
    ],
  };
  const server = await startHttp(adminRoutes(view), '127.0.0.1', 0);
  t.teardown(() => server.close());
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const req = async (path: string, method = 'GET') => {
    const r = await fetch(base + path, { method });
    return { status: r.status, type: r.headers.get('content-type') ?? '', text: await r.text() };
  };
  return { req, calls, view, setReady: (r: boolean) => (ready = r) };
}

test('/ is an HTML index linking every path, mutating ones as POST forms', async (t) => {
  const { req } = await admin(t);
  const r = await req('/');
  t.is(r.status, 200);
  t.regex(r.type, /^text\/html/);
  for (const p of ['/stats', '/config_dump', '/listeners', '/clusters', '/server_info', '/memory', '/ready']) t.true(r.text.includes(`<a href="${p}">`), p);
  for (const p of ['/healthcheck/fail', '/healthcheck/ok', '/drain_listeners', '/quitquitquit', '/logging', '/reset_counters']) t.true(r.text.includes(`<form action="${p}" method="post">`), p);
});

test('GET on a mutating path is 405 as in Envoy and changes nothing; unknown paths are 404 with the list', async (t) => {
  const { req, calls, view } = await admin(t);
  for (const p of ['/healthcheck/fail', '/healthcheck/ok', '/drain_listeners', '/quitquitquit', '/logging?level=debug', '/reset_counters']) {
    const r = await req(p);
    t.is(r.status, 405, p);
    t.is(r.text, 'Method GET not allowed, POST required.\n');
  }
  t.false(view.healthcheckFailed);
  t.deepEqual(calls, []);
  t.is(logLevel(), 'info');
  const nf = await req('/nope');
  t.is(nf.status, 404);
  t.regex(nf.text, /^invalid path\. admin commands are:\n/);
  t.regex(nf.text, /\n {2}\/drain_listeners: /);
  t.is((await req('/stats', 'POST')).status, 404, 'read-only paths do not take POST');
});

test('/server_info has Envoy\'s fields', async (t) => {
  const { req, view } = await admin(t);
  const info = JSON.parse((await req('/server_info')).text);
  t.regex(info.version, /^legate\/\d+\.\d+\.\d+\//);
  t.is(info.state, 'LIVE');
  t.regex(info.uptime_current_epoch, /^[78]s$/);
  t.is(info.uptime_all_epochs, info.uptime_current_epoch);
  t.is(info.command_line_options.concurrency, 2);
  t.is(info.command_line_options.drain_time, '45s');
  t.is(info.node.id, 'sidecar~10.1.2.3~app-1.ns~ns.svc.cluster.local');
  t.is(info.node.cluster, 'app.ns');
  t.deepEqual(info.node.metadata, { CLUSTER_ID: 'Kubernetes' });
  t.is(info.hot_restart_version, 'disabled');
  view.healthcheckFailed = true;
  t.is(JSON.parse((await req('/server_info')).text).state, 'DRAINING');
});

test('/memory answers Envoy\'s JSON shape with every thread\'s heap', async (t) => {
  const { req } = await admin(t);
  const r = await req('/memory');
  t.regex(r.type, /^application\/json/);
  const m = JSON.parse(r.text);
  t.deepEqual(Object.keys(m).sort(), ['allocated', 'heap_size', 'pageheap_free', 'pageheap_unmapped', 'total_physical_bytes', 'total_thread_cache']);
  for (const v of Object.values(m)) t.regex(v as string, /^\d+$/, 'uint64 as JSON strings, as Envoy prints them');
  const buffers = process.memoryUsage().arrayBuffers;
  t.true(Number(m.allocated) >= 1500 && Number(m.allocated) <= 1500 + buffers * 2, m.allocated);
  t.true(Number(m.heap_size) >= 6000);
  t.true(Number(m.total_physical_bytes) > 0);
});

test('/stats: text, ?filter=, ?format=json, ?usedonly, ?type=; a bad regex is 400', async (t) => {
  const { req } = await admin(t);
  const all = (await req('/stats')).text;
  t.regex(all, /^listener\.virtualInbound\.downstream_cx_active: 0$/m);
  t.regex(all, /^listener\.virtualOutbound\.downstream_cx_total: 1$/m);
  const lines = all.trim().split('\n');
  t.deepEqual(lines, [...lines].sort(), 'sorted by name');
  t.is((await req('/stats?filter=virtualOutbound.*_active$')).text, 'listener.virtualOutbound.downstream_cx_active: 1\n');
  t.is((await req('/stats?usedonly&filter=downstream_cx_active$')).text, 'listener.virtualOutbound.downstream_cx_active: 1\n');
  const json = JSON.parse((await req('/stats?format=json&usedonly')).text);
  t.deepEqual(json.stats, [
    { name: 'listener.virtualOutbound.downstream_cx_active', value: 1 },
    { name: 'listener.virtualOutbound.downstream_cx_total', value: 1 },
  ]);
  t.false((await req('/stats?type=Counters')).text.includes('_active'));
  t.true((await req('/stats?type=Gauges')).text.split('\n').filter(Boolean).every((l) => l.includes('_active')));
  t.is((await req('/stats?filter=(')).status, 400);
});

test('/listeners: text and ?format=json with Envoy\'s socket_address', async (t) => {
  const { req } = await admin(t);
  t.is((await req('/listeners')).text, 'virtualOutbound::0.0.0.0:15001\nvirtualInbound::0.0.0.0:15006\n');
  const j = JSON.parse((await req('/listeners?format=json')).text);
  t.deepEqual(j.listener_statuses[1], { name: 'virtualInbound', local_address: { socket_address: { address: '0.0.0.0', port_value: 15006 } } });
});

test('/config_dump: ?resource=, ?include_eds, ?mask=', async (t) => {
  const { req } = await admin(t);
  const full = JSON.parse((await req('/config_dump')).text);
  t.false(JSON.stringify(full.configs).includes('dynamic_endpoint_configs'), 'endpoints only with include_eds');
  const eds = JSON.parse((await req('/config_dump?include_eds')).text);
  const epSection = eds.configs.find((c: Record<string, unknown>) => 'dynamic_endpoint_configs' in c);
  t.deepEqual(epSection.dynamic_endpoint_configs[0].endpoint_config.endpoints[0].lb_endpoints[0].endpoint, { address: { socket_address: { address: '10.0.0.9', port_value: 8080 } } });
  const listeners = JSON.parse((await req('/config_dump?resource=dynamic_listeners')).text);
  t.deepEqual(listeners.configs.map((c: { name: string }) => c.name), ['virtualOutbound', 'virtualInbound']);
  const masked = JSON.parse((await req('/config_dump?resource=dynamic_active_clusters&mask=cluster.name,version_info')).text);
  t.deepEqual(masked.configs, [{ cluster: { name: 'outbound|80||a.example' }, version_info: '3' }]);
  t.is((await req('/config_dump?resource=nope')).status, 400);
});

test('POST /healthcheck/fail and /healthcheck/ok flip /ready between 200 and 503', async (t) => {
  const { req } = await admin(t);
  t.deepEqual([(await req('/ready')).status, (await req('/ready')).text], [200, 'LIVE\n']);
  t.is((await req('/healthcheck/fail', 'POST')).status, 200);
  t.deepEqual([(await req('/ready')).status, (await req('/ready')).text], [503, 'DRAINING\n']);
  t.is((await req('/healthcheck/ok', 'POST')).status, 200);
  t.is((await req('/ready')).status, 200);
});

test('POST /drain_listeners passes ?graceful and ?inboundonly; /quitquitquit quits', async (t) => {
  const { req, calls } = await admin(t);
  await req('/drain_listeners', 'POST');
  await req('/drain_listeners?inboundonly&graceful', 'POST');
  t.is((await req('/quitquitquit', 'POST')).text, 'OK\n');
  t.deepEqual(calls, ['drain graceful=false inboundOnly=false', 'drain graceful=true inboundOnly=true', 'quit']);
});

test('POST /reset_counters zeroes counters, not gauges', async (t) => {
  const { req } = await admin(t);
  await req('/reset_counters', 'POST');
  const s = (await req('/stats?filter=virtualOutbound')).text;
  t.regex(s, /downstream_cx_total: 0/);
  t.regex(s, /downstream_cx_active: 1/);
});

test.serial('POST /logging: ?level= sets all, ?paths= and ?name= set one; bad input is 404 with usage', async (t) => {
  const { req } = await admin(t);
  t.teardown(() => setLogLevel('info'));
  const all = await req('/logging?level=debug', 'POST');
  t.is(all.status, 200);
  t.regex(all.text, /^active loggers:\n/);
  t.true(loggerLevels().every(([, l]) => l === 'debug'));
  await req('/logging?paths=dns:error,http:trace', 'POST');
  await req('/logging?upstream=warning', 'POST');
  const levels = Object.fromEntries(loggerLevels());
  t.is(levels.dns, 'error');
  t.is(levels.http, 'trace');
  t.is(levels.upstream, 'warning');
  t.is(levels.main, 'debug');
  const bad = await req('/logging?level=loud', 'POST');
  t.is(bad.status, 404);
  t.regex(bad.text, /^usage: /);
  t.is((await req('/logging?nosuchlogger=debug', 'POST')).status, 404);
});
