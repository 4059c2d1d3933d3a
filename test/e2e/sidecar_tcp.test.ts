/**
 * End-to-end tests of the sidecar foundation (issue 2), TCP paths: a pod namespace captured
 * by Istio's iptables rules, the proxy as uid 1337, real clients as the app uid, real servers
 * on a remote host namespace. See test/e2e/README.md for the harness.
 */
import test from 'ava';
import {
  curl,
  DIGEST_PORT,
  ECHO_PORT,
  meshConfigMap,
  podWithRemote,
  PORTS,
  serviceEntry,
  sleep,
  startHttpServer,
  startTcpServer,
  tcpClient,
  tcpClients,
  APP_UID,
} from './harness/index.js';

const MB = 1024 * 1024;

for (const acceptMode of ['handoff', 'reuseport'] as const) {
  test(`outbound (${acceptMode}): app traffic to a remote IP:port goes through the proxy to the original destination, bytes intact, half-close carried`, async (t) => {
    const { remote, pod, tcp } = await podWithRemote(t, { config: [meshConfigMap()], proxy: { acceptMode } });

    // 1 MB each way through an echo server: the client half-closes after sending and still gets every byte back.
    const echo = await tcpClient(pod.ns, { host: remote.ip, port: ECHO_PORT, send: MB });
    t.true(echo.connected, JSON.stringify(echo));
    t.is(echo.error, undefined);
    t.is(echo.sent, MB);
    t.is(echo.rx, MB);
    t.is(echo.rxSha256, echo.sentSha256);
    t.true(echo.gotEnd, 'the server end reached the client as a FIN');

    // Digest server: replies only after it has seen the client's FIN — the reply travels a half-closed connection.
    const digest = await tcpClient(pod.ns, { host: remote.ip, port: DIGEST_PORT, send: MB });
    const reply = JSON.parse(digest.rxHead) as { rx: number; sha256: string; peer: string };
    t.is(reply.rx, MB);
    t.is(reply.sha256, digest.sentSha256);
    t.true(digest.gotEnd);
    // The upstream connection comes from the pod's address (the proxy is the pod's egress).
    t.is(reply.peer, pod.ip);

    // Proof it went through the proxy: the capture listener and PassthroughCluster counted both.
    t.is(await pod.waitForStat('listener.0.0.0.0_15001.downstream_cx_total', 2), 2);
    t.is(await pod.waitForStat('cluster.PassthroughCluster.upstream_cx_total', 2), 2);
    t.is(tcp.accepts().length, 2);
    // The server saw the proxy's connection, not the app's socket.
    t.not(tcp.accepts(ECHO_PORT)[0].peerPort, echo.localPort);
  });
}

for (const acceptMode of ['handoff', 'reuseport'] as const) {
  test(`half-close before the first byte (${acceptMode}): the FIN still reaches the server and its reply comes back`, async (t) => {
    const { remote, pod, tcp } = await podWithRemote(t, { config: [meshConfigMap()], proxy: { acceptMode } });
    // Connect and shut down writing at once, as a client waiting for a banner does. The FIN
    // often reaches the proxy before its upstream connection is up.
    const n = 16;
    const results = await tcpClients(pod.ns, { host: remote.ip, port: DIGEST_PORT, sends: new Array<number>(n).fill(0) });
    for (const r of results) {
      t.true(r.gotEnd, JSON.stringify(r));
      t.is((JSON.parse(r.rxHead || '{}') as { rx?: number }).rx, 0);
    }
    // The same with real netcat: -N shuts the socket down after EOF on stdin (empty here).
    const nc = await pod.ns.exec(['nc', '-N', '-w', '5', remote.ip, String(DIGEST_PORT)], { uid: APP_UID, input: '' });
    t.is((JSON.parse(nc.stdout) as { rx: number; peer: string }).rx, 0);
    t.is(tcp.accepts(DIGEST_PORT).length, n + 1);
    t.is(await pod.waitForStat('cluster.PassthroughCluster.upstream_cx_destroy', n + 1), n + 1);
  });
}

