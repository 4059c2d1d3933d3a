import test from 'ava';
import { connect } from 'node:net';
import { once } from 'node:events';
import { drainHttpListeners } from '../../src/filters/network/http_connection_manager/drain.js';
import { rawExchange, rawUpstream, responses, routeTo, startHcm, staticCluster, ok } from '../support/hcm.js';

// The harness's HCM serves listener `virtualOutbound`; drain state is per thread, and ava runs
// each test file in its own worker, so the tests below run in order on purpose.
const GET = (path = '/') => `GET ${path} HTTP/1.1\r\nhost: svc.local\r\n\r\n`;

test.serial('a drain closes idle keep-alive connections and makes the next response carry connection: close', async (t) => {
  const up = await rawUpstream(t, (req, s) => {
    // The slow request is answered only after the drain has started.
    if (req.includes('/slow')) setTimeout(() => s.write(ok('slow')), 300);
    else s.write(ok('fast'));
  });
  const { port } = await startHcm(t, [routeTo('c')], [staticCluster('c', [up.port])]);

  // An idle keep-alive connection (one response done, nothing in flight).
  const idle = connect({ port, host: '127.0.0.1' });
  idle.on('error', () => {});
  let idleText = '';
  idle.on('data', (d) => (idleText += d.toString('latin1')));
  idle.write(GET('/a'));
  while (responses(idleText).length < 1) await once(idle, 'data');
  t.notRegex(responses(idleText)[0].head, /connection: close/);

  // A busy one: its response is still upstream when the drain starts.
  const busy = rawExchange(port, GET('/slow'), () => false, 3000);
  await new Promise((r) => setTimeout(r, 100));

  const idleClosed = once(idle, 'end');
  drainHttpListeners(['virtualOutbound']);
  await idleClosed;
  t.pass('the idle connection was closed by the proxy');

  const { text, closed } = await busy;
  const [r] = responses(text);
  t.is(r.status, 200, 'the in-flight request completes');
  t.is(r.body, 'slow');
  t.regex(r.head, /\r\nconnection: close/);
  t.true(closed, 'and its connection closes after the response');
});

test.serial('while draining, a new connection is served once, with connection: close', async (t) => {
  const up = await rawUpstream(t, (_r, s) => s.write(ok('x')));
  const { port } = await startHcm(t, [routeTo('c')], [staticCluster('c', [up.port])]);
  const { text, closed } = await rawExchange(port, GET('/1') + GET('/2'), () => false, 2000);
  const rs = responses(text);
  t.is(rs.length, 1, 'the pipelined second request is not served on a draining connection');
  t.regex(rs[0].head, /\r\nconnection: close/);
  t.true(closed);
});
