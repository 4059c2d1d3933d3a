import test from 'ava';
import { StatsRegistry, StatsWriter } from '../../src/stats/store.js';
import { LatencyRecorder } from '../../src/stats/latency.js';
import { CLUSTER, C } from '../../src/stats/scopes.js';
import { renderPrometheus } from '../../src/admin/prometheus.js';
import { selectStats, statsText } from '../../src/admin/stats.js';

test('workers write their own slabs and readers see the sum', (t) => {
  const reg = new StatsRegistry({ slabs: 5, capacity: 256 });
  const a = StatsWriter.claim(reg.shared, 101);
  const b = StatsWriter.claim(reg.shared, 102);
  const base = reg.scope(CLUSTER, 'outbound|80||a.com');
  a.inc(base + C.upstream_cx_total);
  b.add(base + C.upstream_cx_total, 2);
  a.inc(base + C.upstream_cx_active);
  t.is(reg.readByName('cluster.outbound|80||a.com.upstream_cx_total'), 3);
  t.is(reg.readByName('cluster.outbound|80||a.com.upstream_cx_active'), 1);
});

test('a scope keeps its slots across snapshots, so counters survive reloads', (t) => {
  const reg = new StatsRegistry({ slabs: 3, capacity: 256 });
  t.is(reg.scope(CLUSTER, 'x'), reg.scope(CLUSTER, 'x'));
  t.not(reg.scope(CLUSTER, 'x'), reg.scope(CLUSTER, 'y'));
});

test('a dead worker frees its slab: its gauges drop to zero, its counters stay', (t) => {
  const reg = new StatsRegistry({ slabs: 3, capacity: 256 });
  const base = reg.scope(CLUSTER, 'c');
  const w = StatsWriter.claim(reg.shared, 7);
  w.add(base + C.upstream_cx_total, 5);
  w.add(base + C.upstream_cx_active, 5);
  reg.releaseSlab(7);
  t.is(reg.readByName('cluster.c.upstream_cx_total'), 5);
  t.is(reg.readByName('cluster.c.upstream_cx_active'), 0);
  const next = StatsWriter.claim(reg.shared, 8);
  next.inc(base + C.upstream_cx_total);
  t.is(reg.readByName('cluster.c.upstream_cx_total'), 6, 'a reused slab keeps adding');
});

test('capacity is enforced with a clear error', (t) => {
  const reg = new StatsRegistry({ slabs: 2, capacity: 3 });
  t.throws(() => reg.scope(CLUSTER, 'c'), { message: /capacity 3 exhausted/ });
});

test('Prometheus output uses Envoy names, labels and one TYPE line per family', (t) => {
  const reg = new StatsRegistry({ slabs: 2, capacity: 256 });
  reg.scope(CLUSTER, 'outbound|80||a"b');
  reg.scope(CLUSTER, 'PassthroughCluster');
  const text = renderPrometheus(reg);
  t.is(text.match(/^# TYPE envoy_cluster_upstream_cx_total counter$/gm)?.length, 1);
  t.regex(text, /^envoy_cluster_upstream_cx_active\{cluster_name="outbound\|80\|\|a\\"b"\} 0$/m);
  t.regex(text, /^# TYPE envoy_cluster_upstream_cx_active gauge$/m);
  const text2 = statsText(selectStats(reg, { filter: /Passthrough/, usedOnly: false, type: 'All' }));
  t.regex(text2, /^cluster\.PassthroughCluster\.upstream_cx_total: 0$/m);
  t.notRegex(text2, /a"b/);
});

test('latency quantiles: small values counted exactly, large ones in the HdrHistogram, merged when asked', (t) => {
  const r = new LatencyRecorder();
  for (let i = 0; i < 90; i++) r.record(7, 3);
  for (let i = 0; i < 10; i++) r.record(7, 5000);
  const h = r.histogram(7)!;
  t.is(h.totalCount, 100);
  t.is(h.getValueAtPercentile(50), 3);
  t.true(Math.abs(h.getValueAtPercentile(99) - 5000) <= 50, `${h.getValueAtPercentile(99)}`);
  t.is(r.histogram(8), undefined);
  t.deepEqual(r.encode().map(([base]) => base), [7]);
});
