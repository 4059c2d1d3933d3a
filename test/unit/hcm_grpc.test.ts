import test from 'ava';
import * as grpc from '@grpc/grpc-js';
import { connect } from 'node:http2';
import { routeTo, startHcm, staticCluster } from '../support/hcm.js';
import { h2Request } from '../support/h2.js';
import { Flag } from '../../src/filters/network/http_connection_manager/stream_info.js';
import { echoClient, startEchoServer, unary, type Msg } from '../support/grpc_echo.js';
import { grpcRouteTimeoutMs, httpToGrpcStatus, parseGrpcTimeout } from '../../src/filters/http/grpc/grpc.js';

test('gRPC status mapping of local replies follows Envoy (httpToGrpcStatus)', (t) => {
  t.is(httpToGrpcStatus(503), 14);
  t.is(httpToGrpcStatus(504), 14);
  t.is(httpToGrpcStatus(404), 12);
  t.is(httpToGrpcStatus(400), 13);
  t.is(httpToGrpcStatus(401), 16);
  t.is(httpToGrpcStatus(403), 7);
  t.is(httpToGrpcStatus(429), 14);
  t.is(httpToGrpcStatus(418), 2);
});

test('grpc-timeout: parsed with its unit; honoured under max_grpc_timeout (0: uncapped), ignored without it', (t) => {
  t.is(parseGrpcTimeout('250m'), 250);
  t.is(parseGrpcTimeout('2S'), 2000);
  t.is(parseGrpcTimeout('1H'), 3_600_000);
  t.is(parseGrpcTimeout('100u'), 1);
  t.is(parseGrpcTimeout('x1'), undefined);
  t.is(parseGrpcTimeout('123456789S'), undefined);
  t.is(grpcRouteTimeoutMs(0, 0, '300m'), 300);
  t.is(grpcRouteTimeoutMs(1000, 1000, '5S'), 1000);
  t.is(grpcRouteTimeoutMs(1000, 1000, undefined), 1000);
  t.is(grpcRouteTimeoutMs(1000, undefined, '300m'), 1000);
});

async function proxiedEcho(t: import('ava').ExecutionContext, extra: Parameters<typeof routeTo>[1] = {}, ports?: number[]) {
  const server = await startEchoServer();
  t.teardown(() => server.server.forceShutdown());
  const hcm = await startHcm(t, [routeTo('echo', extra)], [staticCluster('echo', ports ?? [server.port], { http2: { upgrade: true } })], ['*'], undefined, { h2: true });
  const client = echoClient(`127.0.0.1:${hcm.port}`);
  t.teardown(() => client.close());
  return { server, hcm, client };
}

test('gRPC unary, server-streaming, client-streaming and bidi calls pass through h2c both ways', async (t) => {
  const { client, hcm } = await proxiedEcho(t);
  const u = await unary(client, { text: 'hi' });
  t.is(u.res?.text, 'echo:hi');
  const streamed = await new Promise<string[]>((resolve, reject) => {
    const got: string[] = [];
    const call = client.repeat({ text: 'r', count: 4 }) as grpc.ClientReadableStream<Msg>;
    call.on('data', (m: Msg) => got.push(m.text));
    call.on('end', () => resolve(got));
    call.on('error', reject);
  });
  t.deepEqual(streamed, ['r#0', 'r#1', 'r#2', 'r#3']);
  const collected = await new Promise<string>((resolve, reject) => {
    const call = client.collect((err: grpc.ServiceError | null, res: Msg) => (err ? reject(err) : resolve(res.text))) as grpc.ClientWritableStream<Msg>;
    for (const text of ['a', 'b', 'c']) call.write({ text });
    call.end();
  });
  t.is(collected, 'a,b,c');
  const chat = await new Promise<string[]>((resolve, reject) => {
    const got: string[] = [];
    const call = client.chat() as grpc.ClientDuplexStream<Msg, Msg>;
    call.on('data', (m: Msg) => {
      got.push(m.text);
      if (got.length < 3) call.write({ text: String(got.length) });
      else call.end();
    });
    call.on('end', () => resolve(got));
    call.on('error', reject);
    call.write({ text: '0' });
  });
  t.deepEqual(chat, ['re:0', 're:1', 're:2']);
  const failed = await unary(client, { text: 'x', fail: grpc.status.NOT_FOUND });
  t.is(failed.err?.code, grpc.status.NOT_FOUND);
  t.is(failed.err?.details, 'failed as asked (5)');
  const statuses = hcm.logged.map((i) => i.grpcStatus);
  t.deepEqual(statuses, [0, 0, 0, 0, 5]);
  t.true(hcm.logged.every((i) => i.protocol === 'HTTP/2' && i.grpc));
});