test('outbound HTTP with real curl: request and response intact through PassthroughCluster', async (t) => {
  const { remote, pod, http } = await podWithRemote(t, { config: [meshConfigMap()], http: 8080 });
  const r = await curl(pod.ns, `http://${remote.ip}:8080/hello?x=1`, { args: ['-H', 'x-test: e2e', '--data-binary', 'ping-body'] });
  t.is(r.exitCode, 0, r.body);
  t.is(r.status, 200);
  const seen = JSON.parse(r.body) as { method: string; url: string; headers: Record<string, string>; bodyBytes: number; peer: string };
  t.is(seen.method, 'POST');
  t.is(seen.url, '/hello?x=1');
  t.is(seen.headers['x-test'], 'e2e');
  t.is(seen.bodyBytes, 'ping-body'.length);
  t.is(seen.peer, pod.ip);
  t.is(http!.requests().length, 1);
  t.is(await pod.waitForStat('cluster.PassthroughCluster.upstream_cx_total', 1), 1);
});

test('REGISTRY_ONLY: a connection to an unknown destination is closed without reaching it', async (t) => {
  const { remote, pod, tcp } = await podWithRemote(t, { config: [meshConfigMap({ outboundTrafficPolicy: 'REGISTRY_ONLY' })], http: 8080 });

  const r = await tcpClient(pod.ns, { host: remote.ip, port: ECHO_PORT, send: 1000 });
  t.is(r.rx, 0, JSON.stringify(r));
  const c = await curl(pod.ns, `http://${remote.ip}:8080/`);
  t.not(c.exitCode, 0, 'curl got no HTTP response');
  t.is(c.status, 0);

  t.is(await pod.waitForStat('cluster.BlackHoleCluster.upstream_cx_none_healthy', 2), 2);
  t.is(await pod.stat('tcp.BlackHoleCluster.downstream_cx_total'), 2);
  t.is(await pod.stat('listener.0.0.0.0_15001.downstream_cx_total'), 2);
  t.is(await pod.stat('cluster.PassthroughCluster.upstream_cx_total'), 0);
  await sleep(200);
  t.is(tcp.accepts().length, 0, 'the remote TCP server saw nothing');
});

test('TCP ServiceEntry: connections to VIP:port go to the STATIC endpoint (and only the registry is reachable under REGISTRY_ONLY)', async (t) => {
  const host = 'tcp-echo.example.internal';
  const { remote, pod, tcp } = await podWithRemote(t, {
    config: (remote) => [
      meshConfigMap({ outboundTrafficPolicy: 'REGISTRY_ONLY' }),
      serviceEntry({
        name: 'tcp-echo',
        hosts: [host],
        addresses: ['240.240.0.5'],
        ports: [{ number: 9000, name: 'tcp-echo', protocol: 'TCP' }],
        resolution: 'STATIC',
        endpoints: [{ address: remote.ip, ports: { 'tcp-echo': ECHO_PORT } }],
      }),
    ],
  });

  const viaVip = await tcpClient(pod.ns, { host: '240.240.0.5', port: 9000, send: 256 * 1024 });
  t.true(viaVip.connected, JSON.stringify(viaVip));
  t.is(viaVip.rx, 256 * 1024);
  t.is(viaVip.rxSha256, viaVip.sentSha256);
  t.true(viaVip.gotEnd);
  t.is(tcp.accepts(ECHO_PORT).length, 1);
  t.is(tcp.accepts(ECHO_PORT)[0].peer, pod.ip);

  // The same endpoint addressed directly is not in the registry: black-holed.
  const direct = await tcpClient(pod.ns, { host: remote.ip, port: ECHO_PORT, send: 10 });
  t.is(direct.rx, 0);

  const cluster = `cluster.outbound|9000||${host}`;
  t.is(await pod.waitForStat(`${cluster}.upstream_cx_total`, 1), 1);
  t.is(await pod.stat(`${cluster}.upstream_cx_tx_bytes_total`), 256 * 1024);
  t.is(await pod.stat(`${cluster}.upstream_cx_rx_bytes_total`), 256 * 1024);
  t.is(await pod.waitForStat('cluster.BlackHoleCluster.upstream_cx_none_healthy', 1), 1);
  t.is(tcp.accepts(ECHO_PORT).length, 1, 'only the VIP connection reached the server');
});

