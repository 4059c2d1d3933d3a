/**
 * End-to-end: retries, timeouts, fault injection and connect failures through the sidecar
 * (issue 5), against real upstreams that fail on purpose, with Envoy's answers: status, body,
 * response flags in the access log, and the cluster's retry counters. See
 * test/e2e/README.md for the harness.
 */
import test from 'ava';
import { randomBytes, randomUUID } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  accessLogEntry, destinationRule, httpRequest, meshConfigMap, podWithHttp, report, serviceEntry, virtualService,
  type HttpResponse, type PodWithHttp,
} from './harness/index.js';

const HOST = 'api.example.internal';
const VIP = '240.240.3.10';
const DOWN_HOST = 'down.example.internal';
const DOWN_VIP = '240.240.3.11';
const PORT = 80;
const UPSTREAM = 8080;
/** Nothing listens here on the remote host. */
const CLOSED = 8099;
const CLUSTER = `outbound|${PORT}||${HOST}`;
const DOWN_CLUSTER = `outbound|${PORT}||${DOWN_HOST}`;
const route = [{ destination: { host: HOST } }];

const config = (remoteIp: string) => [
  meshConfigMap({ outboundTrafficPolicy: 'REGISTRY_ONLY', accessLogFile: '/dev/stdout' }),
  serviceEntry({
    name: 'api',
    hosts: [HOST],
    addresses: [VIP],
    ports: [{ number: PORT, name: 'http', protocol: 'HTTP' }],
    endpoints: [{ address: remoteIp, ports: { http: UPSTREAM } }],
  }),
  serviceEntry({
    name: 'down',
    hosts: [DOWN_HOST],
    addresses: [DOWN_VIP],
    ports: [{ number: PORT, name: 'http', protocol: 'HTTP' }],
    endpoints: [{ address: remoteIp, ports: { http: CLOSED } }],
  }),
  destinationRule('api', { host: HOST, subsets: [{ name: 'none', labels: { version: 'none' } }] }),
  virtualService('api', {
    hosts: [HOST],
    http: [
      { name: 'retry5xx', match: [{ uri: { prefix: '/retry5xx/' } }], route, retries: { attempts: 3, retryOn: '5xx' } },
      { name: 'noretry', match: [{ uri: { prefix: '/noretry/' } }], route, retries: { attempts: 0 } },
      { name: 'retryreset', match: [{ uri: { prefix: '/retryreset/' } }], route, retries: { attempts: 2, retryOn: 'reset' } },
      // A subset whose labels select no endpoint: a cluster without hosts.
      { name: 'nohost', match: [{ uri: { prefix: '/nohost/' } }], route: [{ destination: { host: HOST, subset: 'none' } }] },
      { name: 'timeout', match: [{ uri: { prefix: '/timeout/' } }], route, timeout: '500ms' },
      { name: 'pertry', match: [{ uri: { prefix: '/pertry/' } }], route, retries: { attempts: 2, perTryTimeout: '300ms', retryOn: '5xx' } },
      { name: 'abort', match: [{ uri: { prefix: '/abort/' } }], route, fault: { abort: { httpStatus: 503, percentage: { value: 100 } } } },
      { name: 'delay', match: [{ uri: { prefix: '/delay/' } }], route, fault: { delay: { fixedDelay: '400ms', percentage: { value: 100 } } } },
      // The fault filter runs before the router: its delay is not part of the route timeout.
      { name: 'delay-timeout', match: [{ uri: { prefix: '/delaytimeout/' } }], route, timeout: '1s', fault: { delay: { fixedDelay: '1200ms', percentage: { value: 100 } } } },
      // No `retries`: Istio's default policy (2 retries on connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes=503).
      { name: 'default', route },
    ],
  }),
];

/** curl to `host` (resolved to `vip`) with a request id, so the access log line can be found. */
async function call(env: PodWithHttp, path: string, o: { host?: string; vip?: string } = {}): Promise<HttpResponse & { id: string }> {
  const id = randomUUID();
  const host = o.host ?? HOST;
  const r = await httpRequest(env.pod.ns, `http://${host}${path}`, { args: ['--resolve', `${host}:${PORT}:${o.vip ?? VIP}`, '-H', `x-request-id: ${id}`] });
  if (r.exitCode !== 0) throw new Error(`curl ${path}: exit ${r.exitCode} ${r.stderr}`);
  return { ...r, id };
}