test('gRPC local replies: no healthy upstream is UNAVAILABLE (14), a route timeout DEADLINE_EXCEEDED (4), no route UNIMPLEMENTED (12)', async (t) => {
  const down = await proxiedEcho(t, {}, []);
  const none = await unary(down.client, { text: 'x' });
  t.is(none.err?.code, grpc.status.UNAVAILABLE);
  t.is(none.err?.details, 'no healthy upstream');
  t.is(down.hcm.logged[0]!.responseCode, 200);
  t.is(down.hcm.logged[0]!.grpcStatus, 14);
  const slow = await proxiedEcho(t, { timeoutMs: 100, maxGrpcTimeoutMs: 100 });
  const late = await unary(slow.client, { text: 'x', delayMs: 1000 });
  t.is(late.err?.code, grpc.status.DEADLINE_EXCEEDED);
  t.is(late.err?.details, 'upstream request timeout');
  const server = await startEchoServer();
  t.teardown(() => server.server.forceShutdown());
  const nowhere = await startHcm(t, [routeTo('echo')], [staticCluster('echo', [server.port])], ['elsewhere'], undefined, { h2: true });
  const client = echoClient(`127.0.0.1:${nowhere.port}`);
  t.teardown(() => client.close());
  const nr = await unary(client, { text: 'x' });
  t.is(nr.err?.code, grpc.status.UNIMPLEMENTED);
});

test('grpc-timeout from the client is the route timeout when max_grpc_timeout is 0 (Istio without a VirtualService timeout)', async (t) => {
  const { hcm } = await proxiedEcho(t, { timeoutMs: 0, maxGrpcTimeoutMs: 0 });
  const session = connect(`http://127.0.0.1:${hcm.port}`);
  t.teardown(() => session.close());
  const msg = Buffer.from(JSON.stringify({ text: 'x', delayMs: 3000 }));
  const frame = Buffer.concat([Buffer.from([0, 0, 0, 0, msg.length]), msg]);
  const r = await h2Request(session, { ':method': 'POST', ':path': '/test.Echo/Unary', ':authority': 'echo', 'content-type': 'application/grpc', te: 'trailers', 'grpc-timeout': '150m' }, frame);
  t.is(Number(r.headers[':status']), 200);
  t.is(r.headers['grpc-status'], '4', 'trailers-only DEADLINE_EXCEEDED');
  t.is(r.headers['grpc-message'], 'upstream request timeout');
  t.is(hcm.logged[0]!.grpcStatus, 4);
  t.true((hcm.logged[0]!.flags & Flag.UT) !== 0);
});

test('gRPC retry on unavailable: a trailers-only UNAVAILABLE answer is retried on the next host', async (t) => {
  const bad = await startEchoServer('127.0.0.1:0', 'bad', grpc.status.UNAVAILABLE);
  const good = await startEchoServer('127.0.0.1:0', 'good');
  t.teardown(() => bad.server.forceShutdown());
  t.teardown(() => good.server.forceShutdown());
  const retryPolicy = { retryOn: 'unavailable', numRetries: 2, retriableStatusCodes: [], retryHostPredicate: ['envoy.retry_host_predicates.previous_hosts'], hostSelectionRetryMaxAttempts: 5 };
  const hcm = await startHcm(t, [routeTo('echo', { retryPolicy } as never)], [staticCluster('echo', [bad.port, good.port], { http2: { upgrade: true } })], ['*'], undefined, { h2: true });
  const client = echoClient(`127.0.0.1:${hcm.port}`);
  t.teardown(() => client.close());
  for (let i = 0; i < 4; i++) {
    const r = await unary(client, { text: String(i) });
    t.is(r.res?.text, `good:${i}`, r.err?.message);
  }
  t.true(bad.calls > 0, 'the failing host was tried');
  t.is(hcm.stat('cluster.echo.upstream_rq_retry'), bad.calls);
});

test('fault abort with grpcStatus: gRPC requests get that status, the upstream never sees them', async (t) => {
  const fault = { abort: { grpcStatus: grpc.status.RESOURCE_EXHAUSTED, percent: 100 } };
  const server = await startEchoServer();
  t.teardown(() => server.server.forceShutdown());
  const hcm = await startHcm(t, [routeTo('echo', {}, { fault } as never)], [staticCluster('echo', [server.port], { http2: { upgrade: true } })], ['*'], undefined, { h2: true });
  const client = echoClient(`127.0.0.1:${hcm.port}`);
  t.teardown(() => client.close());
  const r = await unary(client, { text: 'x' });
  t.is(r.err?.code, grpc.status.RESOURCE_EXHAUSTED);
  t.is(r.err?.details, 'fault filter abort');
  t.is(server.calls, 0);
  t.true((hcm.logged[0]!.flags & Flag.FI) !== 0);
});
