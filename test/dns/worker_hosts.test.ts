import test from 'ava';
import type { Server } from 'node:net';
import { indexStats } from '../../src/config/snapshot.js';
import { DEFAULT_DNS_RUNTIME, DnsRuntime } from '../../src/dns/runtime.js';
import { listenHandoff } from '../../src/listener/handoff.js';
import { nativeSockets } from '../../src/listener/native/index.js';
import { WorkerPool } from '../../src/main/worker_pool.js';
import { StatsRegistry } from '../../src/stats/store.js';
import { Dnsmasq, sleep } from '../support/dnsmasq.js';
import { echoServer, freePort, roundTrip } from '../support/servers.js';
import { meshYaml, serviceEntry, snapshotOf, translateYaml } from '../support/translate.js';

/**
 * DNS host sets through real worker threads: a STRICT_DNS ServiceEntry whose name dnsmasq
 * resolves; the main thread's refresher pushes the hosts over the config channel, and a
 * connection handed to a worker reaches the echo server. When the name stops resolving the
 * cluster empties on the workers too.
 */
test('workers route to the hosts the main thread resolved, and follow changes', async (t) => {
  const native = nativeSockets();
  if (!native) throw new Error('native addon not built: run npm install');
  if (!Dnsmasq.available()) throw new Error('dnsmasq is not installed: run scripts/install-test-deps.sh (Debian package dnsmasq-base)');
  const echo = await echoServer();
  const port = await freePort();
  const d = await new Dnsmasq({ localTtl: 1 }).start({ 'echo.test': ['127.0.0.1'] });
  const tr = translateYaml(
    meshYaml({}, 'dnsRefreshRate: 1s') +
      serviceEntry('echo', { hosts: ['echo.test'], addresses: ['127.0.0.1'], ports: [{ number: port, name: 'tcp', protocol: 'TCP', targetPort: echo.port }], resolution: 'DNS' }),
  );
  const snapshot = snapshotOf(tr);
  const outbound = snapshot.listeners.find((l) => l.name === 'virtualOutbound')!;
  outbound.filterChains = [];
  const registry = new StatsRegistry({ slabs: 5, capacity: 4096 });
  const pool = new WorkerPool(2, registry, native, { acceptMode: 'handoff', transparent: false, onRestart: () => {} });
  pool.publish({ snapshot, stats: indexStats(snapshot, registry) });
  const rt = new DnsRuntime({ ...DEFAULT_DNS_RUNTIME, upstreams: [`127.0.0.1:${d.port}`] }, pool, { registry, writer: registry.mainWriter() });
  rt.onSnapshot(snapshot);
  const server: Server = await listenHandoff({ ...outbound, address: { address: '127.0.0.1', port } }, native, pool, { transparent: false, backlog: 128, onLost: () => {} });
  t.teardown(async () => {
    server.close();
    echo.server.close();
    await rt.close();
    await pool.close();
    await d.close();
  });
  const cluster = `outbound|${port}||echo.test`;
  for (let i = 0; i < 80 && !rt.clusters.hosts(cluster)?.length; i++) await sleep(25);
  await sleep(100);
  const results = await Promise.all(Array.from({ length: 20 }, (_, i) => roundTrip(port, Buffer.from(`hi ${i}`))));
  results.forEach((r, i) => t.is(r.data.toString(), `hi ${i}`));
  t.is(echo.connections, 20);

  d.setHosts({});
  for (let i = 0; i < 120 && rt.clusters.hosts(cluster)?.length; i++) await sleep(25);
  await sleep(100);
  // No hosts: the worker closes the connection (a reset, as data was pending).
  const none = await roundTrip(port, Buffer.from('x')).catch(() => ({ data: Buffer.alloc(0) }));
  t.is(none.data.length, 0, 'no hosts: the connection is closed');
  t.is(registry.readByName(`cluster.${cluster}.upstream_cx_none_healthy`), 1);
  t.is(registry.readByName(`cluster.${cluster}.membership_total`), 0);
});
