import test from 'ava';
import { TCP_PROXY, type Listener } from '../../src/config/model.js';
import { applyDelta, shareWith } from '../../src/config/snapshot_delta.js';
import { meshYaml, serviceEntry, snapshotOf, translateYaml } from '../support/translate.js';

const CAPTURE = { ISTIO_META_DNS_CAPTURE: 'true', ISTIO_META_DNS_AUTO_ALLOCATE: 'true' };
const db = (name: string, host: string, created?: string) =>
  serviceEntry(name, { hosts: [host], ports: [{ number: 3306, name: 'tcp', protocol: 'TCP' }], resolution: 'DNS' }, created ? { creationTimestamp: created } : {});

const chainCluster = (l: Listener) => {
  const f = (l.defaultFilterChain ?? l.filterChains[0])?.filters[0];
  return f?.name === TCP_PROXY ? f.cluster : undefined;
};

test('two TCP ServiceEntries on 3306 get their own VIP listeners, each to its own cluster', (t) => {
  const tr = translateYaml(meshYaml(CAPTURE) + db('a', 'db-a.example.com') + db('b', 'db-b.example.com'));
  t.deepEqual(tr.diagnostics.filter((d) => d.severity === 'error'), []);
  const a = tr.nameTable['db-a.example.com'];
  const b = tr.nameTable['db-b.example.com'];
  t.true(a.autoAllocated);
  t.regex(a.ips[0], /^240\.240\.\d+\.\d+$/);
  t.not(a.ips[0], b.ips[0]);
  const la = tr.listeners.find((l) => l.name === `${a.ips[0]}_3306`)!;
  const lb = tr.listeners.find((l) => l.name === `${b.ips[0]}_3306`)!;
  t.is(chainCluster(la), 'outbound|3306||db-a.example.com');
  t.is(chainCluster(lb), 'outbound|3306||db-b.example.com');
  t.falsy(tr.listeners.find((l) => l.name === '0.0.0.0_3306'), 'no port-only listener to collide on');
  const ca = tr.clusters.find((c) => c.name === 'outbound|3306||db-a.example.com')!;
  t.is(ca.type, 'STRICT_DNS');
  t.deepEqual(ca.endpoints, [{ address: 'db-a.example.com', port: 3306, weight: 1 }]);
  t.is(ca.respectDnsTtl, true);
  t.is(ca.dnsRefreshRateMs, 60_000);
});

test('VIPs are stable across reloads and when a newer ServiceEntry is added', (t) => {
  const base = meshYaml(CAPTURE) + db('a', 'db-a.example.com', '2024-01-01T00:00:00Z') + db('b', 'db-b.example.com', '2024-01-02T00:00:00Z');
  const one = translateYaml(base);
  const two = translateYaml(base);
  t.deepEqual(one.nameTable, two.nameTable);
  // The newcomer sorts first by name but is younger: older services keep their VIPs.
  const more = translateYaml(db('0-new', 'aaa.example.com', '2024-06-01T00:00:00Z') + base);
  t.deepEqual(more.nameTable['db-a.example.com'], one.nameTable['db-a.example.com']);
  t.deepEqual(more.nameTable['db-b.example.com'], one.nameTable['db-b.example.com']);
});

test('no VIPs without DNS capture, and the environment/flag overrides proxyMetadata', (t) => {
  const noCapture = translateYaml(meshYaml({ ISTIO_META_DNS_AUTO_ALLOCATE: 'true' }) + db('a', 'db-a.example.com'));
  t.deepEqual(noCapture.nameTable, {});
  t.truthy(noCapture.listeners.find((l) => l.name === '0.0.0.0_3306'));
  const off = translateYaml(meshYaml(CAPTURE) + db('a', 'db-a.example.com'), { dnsAutoAllocate: false });
  t.deepEqual(off.nameTable, {});
  const on = translateYaml(db('a', 'db-a.example.com'), { dnsCapture: true, dnsAutoAllocate: true });
  t.truthy(on.nameTable['db-a.example.com']);
});

