/**
 * End-to-end: Istio's standard metrics on 15090 equal the traffic real clients sent through the
 * captured sidecar with two workers — HTTP requests with known codes and body sizes, TCP
 * connections with known bytes — parsed by a real Prometheus text parser, with Istio's label
 * names in Istio's order and the proxy's identity from POD_NAME and its labels.
 */
import test from 'ava';
import { APP_UID, meshConfigMap, podWithHttp, PORTS, serviceEntry, tcpClients } from './harness/index.js';
import { histogramSeries, ISTIO_HTTP_LABELS, ISTIO_TCP_LABELS, parsePrometheus } from '../support/prometheus.js';

const HTTP_HOST = 'shop.example.internal';
const HTTP_VIP = '240.240.7.20';
const TCP_HOST = 'echo.example.internal';
const TCP_VIP = '240.240.7.21';
const UPSTREAM = 8080;
const ECHO = 7000;

test('Istio metrics: request counts, duration and size histograms, TCP bytes, per label set, over 2 workers', async (t) => {
  const env = await podWithHttp(t, {
    servers: { shop: UPSTREAM },
    proxy: {
      concurrency: 2,
      args: ['--proxy-labels', 'app=productpage,version=v1', '--pod-namespace', 'default'],
      env: { POD_NAME: 'productpage-v1-5d9f8c7b6d-x2kqz' },
    },
    config: (r) => [
      meshConfigMap({ outboundTrafficPolicy: 'REGISTRY_ONLY' }),
      serviceEntry({ name: 'shop', hosts: [HTTP_HOST], addresses: [HTTP_VIP], ports: [{ number: 80, name: 'http', protocol: 'HTTP' }], endpoints: [{ address: r.ip, ports: { http: UPSTREAM } }] }),
      serviceEntry({ name: 'echo', hosts: [TCP_HOST], addresses: [TCP_VIP], ports: [{ number: ECHO, name: 'tcp', protocol: 'TCP' }], endpoints: [{ address: r.ip, ports: { tcp: ECHO } }] }),
    ],
  });
  const { pod, remote } = env;
  await remote.tcpServer([{ port: ECHO, mode: 'echo' }]);

  // 6 × 200 with a 100-byte body, 3 × 404 with a 10-byte body, on parallel connections.
  const urls = [...Array.from({ length: 6 }, (_, i) => `http://${HTTP_VIP}/ok/${i}?size=100`), ...Array.from({ length: 3 }, (_, i) => `http://${HTTP_VIP}/no/${i}?status=404&size=10`)];
  const out = await pod.ns.exec(['curl', '-sS', '--max-time', '20', '--parallel', '--parallel-max', '4', '-w', '%{http_code}\n', ...urls.flatMap((u) => ['-o', '/dev/null', u])], { uid: APP_UID, timeoutMs: 30_000 });
  t.deepEqual(out.stdout.trim().split('\n').sort(), [...Array(6).fill('200'), ...Array(3).fill('404')]);
  // 3 TCP connections through the echo server, 1000 bytes each way.
  const tcp = await tcpClients(pod.ns, { host: TCP_VIP, port: ECHO, sends: [1000, 1000, 1000] });
  t.deepEqual(tcp.map((r) => r.rx), [1000, 1000, 1000]);

  const scrape = async () => (await pod.ns.exec(['curl', '-sS', '--fail', `http://127.0.0.1:${PORTS.prometheus}/stats/prometheus`])).stdout;
  let text = await scrape();
  for (let i = 0; i < 50 && !/^istio_tcp_connections_closed_total\{.*\} 3$/m.test(text); i++) {
    await new Promise((r) => setTimeout(r, 100));
    text = await scrape();
  }
  const fams = parsePrometheus(text);

  const requests = fams.get('istio_requests_total')!.metrics.filter((m) => m.labels!.destination_service === HTTP_HOST);
  for (const m of requests) t.deepEqual(Object.keys(m.labels!), ISTIO_HTTP_LABELS);
  const byCode = Object.fromEntries(requests.map((m) => [m.labels!.response_code, m.value]));
  t.deepEqual(byCode, { '200': '6', '404': '3' });
  t.like(requests[0].labels, {
    reporter: 'source', source_workload: 'productpage-v1', source_workload_namespace: 'default', source_app: 'productpage', source_version: 'v1',
    source_canonical_service: 'productpage', source_canonical_revision: 'v1', destination_service_name: HTTP_HOST, destination_service_namespace: 'default',
    request_protocol: 'http', grpc_response_status: '', response_flags: '-', connection_security_policy: 'unknown',
  });
  for (const name of ['istio_request_duration_milliseconds', 'istio_request_bytes', 'istio_response_bytes']) {
    const series = histogramSeries(text, name).filter((s) => s.labels.destination_service === HTTP_HOST);
    t.deepEqual(Object.fromEntries(series.map((s) => [s.labels.response_code, s.count])), { '200': '6', '404': '3' }, name);
    for (const s of series) t.is(s.buckets['+Inf'], s.count);
  }
  const responseBytes = histogramSeries(text, 'istio_response_bytes').filter((s) => s.labels.destination_service === HTTP_HOST);
  t.deepEqual(Object.fromEntries(responseBytes.map((s) => [s.labels.response_code, s.sum])), { '200': '600', '404': '30' });

  const tcpValue = (name: string) => {
    const ms = fams.get(name)!.metrics.filter((m) => m.labels!.destination_service === TCP_HOST);
    t.is(ms.length, 1, name);
    t.deepEqual(Object.keys(ms[0].labels!), ISTIO_TCP_LABELS);
    return ms[0].value;
  };
  t.is(tcpValue('istio_tcp_connections_opened_total'), '3');
  t.is(tcpValue('istio_tcp_connections_closed_total'), '3');
  t.is(tcpValue('istio_tcp_sent_bytes_total'), '3000');
  t.is(tcpValue('istio_tcp_received_bytes_total'), '3000');

  // Envoy's names next to Istio's: the response class as a tag, the router's histogram, server gauges.
  const cluster = `outbound|80||${HTTP_HOST}`;
  t.is(fams.get('envoy_cluster_upstream_rq')!.metrics.find((m) => m.labels!.cluster_name === cluster && m.labels!.response_code_class === '2xx')?.value, '6');
  t.is(histogramSeries(text, 'envoy_cluster_upstream_rq_time').find((s) => s.labels.cluster_name === cluster)?.count, '9');
  t.is(fams.get('envoy_server_live')!.metrics[0].value, '1');
  t.is(fams.get('envoy_server_concurrency')!.metrics[0].value, '2');
  // /stats: quantiles merged from both workers' histograms.
  const stats = (await pod.ns.exec(['curl', '-sS', `http://127.0.0.1:${PORTS.admin}/stats?filter=upstream_rq_time`])).stdout;
  t.regex(stats, new RegExp(`^cluster\\.outbound\\|80\\|\\|${HTTP_HOST.replace(/\./g, '\\.')}\\.upstream_rq_time: P0\\(nan,\\d+\\) P25`, 'm'));
});
