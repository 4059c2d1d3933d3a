/**
 * End-to-end: what happens to traffic on SIGTERM (issue 9 item 5), through a captured pod.
 * Istio's order: not ready at once; inbound drains (HTTP/1.1 answers carry `connection: close`);
 * outbound keeps working for the app during terminationDrainDuration; in-flight requests and
 * open TCP connections complete; exit 0. And EXIT_ON_ZERO_ACTIVE_CONNECTIONS.
 */
import test from 'ava';
import {
  APP_UID, ECHO_PORT, httpRequest, meshConfigMap, pingClient, podWithRemote, PORTS, report, serviceEntry, sleep, startHttpServer, trafficClient,
} from './harness/index.js';

const HOST = 'web.example.internal';
const VIP = '240.240.3.10';
const UPSTREAM = 8080;
const APP_PORT = 8081;
const resolve = ['--resolve', `${HOST}:80:${VIP}`];

const config = (remoteIp: string, mesh = meshConfigMap({ terminationDrainDuration: '3s' })) => [
  mesh,
  serviceEntry({ name: 'web', hosts: [HOST], addresses: [VIP], ports: [{ number: 80, name: 'http', protocol: 'HTTP' }], endpoints: [{ address: remoteIp, ports: { http: UPSTREAM } }] }),
];

test('SIGTERM during in-flight HTTP (inbound and outbound) and TCP: none lost, inbound told to close, outbound still open to new requests, exit 0', async (t) => {
  const { pod, remote } = await podWithRemote(t, { config: (r) => config(r.ip), http: UPSTREAM, proxy: { concurrency: 2 } });
  const app = await startHttpServer(pod.ns, APP_PORT, { uid: APP_UID, host: '127.0.0.1', name: 'app' });
  const ping = pingClient(pod.ns, { host: remote.ip, port: ECHO_PORT, everyMs: 50 });
  await ping.waitForLine((l) => l.includes('"ev":"pong"'));
  const traffic = await trafficClient(pod.ns, { host: remote.ip, port: ECHO_PORT, parallel: 4 });

  // Requests that are still upstream when SIGTERM arrives: inbound (remote → pod app) and outbound (app → remote).
  const inbound = [1, 2, 3].map((i) => httpRequest(remote.ns, `http://${pod.ip}:${APP_PORT}/in${i}?delay=1500`, { uid: 0 }));
  const outbound = [1, 2, 3].map((i) => httpRequest(pod.ns, `http://${HOST}/out${i}?delay=1500`, { args: resolve }));
  await sleep(500);
  const termAt = Date.now();
  const exiting = pod.stopProxy('SIGTERM');
  await sleep(300);

  t.is(await pod.httpStatus(`http://127.0.0.1:${PORTS.readiness}/healthz/ready`), 503, 'not ready as soon as the drain starts');
  // The app can still call out during the drain, on new connections.
  const late = await httpRequest(pod.ns, `http://${HOST}/late`, { args: resolve });
  t.is(late.status, 200, `outbound works during the drain: ${late.stderr}`);
  t.is(report(late).url, '/late');

  for (const r of await Promise.all(inbound)) {
    t.is(r.status, 200, r.stderr);
    t.is(r.headers.connection, 'close', 'inbound HTTP/1.1 answers during the drain carry connection: close');
  }
  for (const r of await Promise.all(outbound)) t.is(r.status, 200, r.stderr);
  t.deepEqual(app.requests().map((q) => q.url).sort(), ['/in1?delay=1500', '/in2?delay=1500', '/in3?delay=1500']);

  await sleep(800);
  const summary = await traffic.stop();
  t.is(summary.failed, 0, JSON.stringify(summary));
  t.is(summary.resets, 0, JSON.stringify(summary));
  t.is(summary.mismatches, 0, JSON.stringify(summary));
  t.true(summary.ok > 0);

  const exit = await exiting;
  t.deepEqual([exit.code, exit.signal], [0, null], pod.proxy!.describe());
  t.true(exit.ms >= 2900 && exit.ms < 8000, `exited ${exit.ms} ms after SIGTERM (terminationDrainDuration 3 s)`);
  // The long-lived TCP connection kept echoing through the drain.
  await ping.exited;
  const pongs = ping.jsonLines<{ ev: string; t: number }>().filter((p) => p.ev === 'pong' && p.t > termAt && p.t - termAt < exit.ms);
  t.true(pongs.length >= 20, `${pongs.length} echoes during the drain`);
});

test('EXIT_ON_ZERO_ACTIVE_CONNECTIONS: exits once the last connection closes after MINIMUM_DRAIN_DURATION, not after terminationDrainDuration', async (t) => {
  const { pod, remote } = await podWithRemote(t, {
    config: (r) => config(r.ip, meshConfigMap({ terminationDrainDuration: '30s' })),
    proxy: { env: { EXIT_ON_ZERO_ACTIVE_CONNECTIONS: 'true', MINIMUM_DRAIN_DURATION: '1s' } },
  });
  // An open connection that the app closes on its own a while after SIGTERM (the ping client's timeout).
  const ping = pingClient(pod.ns, { host: remote.ip, port: ECHO_PORT, everyMs: 100, timeoutMs: 3500 });
  await ping.waitForLine((l) => l.includes('"ev":"pong"'));
  const termAt = Date.now();
  const exiting = pod.stopProxy('SIGTERM', 40_000);
  await ping.exited;
  const closedAfter = Date.now() - termAt;
  const exit = await exiting;
  t.deepEqual([exit.code, exit.signal], [0, null], pod.proxy!.describe());
  t.true(closedAfter > 1000, `the connection stayed open past MINIMUM_DRAIN_DURATION (${closedAfter} ms)`);
  t.true(exit.ms >= closedAfter - 300, `exited ${exit.ms} ms after SIGTERM, the connection closed after ${closedAfter} ms`);
  t.true(exit.ms < 10_000, `exited ${exit.ms} ms after SIGTERM: well before terminationDrainDuration (30 s)`);
  t.regex(pod.proxy!.describe(), /active connections|no connection is open/);
});
