/**
 * End-to-end limits (issue 10 item 2): the HCM timeouts set by flags, and Envoy's overload-manager global downstream connection
 * limit (`--max-connections`), counted across workers. Excess connections are closed at once,
 * the listener stays up, and serves again once the count is below the limit.
 */
import test from 'ava';
import { ECHO_PORT, firstStatus, meshConfigMap, pingClient, podWithHttp, podWithRemote, rawClients, serviceEntry, tcpClient } from './harness/index.js';

test('--max-connections: connections over the limit are closed at once, across both workers; the listener serves again below it', async (t) => {
  const { pod, remote } = await podWithRemote(t, {
    config: [meshConfigMap({ outboundTrafficPolicy: 'ALLOW_ANY' })],
    proxy: { concurrency: 2, args: ['--max-connections', '2'] },
  });
  const held = [0, 1].map(() => pingClient(pod.ns, { host: remote.ip, port: ECHO_PORT, everyMs: 200, timeoutMs: 60_000 }));
  for (const p of held) await p.waitForLine((l) => l.includes('"ev":"pong"'), 20_000);

  const refused = await tcpClient(pod.ns, { host: remote.ip, port: ECHO_PORT, send: 1000 });
  t.true(refused.connected, 'accepted by the kernel (the listener is up)');
  t.is(refused.rx, 0, 'then closed by the proxy without a byte through');
  t.is(await pod.waitForStat('listener.0.0.0.0_15001.downstream_global_cx_overflow', 1), 1);

  // The held connections still work; once one ends, a new one gets through.
  const pongs = () => held[1].stdoutLines.filter((l) => l.includes('"ev":"pong"')).length;
  const before = pongs();
  await held[1].waitForLine(() => pongs() > before, 10_000);
  await held[0].stop('SIGKILL', 1000);
  await pod.waitForStat('listener.0.0.0.0_15001.downstream_cx_destroy', 1);
  const again = await tcpClient(pod.ns, { host: remote.ip, port: ECHO_PORT, send: 1000 });
  t.is(again.rx, 1000);
});

test('--request-headers-timeout and --stream-idle-timeout reach the sidecar\'s HTTP listeners: Envoy\'s 408s', async (t) => {
  const { pod, servers } = await podWithHttp(t, {
    servers: { slow: 8080 },
    config: (r) => [
      meshConfigMap({ outboundTrafficPolicy: 'REGISTRY_ONLY' }),
      serviceEntry({ name: 'slow', hosts: ['slow.example.internal'], addresses: ['240.240.10.30'], ports: [{ number: 80, name: 'http', protocol: 'HTTP' }], endpoints: [{ address: r.ip, ports: { http: 8080 } }] }),
    ],
    proxy: { args: ['--request-headers-timeout', '500ms', '--stream-idle-timeout', '1s'] },
  });
  const [head, idle] = await rawClients(pod.ns, '240.240.10.30', 80, [
    { name: 'head never completed', bytes: 'GET / HTTP/1.1\r\nHost: slow.example.internal\r\n' },
    { name: 'upstream silent for 5 s', bytes: 'GET /?delay=5000 HTTP/1.1\r\nHost: slow.example.internal\r\nConnection: close\r\n\r\n' },
  ]);
  t.is(firstStatus(head.rx), 408, head.rx);
  t.true(head.rx.endsWith('\r\n\r\nrequest header timeout'), head.rx);
  t.true(head.gotEnd || head.reset, 'closed by the proxy');
  t.is(firstStatus(idle.rx), 408, idle.rx);
  t.true(idle.rx.endsWith('\r\n\r\nstream timeout'), idle.rx);
  t.is(servers.slow.requests().length, 1, 'only the complete request reached the upstream');
  t.is(await pod.waitForStat('http.outbound_0.0.0.0_80.downstream_rq_header_timeout', 1), 1);
  t.is(await pod.waitForStat('http.outbound_0.0.0.0_80.downstream_rq_idle_timeout', 1), 1);
});

test('a client that does not read a 128 MB response: the proxy\'s memory stays bounded (backpressure to the upstream), then every byte arrives', async (t) => {
  const { pod } = await podWithHttp(t, {
    servers: { big: 8080 },
    config: (r) => [
      meshConfigMap({ outboundTrafficPolicy: 'REGISTRY_ONLY' }),
      serviceEntry({ name: 'big', hosts: ['big.example.internal'], addresses: ['240.240.10.40'], ports: [{ number: 80, name: 'http', protocol: 'HTTP' }], endpoints: [{ address: r.ip, ports: { http: 8080 } }] }),
    ],
  });
  // The process's resident set (workers' Buffers are not in the main thread's `allocated`).
  const rss = async () => Number((JSON.parse(await pod.admin('/memory')) as { total_physical_bytes: string }).total_physical_bytes);
  const before = await rss();
  const size = 128 * 1024 * 1024;
  const client = rawClients(pod.ns, '240.240.10.40', 80, [{ name: 'unread', bytes: `GET /?size=${size} HTTP/1.1\r\nHost: big.example.internal\r\nConnection: close\r\n\r\n` }], { holdMs: 4000, timeoutMs: 60_000 });
  // While the client holds: sample the proxy's RSS.
  let peak = 0;
  for (let i = 0; i < 6; i++) {
    await new Promise((r) => setTimeout(r, 500));
    peak = Math.max(peak, await rss());
  }
  t.true(peak - before < 32 * 1024 * 1024, `the proxy grew by ${((peak - before) / 1048576).toFixed(1)} MiB while holding a ${size / 1048576} MiB response`);
  const [r] = await client;
  t.is(firstStatus(r.rx), 200);
  t.true(r.rxBytes > size, `${r.rxBytes} bytes arrived`);
});
