import test from 'ava';
import { createHostShared, HostSlots } from '../../src/cluster/host_shared.js';
import { HostRegistry } from '../../src/cluster/host_registry.js';
import { OutlierManager } from '../../src/cluster/outlier/manager.js';
import { ClusterTable, type ClusterRuntime } from '../../src/cluster/thread_local_cluster.js';
import type { Cluster, OutlierDetection } from '../../src/config/model.js';
import { StatsRegistry } from '../../src/stats/store.js';

const od: OutlierDetection = {
  consecutive5xx: 2,
  enforcingConsecutive5xx: 100,
  consecutiveGatewayFailure: 0,
  enforcingConsecutiveGatewayFailure: 0,
  splitExternalLocalOriginErrors: false,
  intervalMs: 60_000,
  baseEjectionTimeMs: 1000,
  maxEjectionPercent: 100,
  enforcingSuccessRate: 0,
};
const cluster = (ips: string[], outlierDetection: OutlierDetection | null = od): Cluster => ({
  name: 'c',
  type: 'STATIC',
  lbPolicy: 'ROUND_ROBIN',
  connectTimeoutMs: 1000,
  endpoints: ips.map((address) => ({ address, port: 80, weight: 1 })),
  ...(outlierDetection ? { outlierDetection } : {}),
});
const dst = { address: '10.9.9.9', port: 80 };

/** Main thread (registry + detectors) and one worker's table, linked the way the pool links them (synchronously here). */
function setup() {
  const stats = new StatsRegistry({ slabs: 2, capacity: 1024 });
  const main = new HostSlots(createHostShared(16, 2), 1);
  const worker = new HostSlots(main.shared, 0);
  const hosts = new HostRegistry(main);
  let table: ClusterTable | undefined;
  const removed: string[] = [];
  const outlier = new OutlierManager(hosts, { registry: stats, writer: stats.mainWriter() }, (c) => table?.refreshEjections(c), { now: () => 0, random: () => 0 });
  const runtime: ClusterRuntime = { slots: worker, report: (r) => outlier.onReport(r), onHostsRemoved: (_c, keys) => removed.push(...keys) };
  const apply = (c: Cluster) => {
    const slots = hosts.syncSnapshot([c]);
    table = new ClusterTable([c], table, { slots, runtime });
    return table.get('c')!;
  };
  const picks = (n = 4) => [...new Set(Array.from({ length: n }, () => table!.get('c')!.chooseHost(dst)?.address ?? 'none'))].sort();
  t_close.push(() => outlier.close());
  return { apply, picks, removed, stats, main, hosts };
}
const t_close: (() => void)[] = [];
test.after.always(() => t_close.forEach((f) => f()));

test('a verdict reaches the worker through shared memory: the ejected host gets no picks, and stats count it', (t) => {
  const { apply, picks, stats } = setup();
  const tlc = apply(cluster(['10.0.0.1', '10.0.0.2']));
  const bad = tlc.hostList.find((h) => h.address === '10.0.0.1')!;
  tlc.outlier!.putHttpStatus(bad.slot, 500);
  tlc.outlier!.putHttpStatus(bad.slot, 503);
  t.true(bad.ejected);
  t.deepEqual(picks(), ['10.0.0.2']);
  t.is(stats.readByName('cluster.c.outlier_detection.ejections_active'), 1);
  t.is(stats.readByName('cluster.c.outlier_detection.ejections_enforced_consecutive_5xx'), 1);
});

test('verdicts survive a snapshot that keeps the host, and vanish with it', (t) => {
  const { apply, picks, removed } = setup();
  let tlc = apply(cluster(['10.0.0.1', '10.0.0.2', '10.0.0.3']));
  const slot = tlc.hostList[0].slot;
  tlc.outlier!.putHttpStatus(slot, 500);
  tlc.outlier!.putHttpStatus(slot, 500);
  // A change elsewhere in the cluster: new table, new Host objects, same verdict.
  tlc = apply(cluster(['10.0.0.1', '10.0.0.2']));
  t.true(tlc.hostList[0].ejected);
  t.deepEqual(picks(), ['10.0.0.2']);
  t.deepEqual(removed, ['10.0.0.3:80'], 'the removed host is reported so its pools drain');
  // The host leaves and comes back: healthy, with a fresh slot.
  apply(cluster(['10.0.0.2']));
  tlc = apply(cluster(['10.0.0.1', '10.0.0.2']));
  t.false(tlc.hostList[0].ejected);
  t.deepEqual(picks(), ['10.0.0.1', '10.0.0.2']);
});

test('every host ejected: no healthy upstream, unless minHealthPercent turns panic mode on', (t) => {
  const { apply, picks } = setup();
  const tlc = apply(cluster(['10.0.0.1']));
  tlc.outlier!.putHttpStatus(tlc.hostList[0].slot, 500);
  tlc.outlier!.putHttpStatus(tlc.hostList[0].slot, 500);
  t.deepEqual(picks(), ['none']);
  const panic = setup();
  const p = panic.apply(cluster(['10.0.0.1'], { ...od, healthyPanicThreshold: 50 }));
  p.outlier!.putHttpStatus(p.hostList[0].slot, 500);
  p.outlier!.putHttpStatus(p.hostList[0].slot, 500);
  t.true(p.hostList[0].ejected);
  t.deepEqual(panic.picks(), ['10.0.0.1']);
});

test('without outlierDetection a cluster has no monitor and no detector', (t) => {
  const { apply, hosts } = setup();
  const tlc = apply(cluster(['10.0.0.1'], null));
  t.is(tlc.outlier, undefined);
  t.is(hosts.get('c')!.hosts.size, 1, 'hosts still get slots (for /clusters stats)');
});
