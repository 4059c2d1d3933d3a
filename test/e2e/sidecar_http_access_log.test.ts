/**
 * End-to-end: the sidecar's HTTP access log (issue 5) with the mesh ConfigMap's
 * `accessLogFile: /dev/stdout` — Istio's default TEXT line and, with `accessLogEncoding: JSON`,
 * Istio's JSON keys — checked field by field against what really happened: curl's request id,
 * user agent and byte counts, the pod and remote addresses, the cluster, and the response
 * flags of a success (-), a connect failure (UF), a fault (FI), no route (NR) and a
 * timeout (UT). See test/e2e/README.md for the harness.
 */
import test from 'ava';
import { randomUUID } from 'node:crypto';
import {
  accessLog, accessLogEntries, accessLogEntry, httpRequest, meshConfigMap, podWithHttp, serviceEntry, virtualService,
  type AccessLogEntry, type PodWithHttp,
} from './harness/index.js';

const HOST = 'logs.example.internal';
const VIP = '240.240.5.10';
const DOWN_HOST = 'gone.example.internal';
const DOWN_VIP = '240.240.5.11';
const UPSTREAM = 8080;
const CLOSED = 8099;
const CLUSTER = `outbound|80||${HOST}`;
const route = [{ destination: { host: HOST } }];

const config = (encoding: 'TEXT' | 'JSON', remoteIp: string) => [
  meshConfigMap({ outboundTrafficPolicy: 'REGISTRY_ONLY', accessLogFile: '/dev/stdout', accessLogEncoding: encoding }),
  serviceEntry({
    name: 'logs',
    hosts: [HOST],
    addresses: [VIP],
    ports: [{ number: 80, name: 'http', protocol: 'HTTP' }],
    endpoints: [{ address: remoteIp, ports: { http: UPSTREAM } }],
  }),
  serviceEntry({
    name: 'gone',
    hosts: [DOWN_HOST],
    addresses: [DOWN_VIP],
    ports: [{ number: 80, name: 'http', protocol: 'HTTP' }],
    endpoints: [{ address: remoteIp, ports: { http: CLOSED } }],
  }),
  virtualService('logs', {
    hosts: [HOST],
    http: [
      { name: 'ok', match: [{ uri: { prefix: '/ok' } }], route },
      { name: 'renamed', match: [{ uri: { prefix: '/old' } }], rewrite: { uri: '/new' }, route },
      { name: 'fault', match: [{ uri: { prefix: '/fault' } }], route, fault: { abort: { httpStatus: 500, percentage: { value: 100 } } } },
      { name: 'slow', match: [{ uri: { prefix: '/slow' } }], route, timeout: '200ms' },
      // Nothing else matches: other paths have no route (404 NR).
    ],
  }),
];

/** Five requests, one per outcome; returns their request ids and what curl saw. */
async function traffic(env: PodWithHttp) {
  const call = async (host: string, vip: string, path: string, extra: string[] = []) => {
    const id = randomUUID();
    const r = await httpRequest(env.pod.ns, `http://${host}${path}`, { args: ['--resolve', `${host}:80:${vip}`, '-H', `x-request-id: ${id}`, '-A', 'e2e agent/1.0', ...extra] });
    return { id, r };
  };
  return {
    ok: await call(HOST, VIP, '/ok/1?q=2', ['--data-binary', 'twelve bytes']),
    renamed: await call(HOST, VIP, '/old/x'),
    uf: await call(DOWN_HOST, DOWN_VIP, '/'),
    fi: await call(HOST, VIP, '/fault'),
    nr: await call(HOST, VIP, '/nowhere'),
    ut: await call(HOST, VIP, '/slow?delay=2000'),
  };
}

