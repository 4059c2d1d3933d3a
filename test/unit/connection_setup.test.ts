import test, { type ExecutionContext } from 'ava';
import { createServer, connect } from 'node:net';
import { once } from 'node:events';
import { ListenerTable } from '../../src/listener/listener_table.js';
import type { Listener } from '../../src/config/model.js';
import { detectingPort, serveConnections, sidecarSnapshotTo } from '../support/connection_pipeline.js';

/** A port as istiod builds `0.0.0.0_<port>` (detectingPort) whose TCP chain reaches an echo server. */
async function echoProxy(t: ExecutionContext, timeout: Pick<Listener, 'listenerFiltersTimeoutMs'> = {}) {
  const echo = createServer((s) => s.pipe(s));
  echo.listen(0, '127.0.0.1');
  await once(echo, 'listening');
  t.teardown(() => echo.close());
  const port = detectingPort(7000, timeout);
  const snapshot = sidecarSnapshotTo((echo.address() as { port: number }).port, (capture) => [...capture, port]);
  return serveConnections(t, snapshot, { address: '10.0.0.1', port: 7000 });
}

/** A bug, injected: the listener's filter-chain match throws on its `nth` call from now, once. */
function selectThrowsOnCall(t: ExecutionContext, nth: number): { calls: () => number } {
  const proto = ListenerTable.prototype as unknown as { select: (...args: unknown[]) => unknown };
  const real = proto.select;
  let calls = 0;
  proto.select = function (this: unknown, ...args: unknown[]) {
    if (++calls !== nth) return real.apply(this, args);
    proto.select = real;
    throw new Error('injected: a bug in the filter-chain match');
  };
  t.teardown(() => (proto.select = real));
  return { calls: () => calls };
}

/** Sends `text` on a new connection; resolves with what came back before the connection closed. */
async function exchange(port: number, text: string): Promise<string> {
  const c = connect({ port, host: '127.0.0.1' });
  c.on('error', () => {});
  let got = '';
  c.on('data', (d) => {
    got += d.toString('latin1');
    if (got === text) c.end();
  });
  c.write(text);
  await once(c, 'close');
  return got;
}

// Serial: each patches ListenerTable's prototype, which the other would meet.
test.serial('a throw while a connection is set up closes that connection only; the next is served', async (t) => {
  const { port } = await echoProxy(t);
  const injected = selectThrowsOnCall(t, 1);
  t.is(await exchange(port, 'FIRST\r\n'), '', 'the connection whose setup threw was closed unanswered');
  t.is(injected.calls(), 1);
  t.is(await exchange(port, 'SECOND\r\n'), 'SECOND\r\n');
});

test.serial('a throw in the match after protocol detection timed out closes that connection only; the next is served', async (t) => {
  const { port } = await echoProxy(t, { listenerFiltersTimeoutMs: 100 });
  // The second match runs from the inspectors' timer, outside any read or accept.
  const injected = selectThrowsOnCall(t, 2);
  const silent = connect({ port, host: '127.0.0.1' });
  silent.on('error', () => {});
  await once(silent, 'close');
  t.is(injected.calls(), 2, 'the match after the timeout ran and threw');
  t.is(await exchange(port, 'SECOND\r\n'), 'SECOND\r\n');
});
