/**
 * End-to-end: HTTP/2 through the sidecar (issue 11) — real `curl --http2-prior-knowledge` and
 * `h2load` as the app, to an HTTP/1.1 upstream (port protocol HTTP) and to an h2c upstream (port
 * protocol HTTP2); flow control with a slow reader; GOAWAY on drain with streams in flight.
 */
import test from 'ava';
import { createHash } from 'node:crypto';
import {
  accessLogEntries, eventually, h2load, httpRequest, meshConfigMap, Pod, RemoteHost, report, serviceEntry, sleep, startH2Server,
} from './harness/index.js';

const WEB = 'web.example.internal';
const WEB_VIP = '240.240.6.10';
const H2 = 'h2.example.internal';
const H2_VIP = '240.240.6.11';
const WEB_PORT = 8080;
const H2_PORT = 8090;
const H2C = ['--http2-prior-knowledge'];

const config = (remoteIp: string) => [
  meshConfigMap({ outboundTrafficPolicy: 'REGISTRY_ONLY', accessLogFile: '/dev/stdout', accessLogEncoding: 'JSON' }),
  serviceEntry({ name: 'web', hosts: [WEB], addresses: [WEB_VIP], ports: [{ number: 80, name: 'http', protocol: 'HTTP' }], endpoints: [{ address: remoteIp, ports: { http: WEB_PORT } }] }),
  serviceEntry({ name: 'h2', hosts: [H2], addresses: [H2_VIP], ports: [{ number: 80, name: 'http2', protocol: 'HTTP2' }], endpoints: [{ address: remoteIp, ports: { http2: H2_PORT } }] }),
];

async function setup(t: import('ava').ExecutionContext) {
  const remote = await RemoteHost.create(t);
  const pod = await Pod.create(t, { remote });
  const web = await remote.httpServer(WEB_PORT, 'web');
  const h2 = await startH2Server(remote.ns, H2_PORT, 'h2');
  pod.writeConfig(...config(remote.ip));
  await pod.startProxy({ concurrency: 1 });
  return { remote, pod, web, h2 };
}

test('curl --http2-prior-knowledge through the sidecar: to an HTTP/1.1 upstream (host from :authority) and to an h2c upstream; logged as HTTP/2', async (t) => {
  const { pod, h2 } = await setup(t);
  const a = await httpRequest(pod.ns, `http://${WEB}/one?x=1`, { args: [...H2C, '--resolve', `${WEB}:80:${WEB_VIP}`, '-H', 'x-app: 1'] });
  t.is(a.exitCode, 0, a.stderr);
  t.is(a.status, 200);
  const seen = report(a);
  t.is(seen.url, '/one?x=1');
  t.is(seen.headers.host, WEB, ':authority became host');
  t.is(seen.headers['x-app'], '1');
  t.regex(seen.headers['x-request-id'] ?? '', /^[0-9a-f-]{36}$/);
  t.is(seen.headers['x-forwarded-proto'], 'http');
  t.is(a.headers.server, 'envoy', 'the outbound HCM has no server_name: Envoy\'s default');

  const b = await httpRequest(pod.ns, `http://${H2}/two?trailers=1`, { args: [...H2C, '--resolve', `${H2}:80:${H2_VIP}`, '--data-binary', 'hello h2'] });
  t.is(b.status, 200, b.stderr);
  const r = JSON.parse(b.text) as { method: string; authority: string; bodyBytes: number; headers: Record<string, string> };
  t.is(r.method, 'POST');
  t.is(r.authority, H2);
  t.is(r.bodyBytes, 8);
  t.false('host' in r.headers, 'no host field on h2');
  t.is(h2.sessions(), 1);

  t.is(await pod.waitForStat('http.outbound_0.0.0.0_80.downstream_cx_http2_total', 2), 2);
  t.is(await pod.stat(`cluster.outbound|80||${H2}.upstream_cx_http2_total`), 1);
  t.is(await pod.stat(`cluster.outbound|80||${WEB}.upstream_cx_http1_total`), 1);
  await sleep(300);
  t.deepEqual(accessLogEntries(pod).map((e) => e.protocol), ['HTTP/2', 'HTTP/2']);
});

test('h2load: many streams per connection to an HTTP/1.1 upstream and to an h2c upstream, every request answered', async (t) => {
  const { pod, h2 } = await setup(t);
  for (const [vip, name] of [[WEB_VIP, 'web'], [H2_VIP, 'h2']] as const) {
    const s = await h2load(pod.ns, `http://${vip}/load`, { n: 600, c: 3, m: 20 });
    t.is(s.succeeded, 600, `${name}: ${s.output}`);
    t.is(s.status2xx, 600, name);
    t.is(s.errored + s.failed, 0, name);
  }
  // One worker, one host: the proxy's h2 pool carried 60 concurrent streams on one session.
  t.is(h2.sessions(), 1);
});

test('flow control: a slow reader gets a large response whole, from an h2c and an HTTP/1.1 upstream', async (t) => {
  const { pod } = await setup(t);
  const size = 3 * 1024 * 1024;
  for (const [host, vip, query] of [[H2, H2_VIP, `size=${size}`], [WEB, WEB_VIP, `size=${size}&chunked=1`]] as const) {
    const r = await httpRequest(pod.ns, `http://${host}/big?${query}`, { args: [...H2C, '--resolve', `${host}:80:${vip}`, '--limit-rate', '1M'], timeoutS: 60 });
    t.is(r.status, 200, r.stderr);
    t.is(r.body.length, size, host);
    t.is(createHash('sha256').update(r.body).digest('hex'), r.headers['x-body-sha256'], host);
  }
});

test('GOAWAY on drain: streams in flight on an inbound h2c connection finish; the connection is told to go away', async (t) => {
  const remote = await RemoteHost.create(t);
  const pod = await Pod.create(t, { remote });
  pod.writeConfig(meshConfigMap({ terminationDrainDuration: '6s' }));
  // The app: an h2c server in the pod; the client on the remote host comes in through the inbound listener.
  const APP_PORT = 9090;
  const app = await startH2Server(pod.ns, APP_PORT, 'app');
  await pod.startProxy({ concurrency: 1 });
  const url = `http://${pod.ip}:${APP_PORT}/slow?delay=2000`;
  // h2load: 40 streams on one connection; nghttp -v (which prints the frames it receives): 10 more.
  const load = h2load(remote.ns, url, { n: 40, c: 1, m: 40, uid: 0 });
  const verbose = remote.ns.exec(['nghttp', '-nv', '-m', '10', url], { check: false, timeoutMs: 30_000 });
  // The drain starts once every stream is in flight (the app has all 50 requests and holds them 2 s).
  await eventually('50 requests at the app', () => (app.requests().length >= 50 ? true : undefined), 20_000);
  const exiting = pod.stopProxy('SIGTERM');
  const s = await load;
  t.is(s.succeeded, 40, s.output);
  t.is(s.status2xx, 40);
  const frames = (await verbose).stdout;
  t.regex(frames, /recv GOAWAY frame/, 'the drain sent GOAWAY');
  t.is(frames.match(/:status: 200/g)?.length, 10, 'every stream in flight still got its answer');
  const exit = await exiting;
  t.is(exit.code, 0);
});
