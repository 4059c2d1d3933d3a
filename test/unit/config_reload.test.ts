import test from 'ava';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startProxy } from '../support/proxy.js';
import { canConnect, freePorts } from '../support/servers.js';
import { serviceEntry, tempDir } from './config_helpers.js';

const allWorkersAt = (v: number) => (d: any) => d.legate?.version === v && Object.values(d.legate.workers ?? {}).length === 2 && Object.values(d.legate.workers).every((x) => x === v);

test('a running sidecar reloads good changes, rejects bad ones whole and keeps serving the last good one', async (t) => {
  const dir = tempDir();
  writeFileSync(join(dir, 'web.yaml'), serviceEntry('web', { vip: '10.0.0.1' }));
  const p = await startProxy('sidecar', [dir]);
  t.teardown(() => p.stop());
  const v1 = await p.waitFor(allWorkersAt(1));
  t.is(v1.legate.role, 'sidecar');
  t.is(v1.legate.last_rejected, null);
  t.truthy(v1.legate.last_updated);
  t.regex(v1.legate.source, /web\.yaml/);

  writeFileSync(join(dir, 'api.yaml'), serviceEntry('api', { vip: '10.0.0.2', port: 8080 }));
  const v2 = await p.waitFor(allWorkersAt(2));
  const clusters = v2.configs.find((c: any) => c['@type'].endsWith('ClustersConfigDump')).dynamic_active_clusters;
  t.truthy(clusters.find((c: any) => c.cluster.name === 'outbound|8080||api.default.svc.cluster.local' && c.version_info === '2'));
  t.truthy(clusters.find((c: any) => c.cluster.name === 'outbound|80||web.default.svc.cluster.local' && c.version_info === '1'), 'unchanged resources keep the version they came with');

  writeFileSync(join(dir, 'api.yaml'), serviceEntry('api', { vip: '10.0.0.2', port: 70000 }));
  const rejected = await p.waitFor((d) => d.legate.last_rejected !== null);
  t.is(rejected.legate.version, 2);
  t.is(rejected.legate.last_rejected.keptVersion, 2);
  t.regex(rejected.legate.last_rejected.errors[0], /api\.yaml:\d+: ServiceEntry\/default\/api: spec\.ports\[0\]\.number: invalid port 70000/);
  t.is(rejected.legate.counts.rejected, 1);
  const stats = await (await fetch(`http://127.0.0.1:${p.admin}/stats?filter=legate.config`)).text();
  t.regex(stats, /legate\.config\.update_rejected: 1/);

  writeFileSync(join(dir, 'api.yaml'), serviceEntry('api', { vip: '10.0.0.2', port: 8081 }));
  await p.waitFor(allWorkersAt(3));
  const only = await p.dump('?resource=dynamic_route_configs&name_regex=^8081$');
  t.deepEqual(only.configs.map((c: any) => c.route_config.name), ['8081']);
  t.is((await fetch(`http://127.0.0.1:${p.admin}/config_dump?resource=nope`)).status, 400);
});

test('a router binds listeners a change adds at once, and closes removed ones after drainDuration', async (t) => {
  const [g1, g2] = await freePorts(2);
  const dir = tempDir();
  const gateway = (ports: number[]) => `apiVersion: v1
kind: ConfigMap
metadata: {name: istio, namespace: istio-system}
data:
  mesh: |-
    defaultConfig:
      drainDuration: 1s
---
${serviceEntry('web', { port: 9000, protocol: 'TCP' })}apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw}
spec:
  servers:
${ports.map((p) => `  - port: {number: ${p}, name: tcp-${p}, protocol: TCP}\n    hosts: ["*"]`).join('\n')}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: web}
spec:
  hosts: ["*"]
  gateways: [gw]
  tcp: [{route: [{destination: {host: web}}]}]
`;
  writeFileSync(join(dir, 'gw.yaml'), gateway([g1]));
  const p = await startProxy('router', [dir]);
  t.teardown(() => p.stop());
  await p.waitFor(allWorkersAt(1));
  t.true(await canConnect(g1), 'first listener accepts');
  t.false(await canConnect(g2));

  writeFileSync(join(dir, 'gw.yaml'), gateway([g1, g2]));
  await p.waitFor(allWorkersAt(2));
  // Bound before the version is reported by workers? The supervisor binds right after they ack.
  let ok = false;
  for (let i = 0; i < 40 && !ok; i++) {
    ok = await canConnect(g2);
    if (!ok) await new Promise((r) => setTimeout(r, 25));
  }
  t.true(ok, 'added listener accepts');

  writeFileSync(join(dir, 'gw.yaml'), gateway([g2]));
  await p.waitFor(allWorkersAt(3));
  t.true(await canConnect(g1), 'removed listener still accepts while draining');
  await new Promise((r) => setTimeout(r, 1500));
  t.false(await canConnect(g1), 'closed after drainDuration');
  t.true(await canConnect(g2));
});
