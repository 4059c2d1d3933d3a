/**
 * End-to-end: the sidecar's HTTP/1.1 data path (issue 5) through a captured pod — real curl as
 * the app to an HTTP ServiceEntry VIP, the proxy's HTTP connection manager, a real HTTP server
 * on the remote host. Headers Envoy adds and removes, keep-alive reuse on both sides, request
 * and response bodies byte for byte. See test/e2e/README.md for the harness.
 */
import test from 'ava';
import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync, chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { APP_UID, httpRequest, meshConfigMap, podWithHttp, report, serviceEntry } from './harness/index.js';

const HOST = 'web.example.internal';
const VIP = '240.240.1.10';
const PORT = 80;
const UPSTREAM = 8080;
const CLUSTER = `outbound|${PORT}||${HOST}`;
const STATS = `http.outbound_0.0.0.0_${PORT}`;
const MB = 1024 * 1024;

const config = (remoteIp: string) => [
  meshConfigMap({ outboundTrafficPolicy: 'REGISTRY_ONLY' }),
  serviceEntry({
    name: 'web',
    hosts: [HOST],
    addresses: [VIP],
    ports: [{ number: PORT, name: 'http', protocol: 'HTTP' }],
    endpoints: [{ address: remoteIp, ports: { http: UPSTREAM } }],
  }),
];

test('a request through the sidecar: Envoy headers added, hop-by-hop removed, host kept, the proxy on the path', async (t) => {
  const { pod, remote, servers } = await podWithHttp(t, { servers: { web: UPSTREAM }, config: (r) => config(r.ip) });
  const r = await httpRequest(pod.ns, `http://${HOST}/hello?x=1`, {
    args: ['--resolve', `${HOST}:${PORT}:${VIP}`, '-H', 'x-app: 1', '-H', 'connection: keep-alive, x-hop', '-H', 'x-hop: secret', '-H', 'keep-alive: timeout=5', '-H', 'te: gzip, trailers', '-H', 'upgrade: h2c', '-H', 'proxy-connection: keep-alive'],
  });
  t.is(r.exitCode, 0, r.stderr);
  t.is(r.status, 200);
  const seen = report(r);
  t.is(seen.url, '/hello?x=1');
  t.is(seen.headers.host, HOST, 'host preserved');
  t.is(seen.headers['x-app'], '1');
  t.regex(seen.headers['x-request-id'] ?? '', /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  t.is(seen.headers['x-forwarded-proto'], 'http');
  t.is(seen.headers['x-envoy-attempt-count'], '1');
  for (const hop of ['x-hop', 'keep-alive', 'upgrade', 'proxy-connection']) t.false(hop in seen.headers, `${hop} is not forwarded`);
  t.not(seen.headers.connection, 'keep-alive, x-hop');
  // Envoy keeps only the `trailers` token of TE (gRPC needs it); an h2c upgrade is not attempted.
  t.is(seen.headers.te, 'trailers');
  // The upstream connection is the proxy's: from the pod's address, on the endpoint's port.
  t.is(seen.peer, pod.ip);
  // Response: Envoy's headers.
  t.regex(r.headers['x-envoy-upstream-service-time'] ?? '', /^\d+$/);
  t.is(r.headers.server, 'legate');
  t.is(r.headers['x-server-name'], 'web');

  t.is(await pod.waitForStat(`${STATS}.downstream_rq_2xx`, 1), 1);
  t.is(await pod.stat(`cluster.${CLUSTER}.upstream_rq_total`), 1);
  t.is(await pod.stat('cluster.PassthroughCluster.upstream_cx_total'), 0);
});

test('keep-alive: two requests on one curl connection use one upstream connection; the pool keeps it for the next client', async (t) => {
  const { pod, servers } = await podWithHttp(t, { servers: { web: UPSTREAM }, config: (r) => config(r.ip) });
  const url = `http://${VIP}/a`;
  const out = await pod.ns.exec(['curl', '-sS', '--max-time', '5', '-o', '/dev/null', '-o', '/dev/null', '-w', '%{http_code} %{num_connects}\n', url, `http://${VIP}/b`], { uid: APP_UID });
  // Second transfer reused curl's connection (num_connects 0).
  t.deepEqual(out.stdout.trim().split('\n'), ['200 1', '200 0']);
  const reqs = servers.web.requests();
  t.deepEqual(reqs.map((q) => q.url), ['/a', '/b']);
  t.is(servers.web.connections().length, 1, 'one upstream connection for both');
  t.is(reqs[0].peerPort, reqs[1].peerPort);
  // A new downstream connection finds the warm upstream connection in the pool (same worker or not, at most one more).
  await httpRequest(pod.ns, `http://${VIP}/c`);
  t.true(servers.web.connections().length <= 2);
  t.is(await pod.waitForStat(`${STATS}.downstream_cx_total`, 2), 2);
  t.is(await pod.stat(`${STATS}.downstream_rq_total`), 3);
});

test('request bodies: 1 MB with content-length and chunked arrive intact', async (t) => {
  const { pod, servers } = await podWithHttp(t, { servers: { web: UPSTREAM }, config: (r) => config(r.ip) });
  const dir = mkdtempSync(join(tmpdir(), 'legate-body-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  chmodSync(dir, 0o755);
  const data = randomBytes(MB);
  const file = join(dir, 'body');
  writeFileSync(file, data);
  chmodSync(file, 0o644);
  const sha = createHash('sha256').update(data).digest('hex');

  const cl = report(await httpRequest(pod.ns, `http://${VIP}/upload`, { args: ['--data-binary', `@${file}`, '-H', 'content-type: application/octet-stream'] }));
  t.is(cl.method, 'POST');
  t.is(cl.headers['content-length'], String(MB));
  t.is(cl.bodyBytes, MB);
  t.is(cl.bodySha256, sha);

  const chunked = report(await httpRequest(pod.ns, `http://${VIP}/upload`, { args: ['-X', 'PUT', '-T', file, '-H', 'transfer-encoding: chunked'] }));
  t.is(chunked.method, 'PUT');
  t.is(chunked.headers['transfer-encoding'], 'chunked');
  t.false('content-length' in chunked.headers);
  t.is(chunked.bodyBytes, MB);
  t.is(chunked.bodySha256, sha);
  t.is(servers.web.requests().length, 2);
});

test('large responses: 10 MB with content-length and chunked stream through intact', async (t) => {
  const { pod } = await podWithHttp(t, { servers: { web: UPSTREAM }, config: (r) => config(r.ip) });
  for (const chunked of [false, true]) {
    const r = await httpRequest(pod.ns, `http://${VIP}/big?size=${10 * MB}${chunked ? '&chunked=1' : ''}`, { timeoutS: 20 });
    t.is(r.status, 200, r.stderr);
    t.is(r.body.length, 10 * MB);
    t.is(r.sha256, r.headers['x-body-sha256']);
    if (chunked) t.is(r.headers['transfer-encoding'], 'chunked');
    else t.is(r.headers['content-length'], String(10 * MB));
  }
});
