import test from 'ava';
import { createServer, connect, type Server } from 'node:net';
import { once } from 'node:events';
import { ClusterTable } from '../../src/cluster/thread_local_cluster.js';
import type { HostUpdateSink } from '../../src/cluster/host_update.js';
import { indexStats } from '../../src/config/snapshot.js';
import { DEFAULT_DNS_RUNTIME, DnsRuntime } from '../../src/dns/runtime.js';
import { onConnection, type WorkerState } from '../../src/listener/connection.js';
import { ListenerTable } from '../../src/listener/listener_table.js';
import { StatsRegistry, StatsWriter } from '../../src/stats/store.js';
import { Dnsmasq, sleep } from '../support/dnsmasq.js';
import { dig } from '../support/dig.js';
import { freePort } from '../support/servers.js';
import { meshYaml, serviceEntry, snapshotOf, translateYaml } from '../support/translate.js';

/**
 * Seed 001's case, without iptables: two TCP ServiceEntries on port 3306 with DNS resolution.
 * The app resolves each name through the DNS proxy (an auto-allocated VIP), connects to
 * VIP:3306, and the worker path (listener table → tcp_proxy → STRICT_DNS cluster whose hosts
 * the main thread resolved from dnsmasq) reaches the right backend. The e2e test in a pod
 * namespace does the same with `legate iptables --dns-capture` doing the redirects.
 */
async function backend(address: string, port: number, name: string): Promise<Server> {
  const s = createServer((c) => c.end(name));
  s.listen(port, address);
  await once(s, 'listening');
  return s;
}

async function ask(state: WorkerState, vip: string): Promise<string> {
  // A local listener stands in for the capture: it hands connections over as if redirected from vip:3306.
  const front = createServer((s) => onConnection(s, 'virtualOutbound', { address: vip, port: 3306 }, state));
  front.listen(0, '127.0.0.1');
  await once(front, 'listening');
  const c = connect((front.address() as { port: number }).port, '127.0.0.1');
  const chunks: Buffer[] = [];
  c.on('data', (d) => chunks.push(d));
  c.on('error', () => {});
  await once(c, 'close');
  front.close();
  return Buffer.concat(chunks).toString();
}

test('two TCP ServiceEntries on 3306 resolve to different VIPs and reach different backends', async (t) => {
  if (!Dnsmasq.available()) throw new Error('dnsmasq is not installed: run scripts/install-test-deps.sh (Debian package dnsmasq-base)');
  const port = await freePort();
  const servers = [await backend('127.0.0.1', port, 'db-a')];
  t.teardown(() => servers.forEach((s) => s.close()));
  servers.push(await backend('127.0.0.2', port, 'db-b'));
  const d = await new Dnsmasq({ localTtl: 30 }).start({ 'db-a.test': ['127.0.0.1'], 'db-b.test': ['127.0.0.2'] });
  t.teardown(() => d.close());
  const db = (host: string) => serviceEntry(host, { hosts: [host], ports: [{ number: 3306, name: 'tcp', protocol: 'TCP', targetPort: port }], resolution: 'DNS' });
  const tr = translateYaml(meshYaml({ ISTIO_META_DNS_CAPTURE: 'true', ISTIO_META_DNS_AUTO_ALLOCATE: 'true' }) + db('db-a.test') + db('db-b.test'));
  const snapshot = snapshotOf(tr);
  const registry = new StatsRegistry({ slabs: 3, capacity: 4096 });
  const clusters = new ClusterTable(snapshot.clusters);
  const sink: HostUpdateSink = { publishHosts: (u) => clusters.applyHostUpdate(u), forgetHosts: () => {} };
  const rt = new DnsRuntime({ ...DEFAULT_DNS_RUNTIME, port: 0, upstreams: [`127.0.0.1:${d.port}`] }, sink, { registry, writer: registry.mainWriter() });
  t.teardown(() => rt.close());
  rt.onSnapshot(snapshot);
  await rt.start(snapshot);
  const state: WorkerState = { version: 1, listeners: new ListenerTable(snapshot), clusters, routes: new Map(), statIndex: indexStats(snapshot, registry), stats: StatsWriter.claim(registry.shared, 1), mesh: snapshot.mesh };
  for (let i = 0; i < 80 && !(clusters.get('outbound|3306||db-a.test')!.hostCount && clusters.get('outbound|3306||db-b.test')!.hostCount); i++) await sleep(25);

  const vipA = (await dig(rt.proxyPort!, 'db-a.test')).answers[0]?.split(' ')[2];
  const vipB = (await dig(rt.proxyPort!, 'db-b.test', 'A', ['+tcp'])).answers[0]?.split(' ')[2];
  t.regex(vipA, /^240\.240\./);
  t.regex(vipB, /^240\.240\./);
  t.not(vipA, vipB);
  t.is(await ask(state, vipA), 'db-a');
  t.is(await ask(state, vipB), 'db-b');
  t.is(await ask(state, vipA), 'db-a');
});
