/**
 * End-to-end: gRPC through the sidecar (issue 11) — a real @grpc/grpc-js client as the app and
 * gRPC servers on the remote host, on a ServiceEntry port of protocol GRPC: every call kind,
 * the proxy's own answers as gRPC statuses (no upstream: UNAVAILABLE; route timeout:
 * DEADLINE_EXCEEDED), a retry on `unavailable`, and grpc_response_status in Istio's metrics.
 */
import test from 'ava';
import { destinationRule, grpcCalls, meshConfigMap, Pod, RemoteHost, serviceEntry, startGrpcServer, virtualService } from './harness/index.js';

const HOST = 'echo.example.internal';
const VIP = '240.240.7.10';
const PORT = 7070;
const GOOD = 50051;
const BAD = 50052;
const DEAD = 50059;
const UNAVAILABLE = 14;

const entry = (remoteIp: string, ports: number[]) =>
  serviceEntry({
    name: 'echo',
    hosts: [HOST],
    addresses: [VIP],
    ports: [{ number: PORT, name: 'grpc', protocol: 'GRPC' }],
    endpoints: ports.map((p) => ({ address: remoteIp, ports: { grpc: p } })),
  });

async function setup(t: import('ava').ExecutionContext, docs: (remoteIp: string) => string[]) {
  const remote = await RemoteHost.create(t);
  const pod = await Pod.create(t, { remote });
  pod.writeConfig(meshConfigMap({ outboundTrafficPolicy: 'REGISTRY_ONLY' }), ...docs(remote.ip));
  await startGrpcServer(remote.ns, GOOD, 'good');
  await startGrpcServer(remote.ns, BAD, 'bad', UNAVAILABLE);
  await pod.startProxy({ concurrency: 1 });
  return { remote, pod };
}

const target = `${VIP}:${PORT}`;
const authority = `${HOST}:${PORT}`;

test('gRPC unary, server-streaming, client-streaming and bidi calls through the sidecar (h2c both sides)', async (t) => {
  const { pod } = await setup(t, (ip) => [entry(ip, [GOOD])]);
  const results = await grpcCalls(pod.ns, target, { authority });
  t.deepEqual(results, [
    { kind: 'unary', code: 0, text: 'good:hi' },
    { kind: 'server-streaming', code: 0, text: 'hi#0,hi#1,hi#2,hi#3,hi#4' },
    { kind: 'client-streaming', code: 0, text: 'a,b,c,d' },
    { kind: 'bidi', code: 0, text: 're:0,re:1,re:2' },
  ]);
  t.is(await pod.stat(`cluster.outbound|${PORT}||${HOST}.upstream_cx_http2_total`), 1, 'one upstream session for all four calls');
  const metrics = await pod.admin('/stats/prometheus');
  t.regex(metrics, /istio_requests_total\{[^}]*request_protocol="grpc",response_code="200",grpc_response_status="0"[^}]*\} 4/);
});

test('the proxy answers gRPC requests as gRPC: no reachable upstream is UNAVAILABLE, a route timeout DEADLINE_EXCEEDED', async (t) => {
  const { pod } = await setup(t, (ip) => [
    entry(ip, [DEAD]),
    serviceEntry({ name: 'slow', hosts: ['slow.example.internal'], addresses: ['240.240.7.11'], ports: [{ number: PORT, name: 'grpc', protocol: 'GRPC' }], endpoints: [{ address: ip, ports: { grpc: GOOD } }] }),
    virtualService('slow', { hosts: ['slow.example.internal'], http: [{ timeout: '0.3s', route: [{ destination: { host: 'slow.example.internal' } }] }] }),
  ]);
  const [down] = await grpcCalls(pod.ns, target, { authority, mode: 'unary' });
  t.is(down!.code, UNAVAILABLE);
  t.regex(down!.details ?? '', /upstream connect error/);
  const [late] = await grpcCalls(pod.ns, `240.240.7.11:${PORT}`, { authority: `slow.example.internal:${PORT}`, mode: 'unary', msg: { text: 'x', delayMs: 3000 } });
  t.is(late!.code, 4);
  t.is(late!.details, 'upstream request timeout');
  const metrics = await pod.admin('/stats/prometheus');
  t.regex(metrics, /istio_requests_total\{[^}]*request_protocol="grpc",response_code="200",grpc_response_status="14"[^}]*\} 1/);
  t.regex(metrics, /istio_requests_total\{[^}]*request_protocol="grpc",response_code="200",grpc_response_status="4"[^}]*\} 1/);
});

test('retries on unavailable: calls that meet the failing host are retried on the other one', async (t) => {
  const { pod } = await setup(t, (ip) => [
    entry(ip, [BAD, GOOD]),
    destinationRule('echo', { host: HOST, trafficPolicy: { loadBalancer: { simple: 'ROUND_ROBIN' } } }),
    virtualService('echo', { hosts: [HOST], http: [{ retries: { attempts: 3, retryOn: 'unavailable' }, route: [{ destination: { host: HOST } }] }] }),
  ]);
  const results = await grpcCalls(pod.ns, target, { authority, mode: 'unary', count: 6 });
  t.deepEqual(results.map((r) => [r.code, r.text]), [0, 1, 2, 3, 4, 5].map((i) => [0, `good:hi${i}`]));
  t.true((await pod.stat(`cluster.outbound|${PORT}||${HOST}.upstream_rq_retry`)) >= 3);
});
