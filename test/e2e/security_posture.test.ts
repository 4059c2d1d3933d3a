/**
 * End-to-end security posture (issue 10 item 6). The admin (15000) listens on loopback only,
 * but inbound capture redirects `<pod IP>:15000` to 15006 like any port, and the inbound
 * listener forwards to the loopback target (127.0.0.1, Istio's pre-1.10 behaviour): without a
 * guard a remote host could read /config_dump or POST /quitquitquit. The inbound listener
 * closes connections whose original destination is one of the proxy's own loopback ports.
 */
import test from 'ava';
import { ECHO_PORT, meshConfigMap, podWithRemote, rawClients, serviceEntry, tcpClient } from './harness/index.js';

test('a remote host cannot reach the admin through the pod IP: no /stats, no POST /quitquitquit; the admin still answers on loopback', async (t) => {
  const { pod, remote } = await podWithRemote(t, { config: [meshConfigMap({ outboundTrafficPolicy: 'ALLOW_ANY' })] });
  const results = await rawClients(
    remote.ns,
    pod.ip,
    15000,
    [
      { name: 'GET /stats', bytes: `GET /stats HTTP/1.1\r\nHost: ${pod.ip}:15000\r\n\r\n` },
      { name: 'POST /quitquitquit', bytes: `POST /quitquitquit HTTP/1.1\r\nHost: ${pod.ip}:15000\r\nContent-Length: 0\r\n\r\n` },
    ],
    { uid: 0 },
  );
  const [dns] = await rawClients(remote.ns, pod.ip, 15053, [{ name: 'DNS proxy port over TCP', bytes: '\0\x1cxx' }], { uid: 0 });
  for (const r of [...results, dns]) {
    t.true(r.connected, `${r.name}: captured and accepted by 15006`);
    t.is(r.rx, '', `${r.name}: no answer`);
    t.true(r.gotEnd || r.reset, `${r.name}: closed by the proxy`);
  }
  t.is(await pod.waitForStat('tcp.virtualInbound-blackhole.downstream_cx_total', 3), 3);
  // Still running, and the admin answers where it should: on the pod's loopback.
  t.is(await pod.httpStatus(`http://127.0.0.1:15000/ready`), 200);
  t.true(pod.proxy?.running, 'the proxy did not quit');
});

test('REGISTRY_ONLY: unknown HTTP and TCP destinations blocked, a registered one reached', async (t) => {
  const { pod, remote } = await podWithRemote(t, {
    config: (r) => [
      meshConfigMap({ outboundTrafficPolicy: 'REGISTRY_ONLY' }),
      serviceEntry({ name: 'known', hosts: ['known.example'], addresses: ['240.240.10.20'], ports: [{ number: 7000, name: 'tcp', protocol: 'TCP' }], endpoints: [{ address: r.ip, ports: { tcp: ECHO_PORT } }] }),
    ],
  });
  const known = await tcpClient(pod.ns, { host: '240.240.10.20', port: 7000, send: 1000 });
  t.is(known.rx, 1000);
  const unknownTcp = await tcpClient(pod.ns, { host: remote.ip, port: ECHO_PORT, send: 1000 });
  t.is(unknownTcp.rx, 0);
  const [http] = await rawClients(pod.ns, remote.ip, ECHO_PORT, [{ name: 'HTTP to an unknown host', bytes: `GET / HTTP/1.1\r\nHost: unknown.example\r\n\r\n` }]);
  t.is(http.rxBytes, 0);
  t.true(http.gotEnd || http.reset);
  t.is(await pod.waitForStat('cluster.BlackHoleCluster.upstream_cx_none_healthy', 2), 2);
});
