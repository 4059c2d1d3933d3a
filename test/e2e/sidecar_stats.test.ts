/**
 * End-to-end: the proxy's counters match the traffic that really went through it, summed
 * across workers (--concurrency 2), on the admin port and on Prometheus.
 */
import test from 'ava';
import { DIGEST_PORT, meshConfigMap, podWithRemote, PORTS, tcpClient, tcpClients } from './harness/index.js';

for (const acceptMode of ['handoff', 'reuseport'] as const) {
  test(`counters (${acceptMode}, 2 workers): N connections and their exact byte totals`, async (t) => {
    const { remote, pod, tcp } = await podWithRemote(t, { config: [meshConfigMap()], proxy: { concurrency: 2, acceptMode } });
    // Different sizes, all at once (one client process) so that both workers get connections; the digest server's
    // short reply makes the two directions differ, so swapped tx/rx would show.
    const sizes = [0, 1, 1000, 65_536, 100_000, 250_001, 7, 4096, 123_457, 500_000, 31, 2];
    const results = await tcpClients(pod.ns, { host: remote.ip, port: DIGEST_PORT, sends: sizes });
    for (const [i, r] of results.entries()) {
      t.true(r.connected && r.gotEnd, `connection ${i}: ${JSON.stringify(r)}`);
      t.is((JSON.parse(r.rxHead) as { rx: number }).rx, sizes[i]);
    }
    const n = sizes.length;
    const sent = sizes.reduce((a, b) => a + b, 0);
    const received = results.reduce((a, r) => a + r.rx, 0);
    await tcp.waitForCloses(n);

    t.is(await pod.waitForStat('cluster.PassthroughCluster.upstream_cx_destroy', n), n);
    const s = await pod.stats();
    const expect: [string, number][] = [
      ['listener.0.0.0.0_15001.downstream_cx_total', n],
      ['listener.0.0.0.0_15001.downstream_cx_destroy', n],
      ['listener.0.0.0.0_15001.downstream_cx_active', 0],
      ['tcp.PassthroughCluster.downstream_cx_total', n],
      ['tcp.PassthroughCluster.downstream_cx_rx_bytes_total', sent],
      ['tcp.PassthroughCluster.downstream_cx_tx_bytes_total', received],
      ['cluster.PassthroughCluster.upstream_cx_total', n],
      ['cluster.PassthroughCluster.upstream_cx_active', 0],
      ['cluster.PassthroughCluster.upstream_cx_connect_fail', 0],
      ['cluster.PassthroughCluster.upstream_cx_tx_bytes_total', sent],
      ['cluster.PassthroughCluster.upstream_cx_rx_bytes_total', received],
      ['cluster.BlackHoleCluster.upstream_cx_none_healthy', 0],
    ];
    t.deepEqual(
      expect.map(([k]) => [k, s.get(k)]),
      expect,
    );
    // The server agrees on what it got.
    t.is(
      tcp.closes(DIGEST_PORT).reduce((a, c) => a + c.rx, 0),
      sent,
    );

    // Prometheus (15090) shows the same numbers under Envoy's names.
    const prom = (await pod.ns.exec(['curl', '-sS', '--fail', `http://127.0.0.1:${PORTS.prometheus}/stats/prometheus`])).stdout;
    t.regex(prom, new RegExp(`^envoy_cluster_upstream_cx_total\\{cluster_name="PassthroughCluster"\\} ${n}$`, 'm'));
    t.regex(prom, new RegExp(`^envoy_cluster_upstream_cx_tx_bytes_total\\{cluster_name="PassthroughCluster"\\} ${sent}$`, 'm'));
  });
}

test('connect failure: a refused upstream is counted as connect_fail and the client is closed', async (t) => {
  const { remote, pod } = await podWithRemote(t, { config: [meshConfigMap()] });
  // Nothing listens on the remote's 7999: the proxy's upstream connect is refused.
  const r = await tcpClient(pod.ns, { host: remote.ip, port: 7999, send: 10 });
  t.true(r.connected, 'the app connected (to the proxy)');
  t.is(r.rx, 0);
  t.is(await pod.waitForStat('cluster.PassthroughCluster.upstream_cx_connect_fail', 1), 1);
  t.is(await pod.waitForStat('cluster.PassthroughCluster.upstream_cx_active', (v) => v === 0), 0);
  t.is(await pod.waitForStat('listener.0.0.0.0_15001.downstream_cx_active', (v) => v === 0), 0);
});
