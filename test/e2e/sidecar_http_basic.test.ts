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
import { APP_UID, httpRequest, meshConfigMap, Pod, podWithHttp, rawHttp, RemoteHost, report, serviceEntry, sleep } from './harness/index.js';

const HOST = 'web.example.internal';
const VIP = '240.240.1.10';
const VIP2 = '240.240.1.11';
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
  t.is(r.headers.server, 'envoy', 'the outbound HCM has no server_name: Envoy\'s default');
  t.is(r.headers['x-server-name'], 'web');

  t.is(await pod.waitForStat(`${STATS}.downstream_rq_2xx`, 1), 1);
  t.is(await pod.stat(`cluster.${CLUSTER}.upstream_rq_total`), 1);
  t.is(await pod.stat('cluster.PassthroughCluster.upstream_cx_total'), 0);
});

test('keep-alive: one client connection for two requests, one pooled upstream connection; upstream connection: close and idle closes handled', async (t) => {
  const remote = await RemoteHost.create(t);
  const pod = await Pod.create(t, { remote });
  const web = await remote.httpServer(UPSTREAM, 'web');
  // A second service whose server drops idle keep-alive connections after about a second
  // (Node adds 1 s to keepAliveTimeout).
  const brief = await remote.httpServer(UPSTREAM + 1, 'brief', { keepAliveMs: 1 });
  pod.writeConfig(
    ...config(remote.ip),
    serviceEntry({ name: 'brief', hosts: ['brief.example.internal'], addresses: [VIP2], ports: [{ number: PORT, name: 'http', protocol: 'HTTP' }], endpoints: [{ address: remote.ip, ports: { http: UPSTREAM + 1 } }] }),
  );
  await pod.startProxy({ concurrency: 1 });
  const two = async (a: string, b: string) =>
    (await pod.ns.exec(['curl', '-sS', '--max-time', '5', '-o', '/dev/null', '-o', '/dev/null', '-w', '%{http_code} %{num_connects}\n', a, b], { uid: APP_UID })).stdout.trim().split('\n');

  // Second transfer reused curl's connection (num_connects 0), and the proxy's upstream connection.
  t.deepEqual(await two(`http://${VIP}/a`, `http://${VIP}/b`), ['200 1', '200 0']);
  const reqs = web.requests();
  t.deepEqual(reqs.map((q) => q.url), ['/a', '/b']);
  t.is(web.connections().length, 1, 'one upstream connection for both');
  // A new downstream connection finds the warm upstream connection in the (one worker's) pool.
  await httpRequest(pod.ns, `http://${VIP}/c`);
  t.is(web.connections().length, 1);

  // The upstream ends its connection after a response (connection: close): the client's
  // connection to the proxy stays open, the next request gets a new upstream connection.
  t.deepEqual(await two(`http://${VIP}/d?hdr=connection:close`, `http://${VIP}/e`), ['200 1', '200 0']);
  t.is(web.connections().length, 2);

  // An idle pooled connection the upstream has since closed is not used for the next request.
  t.is((await httpRequest(pod.ns, `http://${VIP2}/1`)).status, 200);
  await brief.waitForCloses(1, UPSTREAM + 1, 5000);
  await sleep(100);
  const after = await httpRequest(pod.ns, `http://${VIP2}/2`);
  t.is(after.status, 200, after.text);
  t.is(brief.connections().length, 2);
  t.is(await pod.waitForStat(`cluster.outbound|${PORT}||brief.example.internal.upstream_rq_total`, 2), 2);
  t.is(await pod.stat(`cluster.outbound|${PORT}||brief.example.internal.upstream_rq_rx_reset`), 0);

  t.is(await pod.waitForStat(`${STATS}.downstream_cx_total`, 5), 5);
  t.is(await pod.stat(`${STATS}.downstream_rq_total`), 7);
});

test('request bodies: 1 MB with content-length, chunked and 100-continue arrive intact; HEAD has no body', async (t) => {
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

  // Envoy answers 100-continue itself and does not forward the expectation.
  const cont = await httpRequest(pod.ns, `http://${VIP}/upload`, { args: ['--data-binary', `@${file}`, '-H', 'expect: 100-continue'] });
  t.is(cont.status, 200);
  const seen = report(cont);
  t.false('expect' in seen.headers);
  t.is(seen.bodySha256, sha);

  // HEAD: the upstream's content-length comes back, no body follows (raw, so nothing could hide one).
  const head = await rawHttp(pod.ns, VIP, PORT, `HEAD /head HTTP/1.1\r\nHost: ${HOST}\r\nConnection: close\r\n\r\n`, { halfClose: false });
  t.regex(head, /^HTTP\/1\.1 200 OK\r\n/);
  t.regex(head, /\r\ncontent-length: [1-9]\d*\r\n/i, 'the upstream content-length is kept');
  t.true(head.endsWith('\r\n\r\n'), 'no body after the head');
  t.is(servers.web.requests().map((q) => q.method).join(','), 'POST,PUT,POST,HEAD');
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

test('WebSocket upgrade: the 101 comes back and bytes flow both ways through the tunnel', async (t) => {
  const { pod, servers } = await podWithHttp(t, { servers: { web: UPSTREAM }, config: (r) => config(r.ip) });
  // The first bytes follow the request head at once; the server ends the tunnel on "bye". (The
  // client does not half-close: a FIN before the 101 ends the exchange in Legate's HCM.)
  const reply = await rawHttp(
    pod.ns,
    VIP,
    PORT,
    `GET /chat HTTP/1.1\r\nHost: ${HOST}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\nhello tunnel, bye`,
    { halfClose: false },
  );
  const [head, ...rest] = reply.split('\r\n\r\n');
  t.regex(head, /^HTTP\/1\.1 101 Switching Protocols\r\n/, reply);
  t.regex(head, /\r\nupgrade: websocket/i);
  t.regex(head, /\r\nconnection: upgrade/i);
  t.is(rest.join('\r\n\r\n'), 'HELLO TUNNEL, BYE');
  const up = servers.web.proc.jsonLines<{ ev: string; url: string; headers: Record<string, string> }>().filter((e) => e.ev === 'upgrade');
  t.is(up.length, 1);
  t.is(up[0].url, '/chat');
  t.is(up[0].headers.upgrade, 'websocket');
  t.regex(up[0].headers['x-request-id'] ?? '', /^[0-9a-f-]{36}$/, 'the upgrade request went through the HTTP connection manager');
});
