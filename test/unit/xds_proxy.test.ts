import test from 'ava';
import { startProxy } from '../support/proxy.js';
import { TestXdsServer } from '../support/xds_server.js';
import { assignment, edsCluster, httpListener, routeConfig } from '../support/xds_resources.js';

const CLUSTER = 'outbound|80||web.test.svc.cluster.local';

async function stats(admin: number): Promise<Record<string, number>> {
  const res = await fetch(`http://127.0.0.1:${admin}/stats?format=json`);
  const body = (await res.json()) as { stats: { name: string; value: number }[] };
  return Object.fromEntries(body.stats.map((s) => [s.name, s.value]));
}

for (const delta of [true, false]) {
  test(`legate proxy sidecar --xds (${delta ? 'Delta' : 'SotW'}): configuration, versions and xDS stats in the admin interface; a NACK keeps the last good config`, async (t) => {
    const server = await TestXdsServer.start(t);
    server.set('cluster', [edsCluster(CLUSTER)]);
    server.set('endpoint', [assignment(CLUSTER, [9])]);
    server.set('listener', [httpListener(80)]);
    server.set('route', [routeConfig('80', CLUSTER)]);
    const p = await startProxy('sidecar', [], { concurrency: 1, args: ['--xds', server.address, `--xds-delta=${delta}`], env: { POD_NAME: 'app-1', POD_NAMESPACE: 'test', INSTANCE_IPS: '10.1.2.3' } });
    t.teardown(() => p.stop());
    const dump = await p.waitFor((d) => d.legate?.version >= 1, 20_000);
    t.is(dump.legate.source, `xds:${server.address}`);
    t.deepEqual(dump.legate.xds.types.cds.version_info, '1');
    t.is(dump.legate.xds.protocol, delta ? 'delta' : 'sotw');
    t.true(dump.legate.xds.ignored.some((n: string) => /istio\.stats/.test(n)), 'ignored Istio filters are listed');
    const sections = Object.fromEntries(dump.configs.map((c: any) => [c['@type'], c.version_info]));
    t.is(sections['legate.admin.v1.ClustersConfigDump'], '1');
    t.is(dump.configs[2].dynamic_active_clusters[0].cluster.endpoints[0].port, 9);
    t.is(server.requests[0].msg.node.id, 'sidecar~10.1.2.3~app-1.test~test.svc.cluster.local');

    let s = await stats(p.admin);
    t.is(s['control_plane.connected_state'], 1);
    t.is(s['cluster_manager.cds.update_success'], 1);
    t.is(s['listener_manager.lds.update_success'], 1);
    t.is(s['http.outbound_0.0.0.0_80.rds.80.update_success'], 1);

    server.set('cluster', [{ ...edsCluster(CLUSTER), lb_policy: 'LOAD_BALANCING_POLICY_CONFIG' }]);
    await server.waitFor('cds NACK', () => server.answers('cluster').some((a) => a.error_detail));
    const after = await p.waitFor((d) => d.last_rejected !== null);
    t.regex(after.last_rejected.errors[0], /lb_policy/);
    t.is(after.configs[2].version_info, '1', 'the clusters stay at the accepted version');
    s = await stats(p.admin);
    t.is(s['cluster_manager.cds.update_rejected'], 1);
    t.is(s['cluster_manager.cds.update_attempt'], 2);

    server.dropStreams();
    await server.waitFor('reconnect', () => server.requests.filter((r) => r.msg.node).length >= 2);
    t.is((await stats(p.admin))['control_plane.connected_state'], 1);
  });
}
