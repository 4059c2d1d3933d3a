import test from 'ava';
import { ClusterTable } from '../../src/cluster/thread_local_cluster.js';
import type { HostEntry, HostUpdate, HostUpdateSink } from '../../src/cluster/host_update.js';
import type { Cluster } from '../../src/config/model.js';
import { DnsClusterManager } from '../../src/dns/cluster_manager.js';
import { CachingResolver, DEFAULT_RESOLVER_OPTIONS } from '../../src/dns/resolver.js';
import { dnsClusterCounters } from '../../src/dns/stats.js';
import { StatsRegistry } from '../../src/stats/store.js';
import { Dnsmasq, sleep } from '../support/dnsmasq.js';

/**
 * DNS clusters against a real dnsmasq: the manager's updates are applied to a worker-side
 * ClusterTable, as the worker pool would, so the test sees what connections would pick.
 */
async function setup(t: import('ava').ExecutionContext, cluster: Cluster, hosts: Record<string, string[]>) {
  if (!Dnsmasq.available()) throw new Error('dnsmasq is not installed: run scripts/install-test-deps.sh (Debian package dnsmasq-base)');
  const d = await new Dnsmasq({ localTtl: 1 }).start(hosts);
  t.teardown(() => d.close());
  const resolver = new CachingResolver({ ...DEFAULT_RESOLVER_OPTIONS, servers: [`127.0.0.1:${d.port}`], timeoutMs: 200, tries: 1 });
  const registry = new StatsRegistry({ slabs: 2, capacity: 4096 });
  const writer = registry.mainWriter();
  const updates: HostUpdate[] = [];
  const table = new ClusterTable([cluster]);
  const sink: HostUpdateSink = {
    publishHosts: (u: HostUpdate, _full: readonly HostEntry[]) => {
      updates.push(u);
      table.applyHostUpdate(u);
    },
    forgetHosts: () => {},
  };
  const manager = new DnsClusterManager(resolver, sink, (name) => dnsClusterCounters(registry, writer, name), { failureBaseMs: 100, defaultRefreshMs: 5000 });
  t.teardown(() => {
    manager.close();
    resolver.close();
  });
  manager.update([cluster]);
  const stat = (f: string) => registry.readByName(`cluster.${cluster.name}.${f}`) ?? NaN;
  const hostsNow = () => {
    const seen = new Set<string>();
    for (let i = 0; i < 16; i++) {
      const h = table.get(cluster.name)!.chooseHost({ address: '240.240.0.1', port: 1 });
      if (h) seen.add(`${h.address}:${h.port}`);
    }
    return [...seen].sort();
  };
  return { d, manager, updates, stat, hostsNow };
}

async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await sleep(25);
  }
  return cond();
}

const strict = (refreshMs: number, respectDnsTtl = true): Cluster => ({
  name: 'outbound|3306||db.test',
  type: 'STRICT_DNS',
  lbPolicy: 'ROUND_ROBIN',
  connectTimeoutMs: 1000,
  endpoints: [{ address: 'db.test', port: 3306, weight: 1 }],
  dnsRefreshRateMs: refreshMs,
  respectDnsTtl,
  dnsLookupFamily: 'V4_ONLY',
});

test('STRICT_DNS: every address is a host, and a changed answer is followed within the TTL', async (t) => {
  const { d, updates, stat, hostsNow } = await setup(t, strict(60_000), { 'db.test': ['127.0.0.2', '127.0.0.3'] });
  t.true(await until(() => hostsNow().length === 2, 2000));
  t.deepEqual(hostsNow(), ['127.0.0.2:3306', '127.0.0.3:3306']);
  t.truthy(updates[0].full, 'the first push is the full set');
  d.setHosts({ 'db.test': ['127.0.0.3', '127.0.0.4'] });
  // TTL 1 s (respect_dns_ttl) although the refresh rate is 60 s.
  t.true(await until(() => hostsNow().join() === '127.0.0.3:3306,127.0.0.4:3306', 3000), hostsNow().join());
  const diff = updates[updates.length - 1];
  t.deepEqual(diff.removed, ['127.0.0.2:3306']);
  t.deepEqual(diff.added?.map((h) => h.address), ['127.0.0.4']);
  t.is(stat('membership_total'), 2);
  t.true(stat('update_success') >= 2);
  // Unchanged answers are counted, not pushed.
  const pushed = updates.length;
  t.true(await until(() => stat('update_no_rebuild') >= 1, 3000));
  t.is(updates.length, pushed);
});

test('STRICT_DNS keeps its last hosts while the server is down, counts failures, and recovers', async (t) => {
  const { d, stat, hostsNow } = await setup(t, strict(500, false), { 'db.test': ['127.0.0.2'] });
  t.true(await until(() => hostsNow().length === 1, 2000));
  const port = d.port;
  await d.stop();
  t.true(await until(() => stat('update_failure') >= 2, 4000), `failures ${stat('update_failure')}`);
  t.deepEqual(hostsNow(), ['127.0.0.2:3306']);
  await d.start({ 'db.test': ['127.0.0.5'] }, port);
  t.true(await until(() => hostsNow().join() === '127.0.0.5:3306', 4000), hostsNow().join());
});

test('an empty successful answer (NXDOMAIN) empties the cluster', async (t) => {
  const { d, stat, hostsNow } = await setup(t, strict(300, false), { 'db.test': ['127.0.0.2'] });
  t.true(await until(() => hostsNow().length === 1, 2000));
  d.setHosts({});
  t.true(await until(() => hostsNow().length === 0, 3000));
  t.is(stat('membership_total'), 0);
  t.is(stat('update_failure'), 0);
});

test('LOGICAL_DNS: the first address only, re-resolved like STRICT_DNS', async (t) => {
  const c: Cluster = { ...strict(300, false), name: 'outbound|80||one.test', type: 'LOGICAL_DNS', endpoints: [{ address: 'one.test', port: 80, weight: 1 }] };
  const { d, hostsNow } = await setup(t, c, { 'one.test': ['127.0.0.7', '127.0.0.8'] });
  t.true(await until(() => hostsNow().length === 1, 2000));
  t.regex(hostsNow()[0], /^127\.0\.0\.[78]:80$/);
  d.setHosts({ 'one.test': ['127.0.0.9'] });
  t.true(await until(() => hostsNow().join() === '127.0.0.9:80', 3000));
});

test('a reload with the same targets keeps the running refresher; removing the cluster stops it', async (t) => {
  const c = strict(300, false);
  const { manager, stat, hostsNow } = await setup(t, c, { 'db.test': ['127.0.0.2'] });
  t.true(await until(() => hostsNow().length === 1, 2000));
  manager.update([{ ...c, dnsRefreshRateMs: 200 }]);
  t.deepEqual(manager.hosts(c.name), [{ address: '127.0.0.2', port: 3306, weight: 1 }]);
  manager.update([]);
  t.is(manager.hosts(c.name), undefined);
  const attempts = stat('update_attempt');
  await sleep(700);
  t.is(stat('update_attempt'), attempts);
});
