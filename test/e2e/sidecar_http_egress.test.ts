/**
 * End-to-end: HTTP to destinations outside the registry (issue 5), by outboundTrafficPolicy.
 * With an HTTP ServiceEntry on port 80 the sidecar has an HTTP listener on 0.0.0.0_80, so an
 * unknown host on port 80 is routed by its catch-all virtual host: Istio's `block_all` (a direct
 * 502) under REGISTRY_ONLY, `allow_any` (PassthroughCluster, to the original destination) under
 * ALLOW_ANY. A port with no HTTP service stays plain TCP: BlackHoleCluster or passthrough.
 * See test/e2e/README.md for the harness.
 */
import test from 'ava';
import { randomUUID } from 'node:crypto';
import { accessLogEntry, httpRequest, meshConfigMap, podWithHttp, report, serviceEntry } from './harness/index.js';

const HOST = 'known.example.internal';
const VIP = '240.240.4.10';
/** The registry's service: port 80 → the remote host's 8080. */
const KNOWN_UPSTREAM = 8080;
/** A server on the remote host at port 80 that is in no ServiceEntry. */
const UNKNOWN_80 = 80;
/** And one on a port no ServiceEntry names at all. */
const UNKNOWN_PORT = 9090;

const config = (mode: 'REGISTRY_ONLY' | 'ALLOW_ANY', remoteIp: string) => [
  meshConfigMap({ outboundTrafficPolicy: mode, accessLogFile: '/dev/stdout' }),
  serviceEntry({
    name: 'known',
    hosts: [HOST],
    addresses: [VIP],
    ports: [{ number: 80, name: 'http', protocol: 'HTTP' }],
    endpoints: [{ address: remoteIp, ports: { http: KNOWN_UPSTREAM } }],
  }),
];

const servers = { known: KNOWN_UPSTREAM, unknown80: UNKNOWN_80, unknownPort: UNKNOWN_PORT };

test('REGISTRY_ONLY: unknown host on an HTTP port is a 502 from block_all; an unknown port is closed; neither reaches a server', async (t) => {
  const env = await podWithHttp(t, { servers, config: (r) => config('REGISTRY_ONLY', r.ip) });
  const { pod, remote } = env;

  // By IP (Host is the IP) and by a name outside the registry resolved to the same IP.
  const id = randomUUID();
  const byIp = await httpRequest(pod.ns, `http://${remote.ip}/x`, { args: ['-H', `x-request-id: ${id}`] });
  t.is(byIp.status, 502, byIp.stderr);
  t.is(byIp.text, '');
  t.is(byIp.headers.server, 'envoy', 'the outbound HCM has no server_name: Envoy\'s default');
  const byName = await httpRequest(pod.ns, 'http://stranger.example.com/x', { args: ['--resolve', `stranger.example.com:80:${remote.ip}`] });
  t.is(byName.status, 502);
  const e = await accessLogEntry(pod, id);
  t.is(e.response_code, 502);
  t.is(e.response_flags, null);
  t.is(e.response_code_details, 'direct_response');
  t.is(e.route_name, 'block_all');
  t.is(e.upstream_cluster, null);

  // No HTTP service on 9090: the TCP BlackHoleCluster closes the connection, no HTTP answer.
  const tcp = await httpRequest(pod.ns, `http://${remote.ip}:${UNKNOWN_PORT}/x`);
  t.is(tcp.status, 0);
  t.true(tcp.exitCode === 52 || tcp.exitCode === 56, `curl exit ${tcp.exitCode}: ${tcp.stderr}`);

  // The registry still works on the same listener.
  t.is((await httpRequest(pod.ns, `http://${VIP}/ok`)).status, 200);

  t.is(env.servers.unknown80.connections().length, 0);
  t.is(env.servers.unknownPort.connections().length, 0);
  t.is(env.servers.known.requests().length, 1);
  t.is(await pod.waitForStat('http.outbound_0.0.0.0_80.rq_direct_response', 2), 2);
  t.is(await pod.stat('http.outbound_0.0.0.0_80.downstream_rq_5xx'), 2);
  t.is(await pod.waitForStat('cluster.BlackHoleCluster.upstream_cx_none_healthy', 1), 1);
  t.is(await pod.stat('cluster.PassthroughCluster.upstream_rq_total'), 0);
});

test('ALLOW_ANY: unknown host on an HTTP port goes through the HTTP proxy to the original destination; an unknown port passes through as TCP', async (t) => {
  const env = await podWithHttp(t, { servers, config: (r) => config('ALLOW_ANY', r.ip) });
  const { pod, remote } = env;

  const id = randomUUID();
  const r = await httpRequest(pod.ns, 'http://stranger.example.com/hello?a=1', { args: ['--resolve', `stranger.example.com:80:${remote.ip}`, '-H', `x-request-id: ${id}`] });
  t.is(r.status, 200, r.stderr);
  const seen = report(r);
  t.is(seen.name, 'unknown80', 'reached the original destination IP:port');
  t.is(seen.url, '/hello?a=1');
  t.is(seen.headers.host, 'stranger.example.com');
  t.is(seen.peer, pod.ip);
  // It went through the HTTP connection manager (allow_any route), not TCP passthrough.
  t.is(seen.headers['x-request-id'], id);
  t.is(seen.headers['x-envoy-attempt-count'], '1');
  t.regex(r.headers['x-envoy-upstream-service-time'] ?? '', /^\d+$/);
  const e = await accessLogEntry(pod, id);
  t.is(e.route_name, 'allow_any');
  t.is(e.upstream_cluster, 'PassthroughCluster');
  t.is(e.upstream_host, `${remote.ip}:${UNKNOWN_80}`);
  t.is(e.response_flags, null);

  // Port 9090 has no HTTP listener: TCP passthrough, bytes untouched (no Envoy headers added).
  const tcp = await httpRequest(pod.ns, `http://${remote.ip}:${UNKNOWN_PORT}/raw`);
  t.is(tcp.status, 200);
  const raw = report(tcp);
  t.is(raw.name, 'unknownPort');
  t.false('x-request-id' in raw.headers);
  t.false('x-envoy-upstream-service-time' in tcp.headers);

  t.is(await pod.waitForStat('cluster.PassthroughCluster.upstream_rq_total', 1), 1);
  t.is(await pod.waitForStat('tcp.PassthroughCluster.downstream_cx_total', 1), 1);
  t.is(await pod.stat('http.outbound_0.0.0.0_80.downstream_rq_2xx'), 1);
  t.is(env.servers.known.requests().length, 0);
});