/** What the upstream saw for one request key: attempt counts in order. */
const attempts = (env: PodWithHttp, key: string) => env.servers.api.requests().filter((q) => q.url.includes(`key=${key}`)).map((q) => q.headers['x-envoy-attempt-count']);

test('retries: Istio default policy retries 503 (not 500); retryOn 5xx; limit exhausted is URX; counters match', async (t) => {
  const env = await podWithHttp(t, { servers: { api: UPSTREAM }, config: (r) => config(r.ip) });
  const { pod } = env;

  // Default policy: 503 is a retriable status code; the second attempt answers 200.
  const once = await call(env, '/x?fail=1&key=a');
  t.is(once.status, 200);
  t.deepEqual(attempts(env, 'a'), ['1', '2']);
  t.is(report(once).headers['x-envoy-attempt-count'], '2');
  t.is((await accessLogEntry(pod, once.id)).response_flags, null);

  // x-envoy-upstream-service-time runs from the complete request to the answer's headers, across
  // attempts: a first attempt that takes 300 ms to fail counts.
  const slowFail = await call(env, '/x?fail=1&key=st&delay=300&delayfirst=1');
  t.is(slowFail.status, 200);
  t.deepEqual(attempts(env, 'st'), ['1', '2']);
  t.true(Number(slowFail.headers['x-envoy-upstream-service-time']) >= 290, `service time ${slowFail.headers['x-envoy-upstream-service-time']}`);

  // Default policy: 2 retries, then the third 503 is the answer, flagged URX (retry limit exceeded).
  const thrice = await call(env, '/x?fail=5&key=b');
  t.is(thrice.status, 503);
  t.is(thrice.headers['x-server-name'], 'api', "the upstream's own 503 is forwarded");
  t.deepEqual(attempts(env, 'b'), ['1', '2', '3']);
  const urx = await accessLogEntry(pod, thrice.id);
  t.is(urx.response_flags, 'URX');
  t.is(urx.response_code_details, 'via_upstream');

  // Default policy: a 500 is not retried.
  const five = await call(env, '/x?status=500&fail=1&key=c');
  t.is(five.status, 500);
  t.deepEqual(attempts(env, 'c'), ['1']);
  t.is((await accessLogEntry(pod, five.id)).response_flags, null);

  // retryOn 5xx, 3 attempts: two 500s, then 200.
  const r5 = await call(env, '/retry5xx/?status=500&fail=2&key=d');
  t.is(r5.status, 200);
  t.deepEqual(attempts(env, 'd'), ['1', '2', '3']);

  // attempts: 0 turns retries off: the first 503 is the answer, without URX.
  const none = await call(env, '/noretry/?fail=1&key=e');
  t.is(none.status, 503);
  t.deepEqual(attempts(env, 'e'), ['1']);
  t.is((await accessLogEntry(pod, none.id)).response_flags, null);

  // A retry resends the request body: Envoy keeps up to its buffer limit (1 MiB by default) for that.
  const dir = mkdtempSync(join(tmpdir(), 'legate-retry-body-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  chmodSync(dir, 0o755);
  const bodyFile = (name: string, size: number) => {
    const file = join(dir, name);
    writeFileSync(file, randomBytes(size));
    chmodSync(file, 0o644);
    return file;
  };
  const post = async (path: string, file: string) => {
    const r = await httpRequest(env.pod.ns, `http://${HOST}${path}`, { args: ['--resolve', `${HOST}:${PORT}:${VIP}`, '--data-binary', `@${file}`, '-H', 'expect:'] });
    if (r.exitCode !== 0) throw new Error(`curl ${path}: exit ${r.exitCode} ${r.stderr}`);
    return r;
  };
  const half = await post('/x?fail=1&key=body512k', bodyFile('512k', 512 * 1024));
  t.is(half.status, 200, 'a 512 KiB body is kept for the retry');
  const sent = env.servers.api.requests().filter((q) => q.url.includes('key=body512k'));
  t.deepEqual(sent.map((q) => q.bodyBytes), [512 * 1024, 512 * 1024]);
  t.is(sent[0].bodySha256, sent[1].bodySha256);
  // Past the buffer limit Envoy gives up on retrying: the upstream's 503 is the answer.
  const big = await post('/x?fail=1&key=body2m', bodyFile('2m', 2 * 1024 * 1024));
  t.is(big.status, 503);
  t.deepEqual(attempts(env, 'body2m'), ['1']);

  // Every attempt is an upstream request; retries and their successes are counted; retried 5xx are not upstream_rq_5xx.
  const c = `cluster.${CLUSTER}`;
  t.is(await pod.waitForStat(`${c}.upstream_rq_total`, 15), 15);
  t.is(await pod.stat(`${c}.upstream_rq_retry`), 7);
  t.is(await pod.stat(`${c}.upstream_rq_retry_success`), 4);
  t.is(await pod.stat(`${c}.upstream_rq_2xx`), 4);
  t.is(await pod.stat(`${c}.upstream_rq_5xx`), 4);
  t.is(await pod.stat(`http.outbound_0.0.0.0_${PORT}.downstream_rq_5xx`), 4);
  t.is(await pod.stat(`http.outbound_0.0.0.0_${PORT}.downstream_rq_2xx`), 4);
});

test('timeouts: route timeout is 504 UT "upstream request timeout"; a per-try timeout is retried', async (t) => {
  const env = await podWithHttp(t, { servers: { api: UPSTREAM }, config: (r) => config(r.ip) });
  const { pod } = env;

  const slow = await call(env, '/timeout/?delay=3000');
  t.is(slow.status, 504);
  t.is(slow.text, 'upstream request timeout');
  t.true(slow.ms >= 450 && slow.ms < 2500, `answered after ${slow.ms} ms`);
  const ut = await accessLogEntry(pod, slow.id);
  t.is(ut.response_flags, 'UT');
  t.is(ut.response_code_details, 'upstream_response_timeout');
  t.is(ut.upstream_cluster, CLUSTER);
  t.is(await pod.waitForStat(`cluster.${CLUSTER}.upstream_rq_timeout`, 1), 1);

  // The first attempt hangs past perTryTimeout (300 ms); the retry answers at once.
  const pertry = await call(env, '/pertry/?delay=3000&delayfirst=1&key=p');
  t.is(pertry.status, 200);
  t.deepEqual(attempts(env, 'p'), ['1', '2']);
  t.is(report(pertry).headers['x-envoy-attempt-count'], '2');
  t.true(pertry.ms >= 250 && pertry.ms < 2500, `answered after ${pertry.ms} ms`);
  t.is(await pod.waitForStat(`cluster.${CLUSTER}.upstream_rq_per_try_timeout`, 1), 1);
  t.is(await pod.stat(`cluster.${CLUSTER}.upstream_rq_retry`), 1);
});

test('fault injection: abort answers locally (FI), delay holds the request (DI) and then forwards it', async (t) => {
  const env = await podWithHttp(t, { servers: { api: UPSTREAM }, config: (r) => config(r.ip) });
  const { pod } = env;

  const abort = await call(env, '/abort/?key=f');
  t.is(abort.status, 503);
  t.is(abort.text, 'fault filter abort');
  t.is(abort.headers.server, 'envoy', 'the outbound HCM has no server_name: Envoy\'s default');
  const fi = await accessLogEntry(pod, abort.id);
  t.is(fi.response_flags, 'FI');
  t.is(fi.upstream_host, null);
  t.deepEqual(attempts(env, 'f'), [], 'an aborted request never reaches the upstream (and is not retried)');

  const delay = await call(env, '/delay/?key=g');
  t.is(delay.status, 200);
  t.true(delay.ms >= 380, `answered after ${delay.ms} ms`);
  t.deepEqual(attempts(env, 'g'), ['1']);
  const di = await accessLogEntry(pod, delay.id);
  t.is(di.response_flags, 'DI');
  t.true(di.duration >= 380, `logged duration ${di.duration}`);

  // Envoy starts the route timeout in the router, after the fault filter let the request go:
  // a 1.2 s delay on a route with a 1 s timeout still gets the (fast) upstream's answer.
  const both = await call(env, '/delaytimeout/?key=h');
  t.is(both.status, 200, both.text);
  t.deepEqual(attempts(env, 'h'), ['1']);
  t.is((await accessLogEntry(pod, both.id)).response_flags, 'DI');
});

test('upstream reset before the response: 503 UC (Istio\'s default policy does not retry resets); retryOn reset does', async (t) => {
  const env = await podWithHttp(t, { servers: { api: UPSTREAM }, config: (r) => config(r.ip) });
  const { pod } = env;

  // A fresh upstream connection that the server closes without answering.
  const r = await call(env, '/x?reset=9&key=u');
  t.is(r.status, 503);
  t.is(r.text, 'upstream connect error or disconnect/reset before headers. reset reason: connection termination');
  t.deepEqual(attempts(env, 'u'), ['1']);
  const uc = await accessLogEntry(pod, r.id);
  t.is(uc.response_flags, 'UC');
  t.is(uc.response_code_details, 'upstream_reset_before_response_started{connection_termination}');

  const retried = await call(env, '/retryreset/?reset=1&key=v');
  t.is(retried.status, 200);
  t.deepEqual(attempts(env, 'v'), ['1', '2']);

  // Legate's own addition: a reset on a *reused* keep-alive connection (the pool now holds the
  // last one) is sent once more on a new connection, whatever the policy. Envoy would answer
  // 503 UC after one attempt here.
  const again = await call(env, '/x?reset=9&key=w');
  t.is(again.status, 503);
  t.deepEqual(attempts(env, 'w'), ['1', '2']);
  t.is(await pod.waitForStat(`cluster.${CLUSTER}.upstream_rq_rx_reset`, 4), 4);
});

test('connect failure: endpoint port closed is 503 with Envoy\'s body, UF,URX after the default retries; no host is 503 UH', async (t) => {
  const env = await podWithHttp(t, { servers: { api: UPSTREAM }, config: (r) => config(r.ip) });
  const { pod, remote } = env;

  const uh = await call(env, '/nohost/');
  t.is(uh.status, 503);
  t.is(uh.text, 'no healthy upstream');
  const uhLog = await accessLogEntry(pod, uh.id);
  t.is(uhLog.response_flags, 'UH');
  t.is(uhLog.response_code_details, 'no_healthy_upstream');
  t.is(uhLog.upstream_cluster, `outbound|${PORT}|none|${HOST}`);
  t.is(await pod.waitForStat(`cluster.outbound|${PORT}|none|${HOST}.upstream_cx_none_healthy`, 1), 1);

  const r = await call(env, '/', { host: DOWN_HOST, vip: DOWN_VIP });
  t.is(r.status, 503);
  // Istio's default policy retries connect-failure twice, so Envoy reports the latest of three attempts.
  t.is(
    r.text,
    'upstream connect error or disconnect/reset before headers. retried and the latest reset reason: remote connection failure, transport failure reason: delayed connect error: Connection refused',
  );
  t.is(r.headers['content-type'], 'text/plain');
  const e = await accessLogEntry(pod, r.id);
  t.is(e.response_code, 503);
  t.is(e.response_flags, 'UF,URX');
  t.is(e.response_code_details, 'upstream_reset_before_response_started{remote_connection_failure,delayed_connect_error:_Connection_refused}');
  t.is(e.upstream_transport_failure_reason, 'delayed_connect_error:_Connection_refused');
  t.is(e.upstream_cluster, DOWN_CLUSTER);
  t.is(e.upstream_host, `${remote.ip}:${CLOSED}`);
  t.is(await pod.waitForStat(`cluster.${DOWN_CLUSTER}.upstream_cx_connect_fail`, 3), 3);
  t.is(await pod.stat(`cluster.${DOWN_CLUSTER}.upstream_rq_retry`), 2);
  t.is(await pod.stat(`cluster.${DOWN_CLUSTER}.upstream_cx_total`), 0);
});
