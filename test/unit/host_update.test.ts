import test from 'ava';
import { ClusterTable } from '../../src/cluster/thread_local_cluster.js';
import { dnsClusterKey, type HostUpdate } from '../../src/cluster/host_update.js';
import type { Cluster } from '../../src/config/model.js';

const dnsCluster = (endpoints: Cluster['endpoints'], type: Cluster['type'] = 'STRICT_DNS'): Cluster => ({
  name: 'c',
  type,
  lbPolicy: 'ROUND_ROBIN',
  connectTimeoutMs: 1000,
  endpoints,
  dnsLookupFamily: 'V4_ONLY',
});
const dst = { address: '240.240.0.1', port: 3306 };
const picks = (table: ClusterTable, n = 6) => {
  const seen = new Set<string>();
  for (let i = 0; i < n; i++) {
    const h = table.get('c')!.chooseHost(dst);
    if (h) seen.add(`${h.address}:${h.port}`);
  }
  return [...seen].sort();
};

test('a DNS cluster never uses hostnames itself: IP endpoints only until the main thread pushes hosts', (t) => {
  const c = dnsCluster([
    { address: 'db.test', port: 3306, weight: 1 },
    { address: '10.0.0.9', port: 3306, weight: 1 },
  ]);
  const table = new ClusterTable([c]);
  t.deepEqual(picks(table), ['10.0.0.9:3306']);
  const key = dnsClusterKey(c);
  t.true(table.applyHostUpdate({ cluster: 'c', key, seq: 1, full: [{ address: '10.0.0.9', port: 3306, weight: 1 }, { address: '127.0.0.2', port: 3306, weight: 1 }] }));
  t.deepEqual(picks(table), ['10.0.0.9:3306', '127.0.0.2:3306']);
});

test('diffs apply in sequence; an out-of-step diff or another config is ignored; removed hosts are reported', (t) => {
  const c = dnsCluster([{ address: 'db.test', port: 3306, weight: 1 }]);
  const key = dnsClusterKey(c);
  const table = new ClusterTable([c]);
  const removed: string[] = [];
  table.get('c')!.onHostsRemoved = (r) => removed.push(...r);
  const full: HostUpdate = { cluster: 'c', key, seq: 3, full: [{ address: '127.0.0.2', port: 3306, weight: 1 }] };
  t.false(table.applyHostUpdate({ cluster: 'c', key, seq: 4, baseSeq: 3, added: [] }), 'diff before any full set');
  t.true(table.applyHostUpdate(full));
  t.false(table.applyHostUpdate({ cluster: 'c', key: 'other', seq: 5, full: [] }));
  t.false(table.applyHostUpdate({ cluster: 'c', key, seq: 6, baseSeq: 5, added: [{ address: '127.0.0.9', port: 3306, weight: 1 }] }));
  t.true(table.applyHostUpdate({ cluster: 'c', key, seq: 5, baseSeq: 3, added: [{ address: '127.0.0.3', port: 3306, weight: 1 }], removed: ['127.0.0.2:3306'] }));
  t.deepEqual(picks(table), ['127.0.0.3:3306']);
  t.deepEqual(removed, ['127.0.0.2:3306']);
  t.false(table.applyHostUpdate({ ...full, seq: 2 }), 'stale full set');
  // An empty set empties the cluster.
  t.true(table.applyHostUpdate({ cluster: 'c', key, seq: 7, baseSeq: 5, removed: ['127.0.0.3:3306'] }));
  t.deepEqual(picks(table), []);
});

test('a new snapshot keeps the resolved hosts of an unchanged DNS cluster, and drops them when its targets change', (t) => {
  const c = dnsCluster([{ address: 'db.test', port: 3306, weight: 1 }]);
  const v1 = new ClusterTable([c]);
  v1.applyHostUpdate({ cluster: 'c', key: dnsClusterKey(c), seq: 1, full: [{ address: '127.0.0.2', port: 3306, weight: 1 }] });
  const v2 = new ClusterTable([{ ...c, dnsRefreshRateMs: 5000 }], v1);
  t.deepEqual(picks(v2), ['127.0.0.2:3306']);
  const v3 = new ClusterTable([dnsCluster([{ address: 'other.test', port: 3306, weight: 1 }])], v2);
  t.deepEqual(picks(v3), []);
});
