import test from 'ava';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { bucketIndex, DEFAULT_BUCKETS } from '../../src/stats/buckets.js';
import { StatsRegistry, StatsWriter } from '../../src/stats/store.js';
import { CLUSTER, C } from '../../src/stats/scopes.js';
import { proxyIdentity, workloadFromPodName } from '../../src/stats/istio/identity.js';
import { renderPrometheus } from '../../src/admin/prometheus.js';
import { histogramLines } from '../../src/admin/stats.js';
import { collectHistograms } from '../../src/stats/latency.js';
import type { Cluster } from '../../src/config/model.js';
import { histogramSeries, ISTIO_HTTP_LABELS, ISTIO_TCP_LABELS, parsePrometheus } from '../support/prometheus.js';

const identity = proxyIdentity({ podName: 'productpage-v1-5d9f8c7b6d-x2kqz', namespace: 'shop', labels: { app: 'productpage', version: 'v1' } });
const cluster = {
  name: 'outbound|9080||reviews.shop.svc.cluster.local',
  service: { host: 'reviews.shop.svc.cluster.local', namespace: 'shop', port: 9080 },
} as Cluster;

test('bucket placement: Prometheus le is inclusive, values past the last bound go to +Inf only', (t) => {
  t.is(DEFAULT_BUCKETS.length, 19);
  t.is(bucketIndex(0), 0);
  t.is(bucketIndex(0.5), 0);
  t.is(bucketIndex(1), 1);
  t.is(bucketIndex(2), 2);
  t.is(bucketIndex(3600000), 18);
  t.is(bucketIndex(3600001), 19);
});

test('identity: Istio fallbacks for workload name and canonical labels', (t) => {
  t.is(workloadFromPodName('reviews-v1-5d9f8c7b6d-x2kqz'), 'reviews-v1');
  t.is(workloadFromPodName('agent-x2kqz'), 'agent');
  t.is(workloadFromPodName('db-0'), 'db-0');
  t.like(identity, { workloadName: 'productpage-v1', namespace: 'shop', app: 'productpage', version: 'v1', canonicalName: 'productpage', canonicalRevision: 'v1', clusterId: 'Kubernetes' });
  t.like(proxyIdentity({ workloadName: 'w', labels: {} }), { canonicalName: 'w', canonicalRevision: 'latest', app: '' });
});

test('label sets: Istio names, order and values for a client (source) and a server (destination)', (t) => {
  const reg = new StatsRegistry({ slabs: 2, capacity: 1024, istio: { identity, maxSeries: 16 } });
  const w = StatsWriter.claim(reg.shared, 1);
  const out = reg.istio!.peers.peer('source', cluster.name, cluster);
  const inbound = reg.istio!.peers.peer('destination', 'inbound|9080||', undefined);
  w.istio!.recordHttp(out, 503, 1 << 1 /* UH */, 3, 0, 19);
  w.istio!.recordHttp(inbound, 200, 0, 7, 10, 20);
  w.istio!.tcpOpened(out, 0);
  const text = renderPrometheus(reg);
  const fams = parsePrometheus(text);
  const requests = fams.get('istio_requests_total')!;
  t.is(requests.type, 'COUNTER');
  for (const m of requests.metrics) t.deepEqual(Object.keys(m.labels!), ISTIO_HTTP_LABELS);
  const client = requests.metrics.find((m) => m.labels!.reporter === 'source')!;
  t.like(client.labels, {
    source_workload: 'productpage-v1', source_workload_namespace: 'shop', source_app: 'productpage', source_version: 'v1', source_principal: 'unknown',
    destination_service: 'reviews.shop.svc.cluster.local', destination_service_namespace: 'shop', destination_workload: 'unknown',
    request_protocol: 'http', response_code: '503', grpc_response_status: '', response_flags: 'UH', connection_security_policy: 'unknown',
  });
  const server = requests.metrics.find((m) => m.labels!.reporter === 'destination')!;
  t.like(server.labels, { destination_workload: 'productpage-v1', destination_app: 'productpage', source_workload: 'unknown', response_flags: '-', connection_security_policy: 'none' });
  const opened = fams.get('istio_tcp_connections_opened_total')!;
  t.deepEqual(Object.keys(opened.metrics[0].labels!), ISTIO_TCP_LABELS);
  t.is(opened.metrics[0].labels!.request_protocol, 'tcp');
  t.is(fams.get('istio_request_duration_milliseconds')!.type, 'HISTOGRAM');
  const d = histogramSeries(text, 'istio_request_duration_milliseconds').find((m) => m.labels.reporter === 'source')!;
  t.deepEqual(Object.keys(d.labels), ISTIO_HTTP_LABELS);
  t.is(d.buckets!['1'], '0');
  t.is(d.buckets!['5'], '1', '3 ms falls in le=5');
  t.is(d.count, '1');
});