test('inbound: a connection to the pod IP:port is captured to 15006 and reaches the app on 127.0.0.1 from 127.0.0.6', async (t) => {
  const { remote, pod } = await podWithRemote(t, { config: [meshConfigMap()] });
  // The app listens on loopback only, as uid 1000: reachable from outside only through the proxy.
  const app = await startTcpServer(pod.ns, [{ port: 8000, mode: 'digest', host: '127.0.0.1' }], { uid: APP_UID });
  const appHttp = await startHttpServer(pod.ns, 8081, { uid: APP_UID, host: '127.0.0.1' });

  const r = await tcpClient(remote.ns, { host: pod.ip, port: 8000, send: MB, uid: 0 });
  t.true(r.connected, JSON.stringify(r));
  const reply = JSON.parse(r.rxHead) as { rx: number; sha256: string; peer: string };
  t.is(reply.rx, MB);
  t.is(reply.sha256, r.sentSha256);
  t.is(reply.peer, '127.0.0.6', "Istio's inbound passthrough source address");
  t.true(r.gotEnd);
  const accepted = app.accepts(8000);
  t.is(accepted.length, 1);
  t.is(accepted[0].local, '127.0.0.1');

  const c = await curl(remote.ns, `http://${pod.ip}:8081/in`, { uid: 0 });
  t.is(c.status, 200, JSON.stringify(c));
  t.is((JSON.parse(c.body) as { peer: string }).peer, '127.0.0.6');
  t.is(appHttp.requests().length, 1);

  t.is(await pod.waitForStat('listener.0.0.0.0_15006.downstream_cx_total', 2), 2);
  t.is(await pod.waitForStat('cluster.InboundPassthroughCluster.upstream_cx_total', 2), 2);
  t.is(await pod.stat('cluster.PassthroughCluster.upstream_cx_total'), 0, 'the proxy-to-app leg was not captured again as outbound');

  // Ports excluded from capture (-d 15090,15021,15020) reach the proxy's own servers directly.
  t.is((await curl(remote.ns, `http://${pod.ip}:${PORTS.readiness}/healthz/ready`, { uid: 0 })).status, 200);
  const prom = await curl(remote.ns, `http://${pod.ip}:${PORTS.prometheus}/stats/prometheus`, { uid: 0 });
  t.is(prom.status, 200);
  t.regex(prom.body, /envoy_cluster_upstream_cx_total\{cluster_name="InboundPassthroughCluster"\} 2/);
});

test('loop guard: connections to the capture ports are closed and counted, never forwarded', async (t) => {
  const { remote, pod, tcp } = await podWithRemote(t, {
    config: [meshConfigMap()],
    // A real server on the remote host's 15001: forwarding there would be seen.
    tcp: [{ port: PORTS.outbound, mode: 'echo' }],
  });
  // The app's own traffic over lo is not captured (-o lo ! --uid-owner 1337 -j RETURN), so these
  // reach the proxy's listeners directly and carry the capture port as destination.
  const direct = [
    { host: '127.0.0.1', port: PORTS.outbound, prefix: 'virtualOutbound' },
    { host: pod.ip, port: PORTS.outbound, prefix: 'virtualOutbound' },
    { host: pod.ip, port: PORTS.inbound, prefix: 'virtualInbound' },
  ];
  for (const d of direct) {
    const r = await tcpClient(pod.ns, { host: d.host, port: d.port, send: 100 });
    t.is(r.rx, 0, `${d.host}:${d.port}: ${JSON.stringify(r)}`);
  }
  // Captured: original destination remote:15001 — Istio's virtualOutbound-blackhole matches the port.
  const captured = await tcpClient(pod.ns, { host: remote.ip, port: PORTS.outbound, send: 100 });
  t.is(captured.rx, 0, JSON.stringify(captured));

  t.is(await pod.waitForStat('tcp.virtualOutbound-blackhole.downstream_cx_total', 3), 3);
  t.is(await pod.waitForStat('tcp.virtualInbound-blackhole.downstream_cx_total', 1), 1);
  t.is(await pod.stat('cluster.BlackHoleCluster.upstream_cx_none_healthy'), 4);
  t.is(await pod.stat('cluster.PassthroughCluster.upstream_cx_total'), 0);
  t.is(await pod.stat('cluster.InboundPassthroughCluster.upstream_cx_total'), 0);
  t.is(tcp.accepts().length, 0, 'nothing reached the remote 15001');
});
