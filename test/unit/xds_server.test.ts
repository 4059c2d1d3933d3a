import test from 'ava';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { nodeIdentity, nodeMessage } from '../../src/xds/node.js';
import { TYPE } from '../../src/xds/type_urls.js';
import { serviceEntry, tempDir } from './config_helpers.js';
import { legateClient, nextSnapshot, rawAdsStream, startManagementServer, syncz } from '../support/xds_management.js';

const outboundClusters = (s: { clusters: { name: string }[] }) => s.clusters.map((c) => c.name).filter((n) => n.startsWith('outbound|')).sort();

const SIDECAR_B = `apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: default, namespace: b}
spec:
  egress:
  - hosts: ["./*"]
---
`;

test('two proxies in different namespaces get the configuration of their scope; a file change is pushed to each and ACKed', async (t) => {
  const dir = tempDir();
  writeFileSync(join(dir, 'a.yaml'), serviceEntry('web', { ns: 'a', vip: '10.0.0.1' }));
  writeFileSync(join(dir, 'b.yaml'), serviceEntry('api', { ns: 'b', vip: '10.0.0.2', port: 8080 }) + SIDECAR_B);
  const server = await startManagementServer(t, [dir]);
  const inA = legateClient(t, server, { pod: 'app-a', namespace: 'a', delta: true });
  const inB = legateClient(t, server, { pod: 'app-b', namespace: 'b', delta: false });
  const [a1, b1] = await Promise.all([inA.start(), inB.start()]);
  inA.watch();
  inB.watch();
  t.deepEqual(outboundClusters(a1), ['outbound|8080||api.b.svc.cluster.local', 'outbound|80||web.a.svc.cluster.local']);
  t.deepEqual(outboundClusters(b1), ['outbound|8080||api.b.svc.cluster.local'], "b's Sidecar limits it to its own namespace");
  t.is(a1.clusters.find((c) => c.name === 'outbound|80||web.a.svc.cluster.local')!.endpoints[0]!.address, '10.1.0.1', 'EDS delivered the hosts');
  t.truthy(a1.listeners.find((l) => l.name === 'virtualOutbound'));
  t.truthy(a1.nameTable?.['web.a.svc.cluster.local'], 'NDS: the name table');

  const aNext = nextSnapshot(inA, (s) => outboundClusters(s).includes('outbound|5432||db.a.svc.cluster.local'));
  writeFileSync(join(dir, 'a2.yaml'), serviceEntry('db', { ns: 'a', vip: '10.0.0.3', port: 5432, protocol: 'TCP' }));
  const a2 = await aNext;
  t.truthy(a2.listeners.some((l) => l.name === '10.0.0.3_5432'), 'the new TCP listener came with it');

  // Every type each proxy was sent is ACKed with the version and nonce sent.
  let status = await syncz(server);
  for (let i = 0; i < 100 && !status.proxies.every((p) => Object.values(p.types).every((s: any) => s.synced)); i++) {
    await new Promise((r) => setTimeout(r, 50));
    status = await syncz(server);
  }
  const byId = Object.fromEntries(status.proxies.map((p) => [p.node_id, p]));
  const a = byId['sidecar~10.1.2.3~app-a.a~a.svc.cluster.local'];
  const b = byId['sidecar~10.1.2.3~app-b.b~b.svc.cluster.local'];
  t.is(a.protocol, 'delta');
  t.is(b.protocol, 'sotw');
  t.deepEqual(Object.keys(a.types).sort(), ['cluster', 'endpoint', 'listener', 'nameTable', 'route']);
  for (const p of [a, b])
    for (const [type, s] of Object.entries<any>(p.types)) {
      t.true(s.synced, `${p.node_id} ${type}`);
      t.is(s.version_acked, s.version_sent);
      t.is(s.last_nack, null);
    }
  t.true(b.types.endpoint.subscribed.includes('outbound|8080||api.b.svc.cluster.local'), 'EDS is subscribed by name');
});

