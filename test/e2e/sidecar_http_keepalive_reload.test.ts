/**
 * A configuration change reaches requests on connections that were already open, as Envoy
 * applies RDS/CDS updates to new streams: an app with one pooled keep-alive connection is moved
 * to the new endpoint by its next request, not left on the old one for the connection's life.
 */
import test from 'ava';
import { APP_UID, meshConfigMap, Pod, RemoteHost, serviceEntry } from './harness/index.js';
import { NODE, programPath } from './harness/programs.js';

const VIP = '240.240.0.20';

function config(remoteIp: string, port: number): string[] {
  return [
    meshConfigMap(),
    serviceEntry({
      name: 'web',
      hosts: ['web.default.svc.cluster.local'],
      addresses: [VIP],
      location: 'MESH_INTERNAL',
      ports: [{ number: 80, name: 'http', protocol: 'HTTP' }],
      endpoints: [{ address: remoteIp, ports: { http: port } }],
    }),
  ];
}

test('a keep-alive connection opened before a config change sends its next request to the new endpoint', async (t) => {
  const remote = await RemoteHost.create(t);
  const pod = await Pod.create(t, { remote });
  await remote.httpServer(8001, 'old');
  await remote.httpServer(8002, 'new');
  pod.writeConfig(...config(remote.ip, 8001));
  await pod.startProxy();
  const applied = await pod.stat('legate.config.update_success');
  // The client holds its connection for 3 s between the two requests; the change lands meanwhile.
  const client = pod.ns.spawn([NODE, programPath('keepalive_client'), VIP, '80', '3000', '/', 'web.default.svc.cluster.local'], { uid: APP_UID, label: 'keepalive-client' });
  // The change is written only once the first request was answered on the old config (a loaded
  // machine may take longer than the gap to start the client).
  await client.waitForLine(/^first$/);
  pod.writeConfig(...config(remote.ip, 8002));
  await pod.waitForStat('legate.config.update_success', (v) => v > applied, 5000);
  await client.exited;
  const out = JSON.parse(client.stdoutLines.at(-1) ?? '{}') as { names: string[]; error?: string };
  t.is(out.error, undefined);
  t.deepEqual(out.names, ['old', 'new'], 'the second request on the same connection followed the change');
});
