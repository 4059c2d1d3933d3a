import test, { type ExecutionContext } from 'ava';
import type { Snapshot } from '../../src/config/model.js';
import { defaultMesh } from '../../src/config/mesh.js';
import { nodeIdentity, nodeMessage } from '../../src/xds/node.js';
import { XdsSource } from '../../src/xds/source.js';
import type { SnapshotUpdate } from '../../src/config/snapshot_source.js';
import { TestXdsServer } from '../support/xds_server.js';
import { assignment, edsCluster, httpListener, routeConfig } from '../support/xds_resources.js';
import { ok, rawExchange, rawUpstream, startHcm } from '../support/hcm.js';

const CLUSTER = 'outbound|80||web.test.svc.cluster.local';

async function source(t: ExecutionContext, server: TestXdsServer, delta: boolean): Promise<XdsSource> {
  const node = nodeIdentity('sidecar', { POD_NAME: 'app-1', POD_NAMESPACE: 'test', INSTANCE_IPS: '10.1.2.3', ISTIO_META_CLUSTER_ID: 'Kubernetes' });
  const s = new XdsSource({ target: server.address, role: 'sidecar', delta, node: nodeMessage(node), mesh: defaultMesh(), nameTable: true, backoffBaseMs: 50, backoffMaxMs: 200 });
  t.teardown(() => s.close());
  return s;
}

function serveWeb(server: TestXdsServer, ports: number[]) {
  server.set('cluster', [edsCluster(CLUSTER)]);
  server.set('endpoint', [assignment(CLUSTER, ports)]);
  server.set('listener', [httpListener(80)]);
  server.set('route', [routeConfig('80', CLUSTER)]);
  server.set('nameTable', [{ table: { 'web.test.svc.cluster.local': { ips: ['240.240.0.9'], namespace: 'test', alt_hosts: ['web.test'] } } }]);
}

/** A request through an HTTP connection manager wired from the snapshot's routes and clusters. */
async function get(t: ExecutionContext, s: Snapshot): Promise<string> {
  const rc = s.routes.find((r) => r.name === '80')!;
  const hcm = await startHcm(t, rc.virtualHosts[0].routes, s.clusters);
  const r = await rawExchange(hcm.port, 'GET / HTTP/1.1\r\nhost: web.test\r\n\r\n', (x) => x.includes('\r\n\r\n') && /\r\n\r\n.+/.test(x));
  return r.text;
}

function nextUpdate(s: XdsSource): Promise<Snapshot> {
  return new Promise((resolve) => s.once('update', (u: SnapshotUpdate) => resolve(u.snapshot)));
}

