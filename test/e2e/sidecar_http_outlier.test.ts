/**
 * End-to-end: outlier detection (issue 7) through the sidecar with two workers, against two
 * real upstreams of one service where one answers 500. Three 500s in a row, whichever workers
 * they passed through, eject it; then every request succeeds on the other host, /clusters
 * flags it, the ejection stats count it, and it takes traffic again after baseEjectionTime.
 * See test/e2e/README.md for the harness.
 */
import test from 'ava';
import { destinationRule, eventually, httpRequest, meshConfigMap, podWithHttp, serviceEntry, virtualService, type PodWithHttp } from './harness/index.js';

const HOST = 'flaky.example.internal';
const VIP = '240.240.7.10';
const PORT = 80;
const GOOD = 8080;
const BAD = 8081;
const CLUSTER = `outbound|${PORT}||${HOST}`;
const OD = `cluster.${CLUSTER}.outlier_detection`;

const config = (remoteIp: string) => [
  meshConfigMap({ outboundTrafficPolicy: 'REGISTRY_ONLY' }),
  serviceEntry({
    name: 'flaky',
    hosts: [HOST],
    addresses: [VIP],
    ports: [{ number: PORT, name: 'http', protocol: 'HTTP' }],
    endpoints: [
      { address: remoteIp, ports: { http: GOOD } },
      { address: remoteIp, ports: { http: BAD } },
    ],
  }),
  destinationRule('flaky', {
    host: HOST,
    trafficPolicy: { outlierDetection: { consecutive5xxErrors: 3, interval: '1s', baseEjectionTime: '6s', maxEjectionPercent: 50 } },
  }),
  // No retries: every 500 reaches the client, so the test can count them.
  virtualService('flaky', { hosts: [HOST], http: [{ route: [{ destination: { host: HOST } }], retries: { attempts: 0 } }] }),
];

async function call(env: PodWithHttp): Promise<{ status: number; server: string }> {
  const r = await httpRequest(env.pod.ns, `http://${HOST}/x?failon=bad`, { args: ['--resolve', `${HOST}:${PORT}:${VIP}`] });
  if (r.exitCode !== 0) throw new Error(`curl: exit ${r.exitCode} ${r.stderr}`);
  return { status: r.status, server: r.headers['x-server-name'] };
}

test('outlier detection: 3 consecutive 5xx across 2 workers eject the bad host; it returns after baseEjectionTime', async (t) => {
  const env = await podWithHttp(t, { servers: { good: GOOD, bad: BAD }, config: (r) => config(r.ip), proxy: { concurrency: 2 } });
  const { pod, remote } = env;
  const badHost = `${CLUSTER}::${remote.ip}:${BAD}`;

  // Until the third 500 the bad host is in rotation; exactly three 500s must be enough, however
  // the connections were spread over the workers (the counter is shared, as in Envoy).
  let errors = 0;
  for (let i = 0; i < 40 && errors < 3; i++) {
    const r = await call(env);
    if (r.status === 500) {
      t.is(r.server, 'bad');
      errors++;
    } else t.is(r.status, 200);
  }
  t.is(errors, 3);
  t.is(await pod.waitForStat(`${OD}.ejections_enforced_consecutive_5xx`, 1, 5000), 1);
  t.is(await pod.stat(`${OD}.ejections_detected_consecutive_5xx`), 1);
  t.is(await pod.stat(`${OD}.ejections_enforced_total`), 1);
  t.is(await pod.stat(`${OD}.ejections_active`), 1);

  // Ejected: every request goes to the good host (the verdict reached both workers).
  const during = await Promise.all(Array.from({ length: 8 }, () => call(env)));
  t.deepEqual([...new Set(during.map((r) => `${r.status} ${r.server}`))], ['200 good']);
  const clusters = await pod.admin('/clusters');
  t.true(clusters.includes(`${badHost}::health_flags::/failed_outlier_check`), clusters);
  t.true(clusters.includes(`${CLUSTER}::${remote.ip}:${GOOD}::health_flags::healthy`));
  t.true(clusters.includes(`${badHost}::rq_error::3`), 'per-host counters summed over workers');
  t.regex(clusters, new RegExp(`${escape(CLUSTER)}::outlier::success_rate_average::-1`));
  const json = JSON.parse(await pod.admin('/clusters?format=json')) as { cluster_statuses: { name: string; host_statuses: { address: { socket_address: { port_value: number } }; health_status: { failed_outlier_check?: boolean } }[] }[] };
  const status = json.cluster_statuses.find((c) => c.name === CLUSTER)!;
  t.true(status.host_statuses.find((h) => h.address.socket_address.port_value === BAD)!.health_status.failed_outlier_check);

  // Back after baseEjectionTime (6 s × 1: long enough for the checks above on a loaded machine), at the next 1 s sweep.
  await eventually('bad host healthy again', async () => ((await pod.admin('/clusters')).includes(`${badHost}::health_flags::healthy`) ? true : undefined), 15000);
  t.is(await pod.stat(`${OD}.ejections_active`), 0);
  const after = await Promise.all(Array.from({ length: 8 }, () => call(env)));
  t.true(after.some((r) => r.server === 'bad' && r.status === 500), 'the bad host takes traffic again');
});

const escape = (s: string) => s.replace(/[|.]/g, '\\$&');
