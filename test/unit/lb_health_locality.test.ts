import test from 'ava';
import type { LocalityLbSetting, OutlierDetection } from '../../src/config/model.js';
import { ClusterTable } from '../../src/cluster/thread_local_cluster.js';
import { balancer, cluster, hosts, tally } from './lb_helpers.js';

const od = (healthyPanicThreshold?: number): OutlierDetection => ({
  consecutive5xx: 5, enforcingConsecutive5xx: 100, consecutiveGatewayFailure: 5, enforcingConsecutiveGatewayFailure: 0,
  splitExternalLocalOriginErrors: false, intervalMs: 10_000, baseEjectionTimeMs: 30_000, maxEjectionPercent: 10, enforcingSuccessRate: 0,
  ...(healthyPanicThreshold === undefined ? {} : { healthyPanicThreshold }),
});

for (const policy of ['ROUND_ROBIN', 'LEAST_REQUEST', 'RANDOM', 'RING_HASH', 'MAGLEV'] as const) {
  test(`${policy}: ejected hosts are skipped; with none left there is no host`, (t) => {
    const hs = hosts([1, 1, 1]);
    const { lb } = balancer(cluster(policy, { outlierDetection: od() }), hs);
    hs[1].ejected = true;
    const n = tally(() => lb.chooseHost(undefined), 300);
    t.false(n.has(hs[1].key));
    t.is(n.size, 2);
    hs[0].ejected = true;
    hs[2].ejected = true;
    t.is(lb.chooseHost(undefined), undefined);
    hs[1].ejected = false;
    t.is(lb.chooseHost(undefined), hs[1]);
  });
}

test('panic threshold (minHealthPercent): below it, balance over every host, ejected or not', (t) => {
  const hs = hosts([1, 1, 1, 1]);
  const { lb } = balancer(cluster('ROUND_ROBIN', { outlierDetection: od(50) }), hs);
  hs[0].ejected = true;
  // 75% healthy: not in panic.
  t.false(tally(() => lb.chooseHost(undefined), 40).has(hs[0].key));
  hs[1].ejected = true;
  hs[2].ejected = true;
  // 25% healthy < 50%: panic, all four take traffic.
  t.is(tally(() => lb.chooseHost(undefined), 40).size, 4);
  // Istio's default (no minHealthPercent) is 0: never panic, only the healthy host.
  const { lb: noPanic } = balancer(cluster('ROUND_ROBIN', { outlierDetection: od() }), hs);
  t.deepEqual([...tally(() => noPanic.chooseHost(undefined), 40).keys()], [hs[3].key]);
});

const LOCALITIES = ['r1/z1/s1', 'r1/z1/s2', 'r1/z2/s1', 'r2/z1/s1', 'r3/z1/s1'];

test('locality priority: same subzone, then zone, then region, then other regions, failing over as hosts are ejected', (t) => {
  const hs = hosts([1, 1, 1, 1, 1], LOCALITIES);
  const { lb } = balancer(cluster('ROUND_ROBIN', { outlierDetection: od() }), hs, { locality: 'r1/z1/s1' });
  const only = () => [...tally(() => lb.chooseHost(undefined), 50).keys()];
  t.deepEqual(only(), [hs[0].key]);
  hs[0].ejected = true;
  t.deepEqual(only(), [hs[1].key]);
  hs[1].ejected = true;
  t.deepEqual(only(), [hs[2].key]);
  hs[2].ejected = true;
  t.deepEqual(only().sort(), [hs[3].key, hs[4].key]);
  hs[0].ejected = false;
  t.deepEqual(only(), [hs[0].key]);
});

test('locality failover rule: the named region comes before the other regions', (t) => {
  const hs = hosts([1, 1, 1], ['r1/z1/s1', 'r2/z1/s1', 'r3/z1/s1']);
  const setting = { failover: [{ from: 'r1', to: 'r3' }] };
  const { lb } = balancer(cluster('ROUND_ROBIN', { outlierDetection: od(), localityLbSetting: setting }), hs, { locality: 'r1/z1/s1' });
  hs[0].ejected = true;
  t.deepEqual([...tally(() => lb.chooseHost(undefined), 20).keys()], [hs[2].key]);
});

test('locality priority: a partly healthy level keeps min(100, 1.4 × healthy%) of the traffic', (t) => {
  const hs = hosts([1, 1, 1, 1], ['r1/z1/s1', 'r1/z1/s1', 'r2/z1/s1', 'r2/z1/s1']);
  const { lb } = balancer(cluster('ROUND_ROBIN', { outlierDetection: od() }), hs, { locality: 'r1/z1/s1' });
  hs[0].ejected = true; // level 0 is 50% healthy → 70% of picks
  const n = tally(() => lb.chooseHost(undefined), 10_000);
  const local = n.get(hs[1].key)!;
  t.true(Math.abs(local - 7000) < 300, `${local}`);
});

test('without outlier detection or a known proxy locality, localities are not prioritised (Istio)', (t) => {
  const hs = hosts([1, 1, 1, 1, 1], LOCALITIES);
  const { lb } = balancer(cluster('ROUND_ROBIN'), hs, { locality: 'r1/z1/s1' });
  t.is(tally(() => lb.chooseHost(undefined), 50).size, 5);
  const { lb: unknown } = balancer(cluster('ROUND_ROBIN', { outlierDetection: od() }), hs);
  t.is(tally(() => unknown.chooseHost(undefined), 50).size, 5);
});

test('locality distribute: traffic split by the rule matching the proxy, unnamed localities get none', (t) => {
  const hs = hosts([1, 1, 1, 1], ['r1/z1/s1', 'r1/z1/s2', 'r1/z2/s1', 'r2/z1/s1']);
  const setting: LocalityLbSetting = { distribute: [{ from: 'r9/*', to: { 'r2/*': 100 } }, { from: 'r1/z1/*', to: { 'r1/z1/*': 80, 'r1/z2/*': 20 } }] };
  const { lb } = balancer(cluster('ROUND_ROBIN', { localityLbSetting: setting }), hs, { locality: 'r1/z1/s1' });
  const n = tally(() => lb.chooseHost(undefined), 1000);
  t.is(n.get(hs[0].key)! + n.get(hs[1].key)!, 800);
  t.is(n.get(hs[2].key), 200);
  t.false(n.has(hs[3].key));
});

test('ThreadLocalCluster picks the balancer from lb_policy; Host objects and their load survive a new cluster table', (t) => {
  const endpoints = [1, 2, 3].map((i) => ({ address: `10.0.0.${i}`, port: 80, weight: 1 }));
  const table = new ClusterTable([cluster('LEAST_REQUEST', { endpoints })]);
  const first = table.get('c')!.chooseHost({ address: '1.1.1.1', port: 80 })!;
  first.activeRequests = 4;
  const next = new ClusterTable([cluster('LEAST_REQUEST', { endpoints: [...endpoints, { address: '10.0.0.4', port: 80, weight: 1 }] })], table);
  const kept = next.get('c')!.hostList.find((h) => h.key === first.key)!;
  t.is(kept, first);
  t.is(kept.activeRequests, 4);
  const orig = new ClusterTable([{ ...cluster('CLUSTER_PROVIDED'), type: 'ORIGINAL_DST' }]).get('c')!.chooseHost({ address: '10.9.9.9', port: 8080 })!;
  t.is(orig.key, '10.9.9.9:8080');
});