for (const delta of [false, true]) {
  const mode = delta ? 'Delta' : 'SotW';

  test(`${mode}: the first snapshot has clusters with endpoints, listeners with routes, the name table; requests reach the upstream`, async (t) => {
    const up = await rawUpstream(t, (_r, s) => s.write(ok('from-xds')));
    const server = await TestXdsServer.start(t);
    serveWeb(server, [up.port]);
    const s = await source(t, server, delta);
    const snap = await s.start();
    t.deepEqual(snap.clusters.map((c) => [c.name, c.type, c.endpoints.map((e) => e.port)]), [[CLUSTER, 'EDS', [up.port]]]);
    t.deepEqual(snap.listeners.map((l) => l.name), ['0.0.0.0_80']);
    t.deepEqual(snap.routes.map((r) => r.name), ['80']);
    t.deepEqual(snap.nameTable?.['web.test']?.ips, ['240.240.0.9']);
    t.regex(await get(t, snap), /200 OK[\s\S]*from-xds/);
    // The node went on the first request, with Istio's id and metadata.
    const first = server.requests[0].msg;
    t.is(first.node.id, 'sidecar~10.1.2.3~app-1.test~test.svc.cluster.local');
    t.is(first.node.metadata.fields.NAMESPACE.stringValue, 'test');
    t.is(first.node.metadata.fields.CLUSTER_ID.stringValue, 'Kubernetes');
    t.falsy(server.requests[1].msg.node, 'node only on the first request');
    // Every type was ACKed with its version and nonce, none NACKed.
    for (const type of ['cluster', 'endpoint', 'listener', 'route', 'nameTable'] as const) {
      const acks = await server.waitFor(`${type} ack`, () => server.answers(type).length > 0 && server.answers(type));
      t.falsy(acks[0].error_detail, type);
      if (!delta) t.is(acks[0].version_info, '1', type);
    }
    // Istio's telemetry filters were noted once, not fatal.
    t.true([...s.notes.keys()].includes('http_filter.istio.metadata_exchange'));
    t.true([...s.notes.keys()].includes('network_filter.istio.stats'));
  });

  test(`${mode}: a bad resource is NACKed with the previous version and error_detail; the last good configuration keeps serving`, async (t) => {
    const up = await rawUpstream(t, (_r, s) => s.write(ok('still-here')));
    const server = await TestXdsServer.start(t);
    serveWeb(server, [up.port]);
    const s = await source(t, server, delta);
    await s.start();
    s.watch();
    // A route whose action the proxy cannot honour: ignoring it would change routing.
    server.set('route', [{ name: '80', virtual_hosts: [{ name: 'x', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster_header: 'x-cluster' } }] }] }]);
    const nack = await server.waitFor('rds NACK', () => server.answers('route').find((a) => a.error_detail));
    t.regex(nack.error_detail.message, /cluster_header/);
    t.is(nack.error_detail.code, 3);
    if (!delta) t.is(nack.version_info, '1', 'NACK carries the last accepted version');
    t.regex(s.lastRejected?.errors[0] ?? '', /rds version 2/);
    const snap = s.current!;
    t.is(snap.routes[0].virtualHosts[0].routes[0].route?.cluster, CLUSTER);
    t.regex(await get(t, snap), /still-here/);
    // A good one afterwards is ACKed and applied.
    const applied = nextUpdate(s);
    server.set('route', [routeConfig('80', CLUSTER, { timeout: '3s' })]);
    t.is((await applied).routes[0].virtualHosts[0].routes[0].route?.timeoutMs, 3000);
  });

  test(`${mode}: the server drops the stream; the client reconnects with backoff, keeps serving meanwhile, and takes later pushes`, async (t) => {
    const up = await rawUpstream(t, (_r, s) => s.write(ok('kept')));
    const server = await TestXdsServer.start(t);
    serveWeb(server, [up.port]);
    const s = await source(t, server, delta);
    await s.start();
    s.watch();
    await server.waitFor('connected', () => s.connected);
    await server.stop();
    await server.waitFor('disconnected', () => !s.connected);
    t.regex(await get(t, s.current!), /kept/, 'the configuration is kept while disconnected');
    const before = server.requests.length;
    await server.restart();
    serveWeb(server, [up.port]);
    await server.waitFor('reconnected', () => s.connected && server.requests.length > before);
    const reconnect = server.requests[before].msg;
    t.truthy(reconnect.node, 'a new stream starts with the node');
    if (delta) await server.waitFor('initial versions', () => server.requests.slice(before).some((r) => Object.keys(r.msg.initial_resource_versions ?? {}).length > 0));
    else await server.waitFor('version on reconnect', () => server.requests.slice(before).some((r) => r.msg.version_info === '1' && !r.msg.response_nonce));
    const applied = nextUpdate(s);
    server.set('endpoint', [assignment(CLUSTER, [up.port, up.port + 1])]);
    t.deepEqual((await applied).clusters[0].endpoints.map((e) => e.port), [up.port, up.port + 1]);
  });

  test(`${mode}: warming: a new cluster waits for its endpoints and a new listener for its routes`, async (t) => {
    const server = await TestXdsServer.start(t);
    serveWeb(server, [9]);
    const s = await source(t, server, delta);
    await s.start();
    s.watch();
    const other = 'outbound|81||other.test.svc.cluster.local';
    server.set('cluster', [edsCluster(CLUSTER), edsCluster(other)]);
    server.set('listener', [httpListener(80), httpListener(81)]);
    await server.waitFor('eds subscription for the new cluster', () =>
      server.requests.some((r) => (r.msg.resource_names ?? r.msg.resource_names_subscribe ?? []).includes(other)),
    );
    await server.waitFor('rds subscription for the new listener', () => server.requests.some((r) => (r.msg.resource_names ?? r.msg.resource_names_subscribe ?? []).includes('81')));
    t.deepEqual(s.current!.clusters.map((c) => c.name), [CLUSTER], 'the new cluster is warming');
    t.deepEqual(s.current!.listeners.map((l) => l.name), ['0.0.0.0_80'], 'the new listener is warming');
    let applied = nextUpdate(s);
    server.set('endpoint', [assignment(CLUSTER, [9]), assignment(other, [10])]);
    t.deepEqual((await applied).clusters.map((c) => c.name).sort(), [CLUSTER, other].sort());
    applied = nextUpdate(s);
    server.set('route', [routeConfig('80', CLUSTER), routeConfig('81', other)]);
    const snap = await applied;
    t.deepEqual(snap.listeners.map((l) => l.name).sort(), ['0.0.0.0_80', '0.0.0.0_81']);
    t.deepEqual(snap.routes.map((r) => r.name).sort(), ['80', '81']);
  });

  test(`${mode}: removals: a cluster and a listener the server no longer has are removed`, async (t) => {
    const server = await TestXdsServer.start(t);
    const other = 'outbound|81||other.test.svc.cluster.local';
    server.set('cluster', [edsCluster(CLUSTER), edsCluster(other)]);
    server.set('endpoint', [assignment(CLUSTER, [9]), assignment(other, [10])]);
    server.set('listener', [httpListener(80), httpListener(81)]);
    server.set('route', [routeConfig('80', CLUSTER), routeConfig('81', other)]);
    const s = await source(t, server, delta);
    const first = await s.start();
    t.is(first.clusters.length, 2);
    s.watch();
    let applied = nextUpdate(s);
    server.set('cluster', [edsCluster(CLUSTER)]);
    t.deepEqual((await applied).clusters.map((c) => c.name), [CLUSTER]);
    applied = nextUpdate(s);
    server.set('listener', [httpListener(80)]);
    const snap = await applied;
    t.deepEqual(snap.listeners.map((l) => l.name), ['0.0.0.0_80']);
    t.deepEqual(snap.routes.map((r) => r.name), ['80'], 'a route no listener uses is gone with it');
    if (delta) {
      await server.waitFor('eds unsubscribe', () => server.requests.some((r) => (r.msg.resource_names_unsubscribe ?? []).includes(other)));
      t.pass();
    }
  });
}