function checkCommon(t: import('ava').ExecutionContext, e: AccessLogEntry, id: string, env: PodWithHttp, vip: string) {
  t.is(e.request_id, id);
  t.is(e.user_agent, 'e2e agent/1.0');
  t.is(e.protocol, 'HTTP/1.1');
  t.is(e.x_forwarded_for, null);
  t.is(e.downstream_local_address, `${vip}:80`, 'the original destination');
  t.regex(e.downstream_remote_address ?? '', new RegExp(`^${env.pod.ip.replace(/\./g, '\\.')}:\\d+$`));
  t.regex(e.start_time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  t.true(Math.abs(Date.parse(e.start_time) - Date.now()) < 60_000);
  t.is(e.requested_server_name, null);
  t.is(e.connection_termination_details, null);
}

/** The checks both encodings share, on entries normalised to null for `-`. */
async function checkEntries(t: import('ava').ExecutionContext, env: PodWithHttp, flagsNone: string | null) {
  const { pod, remote } = env;
  const sent = await traffic(env);

  const ok = await accessLogEntry(pod, sent.ok.id);
  checkCommon(t, ok, sent.ok.id, env, VIP);
  t.is(ok.method, 'POST');
  t.is(ok.path, '/ok/1?q=2');
  t.is(ok.authority, HOST);
  t.is(ok.response_code, 200);
  t.is(ok.response_flags, flagsNone);
  t.is(ok.response_code_details, 'via_upstream');
  t.is(ok.upstream_transport_failure_reason, null);
  t.is(ok.bytes_received, 12);
  t.is(ok.bytes_sent, sent.ok.r.body.length);
  t.true(ok.duration >= Number(ok.upstream_service_time), `duration ${ok.duration} >= service time ${ok.upstream_service_time}`);
  t.is(ok.upstream_service_time, sent.ok.r.headers['x-envoy-upstream-service-time']);
  t.is(ok.upstream_host, `${remote.ip}:${UPSTREAM}`);
  t.is(ok.upstream_cluster, CLUSTER);
  // The proxy's own end of the upstream connection: the pod's address, as the server saw it.
  const served = env.servers.logs.requests().find((q) => q.headers['x-request-id'] === sent.ok.id)!;
  t.is(ok.upstream_local_address, `${served.peer}:${served.peerPort}`);
  t.is(ok.route_name, 'ok');

  // A rewritten request is logged with its original path (X-ENVOY-ORIGINAL-PATH?:PATH).
  const renamed = await accessLogEntry(pod, sent.renamed.id);
  t.is(renamed.path, '/old/x');
  t.is(env.servers.logs.requests().find((q) => q.headers['x-request-id'] === sent.renamed.id)?.url, '/new/x');

  const uf = await accessLogEntry(pod, sent.uf.id);
  checkCommon(t, uf, sent.uf.id, env, DOWN_VIP);
  t.is(uf.response_code, 503);
  t.is(uf.response_flags, 'UF,URX');
  t.is(uf.upstream_cluster, `outbound|80||${DOWN_HOST}`);
  t.is(uf.upstream_host, `${remote.ip}:${CLOSED}`);
  t.is(uf.upstream_local_address, null);
  t.is(uf.bytes_sent, sent.uf.r.body.length);
  t.is(uf.route_name, 'default');

  const fi = await accessLogEntry(pod, sent.fi.id);
  t.is(fi.response_code, 500);
  t.is(fi.response_flags, 'FI');
  t.is(fi.response_code_details, 'fault_filter_abort');
  t.is(fi.upstream_host, null);
  t.is(fi.route_name, 'fault');

  const nr = await accessLogEntry(pod, sent.nr.id);
  t.is(nr.response_code, 404);
  t.is(nr.response_flags, 'NR');
  t.is(nr.response_code_details, 'route_not_found');
  t.is(nr.upstream_cluster, null);
  t.is(nr.route_name, null);

  const ut = await accessLogEntry(pod, sent.ut.id);
  t.is(ut.response_code, 504);
  t.is(ut.response_flags, 'UT');
  t.is(ut.response_code_details, 'upstream_response_timeout');
  t.is(ut.upstream_cluster, CLUSTER);
  t.is(ut.upstream_host, `${remote.ip}:${UPSTREAM}`);
  t.is(ut.upstream_service_time, null);
  t.true(ut.duration >= 190 && ut.duration < 2000, `duration ${ut.duration}`);

  // One line per request, nothing else on stdout.
  t.is(accessLogEntries(pod).length, 6);
}

test('TEXT: Istio\'s default access log line on the proxy\'s stdout, field by field', async (t) => {
  const env = await podWithHttp(t, { servers: { logs: UPSTREAM }, proxy: { concurrency: 2 }, config: (r) => config('TEXT', r.ip) });
  await checkEntries(t, env, null);
  for (const line of accessLog(env.pod)) t.false(line.startsWith('{'), line);
  // The whole line, for the success: exactly Istio's shape with `-` for empty fields.
  const ok = accessLog(env.pod).find((l) => l.includes('"POST /ok/1?q=2 HTTP/1.1"'))!;
  t.regex(ok, /^\[\S+\] "POST \/ok\/1\?q=2 HTTP\/1\.1" 200 - via_upstream - "-" 12 \d+ \d+ \d+ "-" "e2e agent\/1\.0" "[0-9a-f-]{36}" "logs\.example\.internal" "[\d.]+:8080" outbound\|80\|\|logs\.example\.internal [\d.]+:\d+ 240\.240\.5\.10:80 [\d.]+:\d+ - ok$/);
});

test('JSON: accessLogEncoding JSON gives one parseable object per request with Istio\'s keys', async (t) => {
  const env = await podWithHttp(t, { servers: { logs: UPSTREAM }, proxy: { concurrency: 2 }, config: (r) => config('JSON', r.ip) });
  // Envoy's JSON logger writes RESPONSE_FLAGS as "-" when there are none (it is never null).
  await checkEntries(t, env, '-');
  const keys = [
    'authority', 'bytes_received', 'bytes_sent', 'connection_termination_details', 'downstream_local_address', 'downstream_remote_address',
    'duration', 'method', 'path', 'protocol', 'request_id', 'requested_server_name', 'response_code', 'response_code_details',
    'response_flags', 'route_name', 'start_time', 'upstream_cluster', 'upstream_host', 'upstream_local_address', 'upstream_service_time',
    'upstream_transport_failure_reason', 'user_agent', 'x_forwarded_for',
  ];
  for (const line of accessLog(env.pod)) {
    const o = JSON.parse(line) as Record<string, unknown>;
    t.deepEqual(Object.keys(o).sort(), keys, line);
    t.is(typeof o.response_code, 'number');
    t.is(typeof o.bytes_sent, 'number');
    t.is(typeof o.duration, 'number');
    t.true(o.upstream_service_time === null || typeof o.upstream_service_time === 'string');
  }
  const uf = accessLogEntries(env.pod).find((e) => e.response_flags === 'UF,URX')!;
  t.is(uf.upstream_transport_failure_reason, 'delayed_connect_error:_Connection_refused');
});
