/**
 * Faults survived: the xDS server goes away (issue 10, item 3). The sidecar is configured only
 * over ADS by a management server on the pod's loopback (harness/programs/xds_server, where
 * Istio's pilot-agent proxies istiod). Under
 * continuous HTTP traffic the server is killed: the proxy notices (control_plane.connected_state
 * 0), keeps serving the configuration it has with nothing lost, and when the server is back it
 * reconnects and resubscribes on its own.
 */
import test from 'ava';
import { httpLoad, httpRequest, Pod, recordFaultCounts, RemoteHost, sleep, type Proc } from './harness/index.js';
import { NODE, programPath } from './harness/programs.js';

const HOST = 'web.xds.svc.cluster.local';
const VIP = '240.240.8.10';
const UPSTREAM = 8080;
const XDS_PORT = 15010;

test('fault: xDS server goes away — the proxy keeps serving its last configuration and reconnects', async (t) => {
  const remote = await RemoteHost.create(t);
  const pod = await Pod.create(t, { remote });
  const web = await remote.httpServer(UPSTREAM, 'web');
  const startXds = async (): Promise<Proc> => {
    const p = pod.ns.spawn([NODE, programPath('xds_server'), '--port', String(XDS_PORT), '--service', HOST, '--vip', VIP, '--upstream', `${remote.ip}:${UPSTREAM}`], { label: 'pod:xds_server' });
    await p.waitForLine((l) => l.includes('"ev":"listening"'), 30_000);
    return p;
  };
  let xds = await startXds();
  await pod.startProxy({ concurrency: 1, noConfigFiles: true, args: ['--xds', `127.0.0.1:${XDS_PORT}`], env: { POD_NAME: 'app-1', POD_NAMESPACE: 'xds' } });
  await pod.waitForStat('control_plane.connected_state', 1);
  await pod.waitForStat('cluster_manager.cds.update_success', 1);

  const first = await httpRequest(pod.ns, `http://${HOST}/`, { args: ['--resolve', `${HOST}:80:${VIP}`] });
  t.is(first.status, 200, `${first.exitCode} ${first.stderr}`);
  const load = await httpLoad(pod.ns, { url: `http://${VIP}/`, host: HOST, parallel: 4, pauseMaxMs: 5 });
  await sleep(300);
  await xds.stop('SIGKILL', 5000);
  await pod.waitForStat('control_plane.connected_state', (v) => v === 0, 10_000, 0);
  // Serving with the control plane gone, for a while.
  await sleep(2000);
  xds = await startXds();
  await pod.waitForStat('control_plane.connected_state', 1, 30_000, 0);
  await sleep(300);
  const s = await load.stop();
  recordFaultCounts(t, 'xds-server-gone', { sent: s.sent, lost: s.sent - s.ok, statuses: s.statuses, errors: s.errors });
  t.is(s.sent - s.ok, 0, JSON.stringify(s));
  t.true(s.sent >= 10, 'traffic flowed during the fault');
  t.true(web.requests().length >= s.sent, 'every request reached the upstream through the xDS-configured route');
  t.is(await pod.stat('cluster_manager.cds.update_rejected'), 0);
});
