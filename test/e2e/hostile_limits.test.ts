/**
 * End-to-end limits (issue 10 item 2): Envoy's overload-manager global downstream connection
 * limit (`--max-connections`), counted across workers. Excess connections are closed at once,
 * the listener stays up, and serves again once the count is below the limit.
 */
import test from 'ava';
import { ECHO_PORT, meshConfigMap, pingClient, podWithRemote, tcpClient } from './harness/index.js';

test('--max-connections: connections over the limit are closed at once, across both workers; the listener serves again below it', async (t) => {
  const { pod, remote } = await podWithRemote(t, {
    config: [meshConfigMap({ outboundTrafficPolicy: 'ALLOW_ANY' })],
    proxy: { concurrency: 2, args: ['--max-connections', '2'] },
  });
  const held = [0, 1].map(() => pingClient(pod.ns, { host: remote.ip, port: ECHO_PORT, everyMs: 200, timeoutMs: 60_000 }));
  for (const p of held) await p.waitForLine((l) => l.includes('"ev":"pong"'), 20_000);

  const refused = await tcpClient(pod.ns, { host: remote.ip, port: ECHO_PORT, send: 1000 });
  t.true(refused.connected, 'accepted by the kernel (the listener is up)');
  t.is(refused.rx, 0, 'then closed by the proxy without a byte through');
  t.is(await pod.waitForStat('listener.0.0.0.0_15001.downstream_global_cx_overflow', 1), 1);

  // The held connections still work; once one ends, a new one gets through.
  const pongs = () => held[1].stdoutLines.filter((l) => l.includes('"ev":"pong"')).length;
  const before = pongs();
  await held[1].waitForLine(() => pongs() > before, 10_000);
  await held[0].stop('SIGKILL', 1000);
  await pod.waitForStat('listener.0.0.0.0_15001.downstream_cx_destroy', 1);
  const again = await tcpClient(pod.ns, { host: remote.ip, port: ECHO_PORT, send: 1000 });
  t.is(again.rx, 1000);
});