test('a resource the client rejects shows in /debug/syncz with its NACK detail; the next ACK does not erase it', async (t) => {
  const dir = tempDir();
  writeFileSync(join(dir, 'a.yaml'), serviceEntry('web', { ns: 'a', vip: '10.0.0.1' }));
  const server = await startManagementServer(t, [dir]);
  const ads = rawAdsStream(t, server);
  const node = nodeMessage(nodeIdentity('sidecar', { POD_NAME: 'picky', POD_NAMESPACE: 'a', INSTANCE_IPS: '10.9.9.9' }));
  ads.send({ node, type_url: TYPE.cluster });
  const first = await ads.next();
  t.true(first.resources.length >= 3);
  ads.send({ type_url: TYPE.cluster, version_info: '', response_nonce: first.nonce, error_detail: { code: 3, message: 'Cluster outbound|80||web.a.svc.cluster.local: no thanks' } });
  const status = async () => (await syncz(server)).proxies.find((p) => p.node_id === 'sidecar~10.9.9.9~picky.a~a.svc.cluster.local');
  let s = await status();
  for (let i = 0; i < 50 && !s?.types.cluster.last_nack; i++) s = await status();
  t.like(s.types.cluster, { version_sent: first.version_info, nonce_sent: first.nonce, version_acked: null, synced: false });
  t.is(s.types.cluster.last_nack.detail, 'Cluster outbound|80||web.a.svc.cluster.local: no thanks');
  t.is(s.types.cluster.last_nack.version, first.version_info);

  writeFileSync(join(dir, 'a.yaml'), serviceEntry('web', { ns: 'a', vip: '10.0.0.1', port: 81 }));
  const pushed = await ads.next();
  t.truthy(pushed.resources.find((r: any) => r.name === 'outbound|81||web.a.svc.cluster.local'));
  t.not(pushed.version_info, first.version_info, 'a file change pushes a new version');
  ads.send({ type_url: TYPE.cluster, version_info: pushed.version_info, response_nonce: pushed.nonce });
  for (let i = 0; i < 50 && s.types.cluster.version_acked !== pushed.version_info; i++) s = await status();
  t.like(s.types.cluster, { version_acked: pushed.version_info, synced: true });
  t.is(s.types.cluster.last_nack.detail, 'Cluster outbound|80||web.a.svc.cluster.local: no thanks', 'the last NACK stays for the operator to see');
});

test('a change is pushed in the order CDS, EDS, LDS, RDS, and only the types whose content changed', async (t) => {
  const dir = tempDir();
  writeFileSync(join(dir, 'a.yaml'), serviceEntry('web', { ns: 'a', vip: '10.0.0.1' }));
  const server = await startManagementServer(t, [dir]);
  const ads = rawAdsStream(t, server);
  const node = nodeMessage(nodeIdentity('sidecar', { POD_NAME: 'order', POD_NAMESPACE: 'a', INSTANCE_IPS: '10.9.9.8' }));
  const subscribe = async (type_url: string, resource_names: string[] = [], first = false) => {
    ads.send({ ...(first ? { node } : {}), type_url, resource_names });
    const r = await ads.next();
    ads.send({ type_url, resource_names, version_info: r.version_info, response_nonce: r.nonce });
    return r;
  };
  await subscribe(TYPE.cluster, [], true);
  await subscribe(TYPE.endpoint, ['outbound|80||web.a.svc.cluster.local']);
  await subscribe(TYPE.listener);
  const rds = await subscribe(TYPE.route, ['80']);
  t.deepEqual(rds.resources.map((r: any) => r.name), ['80']);
  // New endpoints only: the cluster, listener and route stay as they were, so only EDS goes out.
  writeFileSync(join(dir, 'a.yaml'), serviceEntry('web', { ns: 'a', vip: '10.0.0.1', endpoints: [['10.1.0.7', {}]] }));
  const eds = await ads.next();
  t.is(eds.type_url, TYPE.endpoint);
  ads.send({ type_url: TYPE.endpoint, resource_names: ['outbound|80||web.a.svc.cluster.local'], version_info: eds.version_info, response_nonce: eds.nonce });
  // A new port changes all four.
  writeFileSync(join(dir, 'a.yaml'), serviceEntry('web', { ns: 'a', vip: '10.0.0.1', port: 8080 }));
  const order = [];
  for (let i = 0; i < 4; i++) order.push((await ads.next()).type_url);
  t.deepEqual(order, [TYPE.cluster, TYPE.endpoint, TYPE.listener, TYPE.route]);
});

test('Delta: after a NACK the proxy is taken to have kept its old resources, so the next change sends the rejected one again', async (t) => {
  const dir = tempDir();
  writeFileSync(join(dir, 'a.yaml'), serviceEntry('web', { ns: 'a', vip: '10.0.0.1' }));
  const server = await startManagementServer(t, [dir]);
  const ads = rawAdsStream(t, server, true);
  const node = nodeMessage(nodeIdentity('sidecar', { POD_NAME: 'delta', POD_NAMESPACE: 'a', INSTANCE_IPS: '10.9.9.7' }));
  ads.send({ node, type_url: TYPE.cluster });
  const first = await ads.next();
  t.true(first.resources.some((r: any) => r.name === 'outbound|80||web.a.svc.cluster.local'));
  ads.send({ type_url: TYPE.cluster, response_nonce: first.nonce, error_detail: { code: 3, message: 'rejected' } });
  await new Promise((r) => setTimeout(r, 200));
  writeFileSync(join(dir, 'b.yaml'), serviceEntry('api', { ns: 'a', vip: '10.0.0.2', port: 8080 }));
  const next = await ads.next();
  t.deepEqual(next.resources.map((r: any) => r.name).sort(), [...first.resources.map((r: any) => r.name), 'outbound|8080||api.a.svc.cluster.local'].sort());
  ads.send({ type_url: TYPE.cluster, response_nonce: next.nonce });
  writeFileSync(join(dir, 'c.yaml'), serviceEntry('db', { ns: 'a', vip: '10.0.0.3', port: 5432 }));
  const after = await ads.next();
  t.deepEqual(after.resources.map((r: any) => r.name), ['outbound|5432||db.a.svc.cluster.local'], 'once ACKed, only what changed');
});
