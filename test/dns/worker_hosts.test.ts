import test from 'ava';
import type { Server } from 'node:net';
import { indexStats } from '../../src/config/snapshot.js';
import { shareWith } from '../../src/config/snapshot_delta.js';
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
 * cluster empties on the workers too. A reload that reaches the workers as a delta keeps the
 * resolved hosts of DNS clusters it leaves unchanged (nothing is pushed again for them).
 */
test('workers route to the hosts the main thread resolved, and follow changes', async (t) => {
  const native = nativeSockets();
  if (!native) throw new Error('native addon not built: run npm install');
  if (!Dnsmasq.available()) throw new Error('dnsmasq is not installed: run scripts/install-test-deps.sh (Debian package dnsmasq-base)');
  // Each resource's teardown is registered as soon as it exists: a failure further on must not
  // leave a server or a child process keeping this test file's worker alive.
  const echo = await echoServer();
  t.teardown(() => echo.server.close());
  const port = await freePort();
  const d = await new Dnsmasq({ localTtl: 1 }).start({ 'echo.test': ['127.0.0.1'] });
  t.teardown(() => d.close());
  const tr = translateYaml(
    meshYaml({}, 'dnsRefreshRate: 1s') +
      serviceEntry('echo', { hosts: ['echo.test'], addresses: ['127.0.0.1'], ports: [{ number: port, name: 'tcp', protocol: 'TCP', targetPort: echo.port }], resolution: 'DNS' }),
  );
  const snapshot = snapshotOf(tr);
  const outbound = snapshot.listeners.find((l) => l.name === 'virtualOutbound')!;
  outbound.filterChains = [];
  const registry = new StatsRegistry({ slabs: 5, capacity: 4096 });
  const pool = new WorkerPool(2, registry, native, { acceptMode: 'handoff', transparent: false, onRestart: () => {} });
  t.teardown(() => pool.close());
  pool.publish({ snapshot, stats: indexStats(snapshot, registry) });
  const rt = new DnsRuntime({ ...DEFAULT_DNS_RUNTIME, upstreams: [`127.0.0.1:${d.port}`] }, pool, { registry, writer: registry.mainWriter() });
  t.teardown(() => rt.close());
  rt.onSnapshot(snapshot);
  const server: Server = await listenHandoff({ ...outbound, address: { address: '127.0.0.1', port } }, native, pool, { transparent: false, backlog: 128, onLost: () => {} });
  t.teardown(() => server.close());
  const cluster = `outbound|${port}||echo.test`;
  for (let i = 0; i < 80 && !rt.clusters.hosts(cluster)?.length; i++) await sleep(25);
  await sleep(100);
  const results = await Promise.all(Array.from({ length: 20 }, (_, i) => roundTrip(port, Buffer.from(`hi ${i}`))));
  results.forEach((r, i) => t.is(r.data.toString(), `hi ${i}`));
  t.is(echo.connections, 20);

  // A reload adding an unrelated cluster: the workers get a delta and build a new cluster
  // table, which must take over echo.test's resolved hosts (no new push comes for them).
  const next = snapshotOf(
    translateYaml(
      meshYaml({}, 'dnsRefreshRate: 1s') +
        serviceEntry('echo', { hosts: ['echo.test'], addresses: ['127.0.0.1'], ports: [{ number: port, name: 'tcp', protocol: 'TCP', targetPort: echo.port }], resolution: 'DNS' }) +
        serviceEntry('other', { hosts: ['other.test'], addresses: ['127.0.0.2'], ports: [{ number: 7777, name: 'tcp', protocol: 'TCP' }], resolution: 'STATIC', endpoints: [{ address: '127.0.0.1' }] }),
    ),
    2,
  );
  next.listeners.find((l) => l.name === 'virtualOutbound')!.filterChains = [];
  const { snapshot: shared, delta } = shareWith(snapshot, next);
  t.true(delta!.clusters.upsert.some((c) => c.name === 'outbound|7777||other.test'));
  pool.publish({ snapshot: shared, stats: indexStats(shared, registry) }, delta);
  rt.onSnapshot(shared);
  await pool.whenApplied(2);
  const after = await roundTrip(port, Buffer.from('after reload'));
  t.is(after.data.toString(), 'after reload');

  d.setHosts({});
  for (let i = 0; i < 120 && rt.clusters.hosts(cluster)?.length; i++) await sleep(25);
  await sleep(100);
  // No hosts: the worker closes the connection (a reset, as data was pending).
  const none = await roundTrip(port, Buffer.from('x')).catch(() => ({ data: Buffer.alloc(0) }));
  t.is(none.data.length, 0, 'no hosts: the connection is closed');
  t.is(registry.readByName(`cluster.${cluster}.upstream_cx_none_healthy`), 1);
  t.is(registry.readByName(`cluster.${cluster}.membership_total`), 0);
});
