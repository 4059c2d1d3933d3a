/**
 * Reload under continuous TCP traffic (issue 4): a captured pod whose app keeps making short
 * and long-lived connections to a ServiceEntry VIP while the proxy's configuration changes ten
 * times — the endpoint's port flips between two echo servers on the remote host, the
 * DestinationRule changes, and every version adds a listener. No connection may fail, reset
 * or see wrong bytes. See test/e2e/README.md for the harness.
 */
import test from 'ava';
import { meshConfigMap, Pod, RemoteHost, serviceEntry, sleep, trafficClient } from './harness/index.js';

const VIP = '240.240.0.10';
const ECHO_A = 19000;
const ECHO_B = 19001;
const CLUSTER = 'outbound|9000||echo.default.svc.cluster.local';

function config(version: number, remoteIp: string): string[] {
  const extra = Array.from({ length: version }, (_, i) =>
    serviceEntry({
      name: `extra-${i}`,
      hosts: [`extra-${i}.default.svc.cluster.local`],
      addresses: [`240.240.1.${i + 1}`],
      ports: [{ number: 8080, name: 'http' }],
      endpoints: [{ address: '127.0.0.1' }],
    }),
  );
  return [
    meshConfigMap({ extra: 'defaultConfig:\n  drainDuration: 2s\n  terminationDrainDuration: 1s' }),
    serviceEntry({
      name: 'echo',
      hosts: ['echo.default.svc.cluster.local'],
      addresses: [VIP],
      location: 'MESH_INTERNAL',
      ports: [{ number: 9000, name: 'tcp-echo', protocol: 'TCP' }],
      endpoints: [{ address: remoteIp, ports: { 'tcp-echo': version % 2 === 0 ? ECHO_B : ECHO_A } }],
    }),
    ['apiVersion: networking.istio.io/v1', 'kind: DestinationRule', 'metadata: {name: echo, namespace: default}', 'spec:', '  host: echo',
      `  trafficPolicy: {connectionPool: {tcp: {maxConnections: ${1000 + version}}}}`].join('\n'),
    ...extra,
  ];
}

test('reload under continuous TCP traffic: zero failed and zero reset connections', async (t) => {
  const remote = await RemoteHost.create(t);
  const pod = await Pod.create(t, { remote });
  const echo = await remote.tcpServer([
    { port: ECHO_A, mode: 'echo' },
    { port: ECHO_B, mode: 'echo' },
  ]);
  pod.writeConfig(...config(1, remote.ip));
  await pod.startProxy();
  await pod.waitForStat('legate.config.update_success', 1, 10_000, 0);

  const traffic = await trafficClient(pod.ns, { host: VIP, port: 9000, parallel: 8 });
  await sleep(300);
  for (let v = 2; v <= 11; v++) {
    pod.writeConfig(...config(v, remote.ip));
    await pod.waitForStat('legate.config.update_success', v, 10_000, 0);
    await sleep(150);
  }
  await sleep(300);
  const result = await traffic.stop();
  t.log(`traffic during 10 reloads: ${JSON.stringify(result)}`);
  t.is(result.failed, 0, JSON.stringify(result.errors));
  t.is(result.resets, 0);
  t.is(result.mismatches, 0);
  t.true(result.ok > 100, `only ${result.ok} connections completed`);
  t.true(result.longLivedRounds > 20, 'long-lived connections kept flowing across reloads');
  // The path: through the VIP listener's cluster, to both upstreams as the endpoint flipped.
  t.true((await pod.stat(`cluster.${CLUSTER}.upstream_cx_total`)) >= result.ok);
  t.true(echo.accepts(ECHO_A).length > 0 && echo.accepts(ECHO_B).length > 0, 'reloads moved new connections between the upstreams');
  t.is(await pod.stat('legate.config.update_rejected'), 0);
  t.is(await pod.stat('legate.config.update_success'), 11);
});
