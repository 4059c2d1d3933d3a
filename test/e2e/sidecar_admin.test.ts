/**
 * End-to-end: the admin API and readiness on a running proxy in a pod (issue 9 items 3–4):
 * the paths operators use, POST-only mutations, loopback-only admin, readiness transitions.
 */
import test from 'ava';
import { ECHO_PORT, meshConfigMap, podWithRemote, PORTS, tcpClient } from './harness/index.js';

test('admin: index, server_info, memory, stats, listeners on 127.0.0.1 only; GET on a mutating path is 405', async (t) => {
  const { pod, remote } = await podWithRemote(t, { config: [meshConfigMap()], proxy: { concurrency: 2, env: { POD_NAME: 'app-7d9', POD_NAMESPACE: 'shop', INSTANCE_IP: '10.9.8.7' } } });
  t.regex(await pod.admin('/'), /<a href="\/stats">/);
  const info = JSON.parse(await pod.admin('/server_info'));
  t.is(info.state, 'LIVE');
  t.is(info.command_line_options.concurrency, 2);
  t.is(info.node.id, 'sidecar~10.9.8.7~app-7d9.shop~shop.svc.cluster.local');
  t.regex(info.uptime_current_epoch, /^\d+s$/);
  const mem = JSON.parse(await pod.admin('/memory'));
  t.true(Number(mem.allocated) > 1_000_000, `three threads' heaps: ${mem.allocated}`);
  t.true(Number(mem.total_physical_bytes) >= Number(mem.allocated) / 2);
  const listeners = JSON.parse(await pod.admin('/listeners?format=json')).listener_statuses as { name: string; local_address: { socket_address: { port_value: number } } }[];
  t.deepEqual(listeners.filter((l) => l.name.startsWith('virtual')).map((l) => [l.name, l.local_address.socket_address.port_value]), [['virtualOutbound', 15001], ['virtualInbound', 15006]]);
  t.true((await tcpClient(pod.ns, { host: remote.ip, port: ECHO_PORT, send: 10 })).connected);
  await pod.waitForStat('listener.0.0.0.0_15001.downstream_cx_total', 1);
  const used = await pod.admin('/stats?usedonly&filter=^listener\\.');
  t.regex(used, /^listener\.0\.0\.0\.0_15001\.downstream_cx_total: 1$/m);
  t.notRegex(used, /: 0$/m, 'usedonly leaves out what was never written');
  t.regex(await pod.admin('/config_dump?include_eds'), /dynamic_endpoint_configs/);

  const get = await pod.ns.exec(['curl', '-s', '-w', ' %{http_code}', `http://127.0.0.1:${PORTS.admin}/healthcheck/fail`]);
  t.is(get.stdout, 'Method GET not allowed, POST required.\n 405');
  t.is(await pod.httpStatus(`http://127.0.0.1:${PORTS.readiness}/healthz/ready`), 200, 'the GET changed nothing');
  // Admin listens on loopback only. (Whether the pod's inbound capture forwards <pod ip>:15000 to
  // loopback is the inbound target's business: with --inbound-target 127.0.0.1 it does.)
  const ss = await pod.ns.exec(['ss', '-Hltn', 'sport = :15000']);
  t.deepEqual(ss.stdout.trim().split('\n').map((l) => l.trim().split(/\s+/)[3]), ['127.0.0.1:15000']);
});

test('readiness on 15021: 200 when started, 503 after POST /healthcheck/fail, 200 after /healthcheck/ok, 503 once SIGTERM arrives', async (t) => {
  const { pod } = await podWithRemote(t, { config: [meshConfigMap({ terminationDrainDuration: '1s' })] });
  const ready = () => pod.httpStatus(`http://127.0.0.1:${PORTS.readiness}/healthz/ready`);
  t.is(await ready(), 200);
  await pod.adminPost('/healthcheck/fail');
  t.is(await ready(), 503);
  t.is(await pod.httpStatus(`http://127.0.0.1:${PORTS.admin}/ready`), 503);
  await pod.adminPost('/healthcheck/ok');
  t.is(await ready(), 200);
  const exiting = pod.stopProxy('SIGTERM');
  await new Promise((r) => setTimeout(r, 200));
  t.is(await ready(), 503);
  t.is((await exiting).code, 0);
});

test('POST /logging changes levels at runtime, workers included', async (t) => {
  const { pod } = await podWithRemote(t, { config: [meshConfigMap()] });
  const out = await pod.adminPost('/logging?paths=upstream:debug');
  t.regex(out, /^ {2}upstream: debug$/m);
  t.regex(out, /^ {2}main: info$/m);
  t.regex(await pod.adminPost('/logging?level=warning'), /^ {2}upstream: warning$/m);
});
