import test from 'ava';
import type { Snapshot } from '../../src/config/model.js';
import { applyDelta, shareWith } from '../../src/config/snapshot_delta.js';
import { serviceEntry } from './config_helpers.js';
import { snapshotOf, translateYaml } from '../support/translate.js';

const snapshot = (yaml: string, version: number): Snapshot => snapshotOf(translateYaml(yaml), version);

const dr = `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: web}
spec:
  host: web
  subsets: [{name: v1, labels: {version: v1}}, {name: v2, labels: {version: v2}}]
---
`;
const vs = (w1: number) => `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: web}
spec:
  hosts: [web]
  http:
  - route:
    - {destination: {host: web, subset: v1}, weight: ${w1}}
    - {destination: {host: web, subset: v2}, weight: ${100 - w1}}
`;

test('an endpoint change sends only the clusters it touches; route configurations and listeners stay identical', (t) => {
  const a = snapshot(serviceEntry('web', { vip: '10.0.0.1', endpoints: [['10.1.0.1', { version: 'v1' }], ['10.1.0.2', { version: 'v2' }]] }) + dr + vs(90), 1);
  const b = snapshot(serviceEntry('web', { vip: '10.0.0.1', endpoints: [['10.1.0.1', { version: 'v1' }], ['10.1.0.3', { version: 'v2' }]] }) + dr + vs(90), 2);
  const { snapshot: s, delta, changed } = shareWith(a, b);
  t.true(changed);
  t.deepEqual(delta!.clusters.upsert.map((c) => c.name).sort(), ['outbound|80|v2|web.default.svc.cluster.local', 'outbound|80||web.default.svc.cluster.local']);
  t.deepEqual(delta!.routes, { upsert: [], remove: [] });
  t.deepEqual(delta!.listeners, { upsert: [], remove: [] });
  t.is(delta!.mesh, undefined);
  t.is(s.routes[0], a.routes[0], 'same route configuration object');
  t.is(s.clusters.find((c) => c.name === 'outbound|80|v1|web.default.svc.cluster.local'), a.clusters.find((c) => c.name === 'outbound|80|v1|web.default.svc.cluster.local'));

  // The worker's side, after structured cloning as BroadcastChannel does.
  const workerA = structuredClone(a);
  const workerB = applyDelta(workerA, structuredClone(delta!));
  t.is(workerB.version, 2);
  t.is(workerB.routes[0], workerA.routes[0], 'worker keeps its route objects');
  t.is(workerB.listeners, workerA.listeners);
  t.deepEqual(JSON.parse(JSON.stringify(workerB)), JSON.parse(JSON.stringify(s)));
});

test('a route change sends the route configuration; removed resources are listed; identical translations are no change', (t) => {
  const a = snapshot(serviceEntry('web') + serviceEntry('old', { port: 81 }) + dr + vs(90), 1);
  const b = snapshot(serviceEntry('web') + dr + vs(50), 2);
  const { delta } = shareWith(a, b);
  t.deepEqual([...delta!.routes.upsert.map((r) => r.name), ...(delta!.routePatches ?? []).map((p) => p.name)], ['80']);
  t.deepEqual(delta!.routes.remove, ['81']);
  t.deepEqual(delta!.listeners.remove, ['0.0.0.0_81']);
  t.deepEqual(delta!.clusters.remove, ['outbound|81||old.default.svc.cluster.local']);
  const again = shareWith(b, snapshot(serviceEntry('web') + dr + vs(50), 3));
  t.false(again.changed);
  t.throws(() => applyDelta(a, { ...delta!, baseVersion: 7 }), { message: /delta for version 7/ });
});

test('a route change in one virtual host travels as a patch naming the unchanged ones', (t) => {
  const svcs = serviceEntry('web') + serviceEntry('api') + serviceEntry('db');
  const a = snapshot(svcs + dr + vs(90), 1);
  const b = snapshot(svcs + dr + vs(60), 2);
  const { snapshot: s, delta } = shareWith(a, b);
  t.deepEqual(delta!.routes.upsert, []);
  const patch = delta!.routePatches![0];
  t.is(patch.name, '80');
  t.deepEqual(patch.virtualHosts.filter((v) => typeof v === 'string'), ['api.default.svc.cluster.local:80', 'db.default.svc.cluster.local:80', 'allow_any']);
  t.is(s.routes[0].virtualHosts[1], a.routes[0].virtualHosts[1], 'unchanged virtual hosts are the previous objects');
  const worker = applyDelta(structuredClone(a), structuredClone(delta!));
  t.deepEqual(JSON.parse(JSON.stringify(worker.routes)), JSON.parse(JSON.stringify(s.routes)));
  t.is(worker.routes[0].virtualHosts.find((v) => v.name === 'web.default.svc.cluster.local:80')!.routes[0].route!.weightedClusters!.clusters[0].weight, 60);
});