test('only plain hosts of addressless, resolvable ServiceEntries are allocated; configured addresses are answered as they are', (t) => {
  const tr = translateYaml(
    meshYaml(CAPTURE) +
      serviceEntry('none', { hosts: ['passthrough.example.com'], ports: [{ number: 80, name: 'tcp' }], resolution: 'NONE' }) +
      serviceEntry('wild', { hosts: ['*.wild.example.com'], ports: [{ number: 81, name: 'tcp' }], resolution: 'STATIC', endpoints: [{ address: '10.0.0.1' }] }) +
      serviceEntry('fixed', { hosts: ['address.internal'], addresses: ['198.51.100.1', '10.9.0.0/16'], ports: [{ number: 80, name: 'tcp' }] }) +
      serviceEntry('multi', { hosts: ['m1.example.com', 'm2.example.com'], ports: [{ number: 5432, name: 'tcp' }], resolution: 'DNS' }),
  );
  t.falsy(tr.nameTable['passthrough.example.com']);
  t.falsy(tr.nameTable['*.wild.example.com']);
  t.deepEqual(tr.nameTable['address.internal'], { ips: ['198.51.100.1'], namespace: 'default' });
  const m1 = tr.nameTable['m1.example.com'].ips[0];
  const m2 = tr.nameTable['m2.example.com'].ips[0];
  t.not(m1, m2);
  t.is(chainCluster(tr.listeners.find((l) => l.name === `${m1}_5432`)!), 'outbound|5432||m1.example.com');
  t.is(chainCluster(tr.listeners.find((l) => l.name === `${m2}_5432`)!), 'outbound|5432||m2.example.com');
});

test('DNS endpoints keep their hostnames; DNS_ROUND_ROBIN is LOGICAL_DNS with at most one endpoint', (t) => {
  const tr = translateYaml(
    serviceEntry('s', {
      hosts: ['api.example.com'],
      ports: [{ number: 443, name: 'tls' }],
      resolution: 'DNS',
      endpoints: [{ address: 'a.backend.test', ports: { tls: 8443 } }, { address: '10.1.1.1' }],
    }) + serviceEntry('l', { hosts: ['one.example.com'], ports: [{ number: 80, name: 'tcp', targetPort: 8080 }], resolution: 'DNS_ROUND_ROBIN' }),
  );
  const s = tr.clusters.find((c) => c.name === 'outbound|443||api.example.com')!;
  t.deepEqual(
    s.endpoints.map((e) => `${e.address}:${e.port}`),
    ['a.backend.test:8443', '10.1.1.1:443'],
  );
  const l = tr.clusters.find((c) => c.name === 'outbound|80||one.example.com')!;
  t.is(l.type, 'LOGICAL_DNS');
  t.deepEqual(l.endpoints, [{ address: 'one.example.com', port: 8080, weight: 1 }]);
  t.false(tr.diagnostics.some((d) => /not implemented/.test(d.message) && d.path === 'spec.resolution'));
  const bad = translateYaml(
    serviceEntry('x', { hosts: ['x.example.com'], ports: [{ number: 80, name: 'tcp' }], resolution: 'DNS_ROUND_ROBIN', endpoints: [{ address: 'a.test' }, { address: 'b.test' }] }) +
      serviceEntry('w', { hosts: ['*.example.org'], ports: [{ number: 80, name: 'tcp' }], resolution: 'DNS' }),
  );
  t.true(bad.diagnostics.some((d) => d.severity === 'error' && d.path === 'spec.endpoints'));
  t.true(bad.diagnostics.some((d) => d.severity === 'error' && d.path === 'spec.hosts[0]'));
});

test('mesh dnsRefreshRate reaches DNS clusters', (t) => {
  const tr = translateYaml(meshYaml({}, 'dnsRefreshRate: 5s') + db('a', 'db-a.example.com'));
  t.is(tr.clusters.find((c) => c.name === 'outbound|3306||db-a.example.com')!.dnsRefreshRateMs, 5000);
});

test('snapshot deltas carry the names that changed, and only when some did', (t) => {
  const base = meshYaml(CAPTURE) + db('a', 'db-a.example.com', '2024-01-01T00:00:00Z');
  const one = snapshotOf(translateYaml(base), 1);
  const same = shareWith(one, snapshotOf(translateYaml(base), 2));
  t.false(same.changed);
  t.is(same.delta!.nameTable, undefined);
  t.is(same.snapshot.nameTable, one.nameTable, 'an unchanged table is shared');
  const more = snapshotOf(translateYaml(base + db('b', 'db-b.example.com', '2024-01-02T00:00:00Z')), 3);
  const d = shareWith(one, more).delta!;
  t.deepEqual(d.nameTable, { upsert: { 'db-b.example.com': more.nameTable!['db-b.example.com'] }, remove: [] }, 'db-a kept its VIP: not sent');
  t.deepEqual(applyDelta(one, d).nameTable, more.nameTable);
  const fewer = shareWith(more, snapshotOf(translateYaml(base), 4)).delta!;
  t.deepEqual(fewer.nameTable, { upsert: {}, remove: ['db-b.example.com'] });
  t.deepEqual(applyDelta(more, fewer).nameTable, one.nameTable);
  // A delta without name changes keeps the worker's table.
  t.is(applyDelta(one, { ...d, nameTable: undefined }).nameTable, one.nameTable);
});