test('Envoy naming: response code classes as a tag, histograms with Envoy buckets, server gauges', (t) => {
  const reg = new StatsRegistry({ slabs: 2, capacity: 1024 });
  const w = StatsWriter.claim(reg.shared, 1);
  const base = reg.scope(CLUSTER, 'outbound|80||a.com');
  w.inc(base + C.upstream_rq_2xx);
  w.record(base + C.upstream_rq_time, 12);
  const text = renderPrometheus(reg, { live: 1, uptime: 3, concurrency: 2, state: 0, memory_allocated: 1, memory_heap_size: 2 });
  const fams = parsePrometheus(text);
  const rq = fams.get('envoy_cluster_upstream_rq')!;
  t.deepEqual(rq.metrics.find((m) => m.labels!.response_code_class === '2xx')?.value, '1');
  t.is(fams.get('envoy_cluster_upstream_rq_time')!.type, 'HISTOGRAM');
  const [time] = histogramSeries(text, 'envoy_cluster_upstream_rq_time');
  t.deepEqual(time.labels, { cluster_name: 'outbound|80||a.com' });
  t.is(Object.keys(time.buckets).length, 20);
  t.is(time.buckets['10'], '0');
  t.is(time.buckets['25'], '1');
  t.is(time.sum, '12');
  t.is(fams.get('envoy_server_live')!.metrics[0].value, '1');
  t.is(fams.get('envoy_server_concurrency')!.metrics[0].value, '2');
  t.truthy(fams.get('envoy_cluster_upstream_rq_total'));
  t.falsy(fams.get('istio_requests_total'), 'Istio metrics off: none rendered');
});

test('two real worker threads: Istio series and histograms merge on read, quantiles collected by message', async (t) => {
  const reg = new StatsRegistry({ slabs: 5, capacity: 1024, istio: { identity, maxSeries: 16 } });
  const peer = reg.istio!.peers.peer('source', cluster.name, cluster);
  const histogramBase = reg.scope(CLUSTER, cluster.name) + C.upstream_rq_time;
  const poolId = `test.${process.pid}`;
  const file = fileURLToPath(new URL('../support/istio_stats_worker.js', import.meta.url));
  const workers = [
    new Worker(file, { workerData: { shared: reg.shared, poolId, peer, histogramBase, samples: [1, 2, 3, 40] } }),
    new Worker(file, { workerData: { shared: reg.shared, poolId, peer, histogramBase, samples: [1, 200, 3000] } }),
  ];
  await Promise.all(workers.map((w) => once(w, 'message')));
  t.teardown(() => workers.forEach((w) => w.postMessage('exit')));
  const text = renderPrometheus(reg);
  const fams = parsePrometheus(text);
  const requests = fams.get('istio_requests_total')!.metrics;
  t.is(requests.length, 1, 'both workers share one label set');
  t.is(requests[0].value, '7');
  const [duration] = histogramSeries(text, 'istio_request_duration_milliseconds');
  t.is(duration.count, '7');
  t.is(duration.sum, String(1 + 2 + 3 + 40 + 1 + 200 + 3000));
  t.is(duration.buckets['1'], '2');
  t.is(duration.buckets['50'], '5');
  t.is(duration.buckets['5000'], '7');
  t.is(histogramSeries(text, 'istio_request_bytes')[0].sum, '700');
  t.is(fams.get('istio_tcp_sent_bytes_total')!.metrics[0].value, '20');
  t.is(fams.get('istio_tcp_received_bytes_total')!.metrics[0].value, '40');
  t.is(histogramSeries(text, 'envoy_cluster_upstream_rq_time')[0].count, '7');
  const merged = await collectHistograms(poolId, 2);
  t.is(merged.get(histogramBase)?.totalCount, 7);
  const line = histogramLines(reg, { filter: /upstream_rq_time/, usedOnly: false, type: 'All' }, merged).join('\n');
  t.regex(line, /^cluster\.outbound\|9080\|\|reviews\.shop\.svc\.cluster\.local\.upstream_rq_time: P0\(nan,1\) P25\(nan,\d+\) P50\(nan,3\) .* P100\(nan,3\d{3}\)$/m);
});
