/**
 * TPROXY interception (istio-iptables -m TPROXY, the proxy started with --tproxy): inbound
 * connections keep their destination address and reach the capture listener through the mangle
 * table's TPROXY target and a policy route instead of NAT; outbound stays REDIRECT, as in Istio.
 */
import test from 'ava';
import { APP_UID, curl, meshConfigMap, Pod, PORTS, RemoteHost, sleep, startHttpServer, startTcpServer, tcpClient, ECHO_PORT } from './harness/index.js';

const MB = 1024 * 1024;

test('TPROXY: inbound TCP and HTTP reach the app through the transparent capture listener; outbound still works', async (t) => {
  const remote = await RemoteHost.create(t);
  const pod = await Pod.create(t, { remote, capture: { mode: 'TPROXY' } });
  await remote.tcpServer([{ port: ECHO_PORT, mode: 'echo' }]);
  pod.writeConfig(meshConfigMap());
  // Without NET_ADMIN the transparent listeners cannot be bound, and the proxy must not say it is ready.
  await pod.startProxy({ args: ['--tproxy'], waitReady: false });
  await sleep(1500);
  t.not(await pod.httpStatus(`http://127.0.0.1:${PORTS.readiness}/healthz/ready`), 200, 'not ready while capture listeners are unbound');
  await pod.proxy!.stop();
  await pod.startProxy({ args: ['--tproxy'], caps: ['net_admin'] });
  const app = await startTcpServer(pod.ns, [{ port: 8000, mode: 'digest', host: '127.0.0.1' }], { uid: APP_UID });
  await startHttpServer(pod.ns, 8081, { uid: APP_UID, host: '127.0.0.1' });

  const r = await tcpClient(remote.ns, { host: pod.ip, port: 8000, send: MB, uid: 0 });
  t.true(r.connected, JSON.stringify(r));
  const reply = JSON.parse(r.rxHead) as { rx: number; sha256: string };
  t.is(reply.rx, MB);
  t.is(reply.sha256, r.sentSha256);
  t.is(app.accepts(8000).length, 1);

  const c = await curl(remote.ns, `http://${pod.ip}:8081/in`, { uid: 0 });
  t.is(c.status, 200, JSON.stringify(c));

  // Transparent listeners see the original destination as their own address.
  t.is(await pod.waitForStat('listener.0.0.0.0_15006.downstream_cx_total', 2), 2);
  t.is(await pod.waitForStat('cluster.InboundPassthroughCluster.upstream_cx_total', 2), 2);

  const out = await tcpClient(pod.ns, { host: remote.ip, port: ECHO_PORT, send: 1000 });
  t.is(out.rx, 1000, JSON.stringify(out));
  t.is(await pod.waitForStat('cluster.PassthroughCluster.upstream_cx_total', 1), 1);
});
