/**
 * End-to-end hostile input (issue 10 items 1 and 6): every malformed request of the table in
 * hostile_cases.ts sent as raw bytes by the app through the captured sidecar (uid 1337). Each
 * must get the proxy's own answer with Envoy's status, the connection must be closed by the
 * proxy, and the upstream — a real server that reports every connection and the bytes read on
 * it — must see nothing. Then what must pass does pass, byte-exact, and a declined upgrade
 * opens no tunnel.
 */
import test from 'ava';
import { type TestContext, firstStatus, httpRequest, meshConfigMap, podWithHttp, rawClients, report, serviceEntry, type PodWithHttp } from './harness/index.js';
import { HOSTILE_ROWS, HOST } from './hostile_cases.js';

const VIP = '240.240.10.10';
const UPSTREAM = 8080;

function strictPod(t: TestContext): Promise<PodWithHttp> {
  return podWithHttp(t, {
    servers: { strict: UPSTREAM },
    config: (r) => [
      meshConfigMap({ outboundTrafficPolicy: 'REGISTRY_ONLY' }),
      serviceEntry({
        name: 'strict',
        hosts: [HOST],
        addresses: [VIP],
        ports: [{ number: 80, name: 'http', protocol: 'HTTP' }],
        endpoints: [{ address: r.ip, ports: { http: UPSTREAM } }],
      }),
    ],
  });
}

test('malformed requests: Envoy\'s status from the proxy, connection closed, nothing reaches the upstream', async (t) => {
  const { pod, servers } = await strictPod(t);
  const rows = HOSTILE_ROWS;
  const results = await rawClients(pod.ns, VIP, 80, rows);
  const failures: string[] = [];
  results.forEach((r, i) => {
    const row = rows[i];
    const status = firstStatus(r.rx);
    const responses = r.rx.match(/HTTP\/1\.1 \d{3} /g)?.length ?? 0;
    const problems = [
      status !== row.status && `status ${status} (want ${row.status})`,
      responses !== (row.status === 0 ? 0 : 1) && `${responses} responses`,
      !r.gotEnd && !r.reset && `connection not closed by the proxy (${r.error ?? 'no end'})`,
      row.status !== 0 && status === row.status && !/\r\nconnection: close\r\n/.test(r.rx) && 'no "connection: close"',
    ].filter(Boolean);
    if (problems.length > 0) failures.push(`${row.name}: ${problems.join(', ')} — ${JSON.stringify(r.rx.slice(0, 120))}`);
  });
  const passed = rows.length - failures.length;
  t.log(`hostile rows: ${passed}/${rows.length} passed`);
  t.deepEqual(failures, []);
  t.is(servers.strict.connections().length, 0, 'the upstream never got a connection');

  // The proxy still serves, and the upstream then sees exactly the one good request.
  const ok = await httpRequest(pod.ns, `http://${VIP}/after`);
  t.is(ok.status, 200);
  t.deepEqual(servers.strict.requests().map((q) => q.url), ['/after']);
});

test('an upgrade the upstream answers with 200 opens no tunnel: the answer is relayed, the connection closed, the bytes after the head never forwarded', async (t) => {
  const { pod, servers } = await strictPod(t);
  const head = `GET /ws?upgrade=decline HTTP/1.1\r\nHost: ${HOST}\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n`;
  const [r] = await rawClients(pod.ns, VIP, 80, [{ name: 'declined upgrade', bytes: `${head}GET /smuggled HTTP/1.1\r\nHost: ${HOST}\r\n\r\n` }]);
  t.is(firstStatus(r.rx), 200, r.rx);
  t.true(r.rx.endsWith('\r\n\r\ndeclined'), r.rx);
  t.regex(r.rx, /\r\nconnection: close\r\n/);
  t.true(r.gotEnd || r.reset, 'the proxy closed the connection');
  const events = servers.strict.proc.jsonLines<{ ev: string; bytes?: number }>();
  t.is(events.filter((e) => e.ev === 'upgrade').length, 1);
  t.deepEqual(events.filter((e) => e.ev === 'after-upgrade'), [], 'no tunnel bytes reached the upstream');
  t.deepEqual(servers.strict.requests(), [], 'the bytes after the head were not parsed as a request either');
  // The client has gone: the proxy, which held those bytes unread, closed its socket too (it
  // used to keep it, paused and never seeing the client's FIN, for good).
  const name = [...(await pod.stats()).keys()].find((k) => /^http\.outbound_.*_80\.downstream_cx_active$/.test(k));
  t.truthy(name);
  t.is(await pod.waitForStat(name!, (v) => v === 0, 5000, 0), 0, 'downstream_cx_active back to 0');
});

test('what is legal passes: "chunked " with trailing whitespace is chunked; %0D%0A in a path stays encoded; obs-text survives; paths normalised as Istio does', async (t) => {
  const { pod, servers } = await strictPod(t);
  const results = await rawClients(pod.ns, VIP, 80, [
    { name: 'TE chunked + OWS', bytes: `POST /ows HTTP/1.1\r\nHost: ${HOST}\r\nTransfer-Encoding: chunked \r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n` },
    { name: 'encoded CRLF', bytes: `GET /a%0D%0ASet-Cookie:%20x HTTP/1.1\r\nHost: ${HOST}\r\nConnection: close\r\n\r\n` },
    { name: 'obs-text', bytes: Buffer.from(`GET /obs HTTP/1.1\r\nHost: ${HOST}\r\nX-Obs: caf\xe9\r\nConnection: close\r\n\r\n`, 'latin1') },
    ...['/n/a/../b', '/n/a/%2e%2E/c', '//n/x', '/n/a%2Fb', '/n/a\\..\\d'].map((path) => ({ name: path, bytes: `GET ${path} HTTP/1.1\r\nHost: ${HOST}\r\nConnection: close\r\n\r\n` })),
  ]);
  t.deepEqual(results.map((r) => firstStatus(r.rx)), [200, 200, 200, 200, 200, 200, 200, 200], JSON.stringify(results.map((r) => r.rx.slice(0, 100))));
  const seen = servers.strict.requests();
  const byUrl = new Map(seen.map((q) => [q.url, q]));
  t.is(byUrl.get('/ows')?.bodyBytes, 5);
  t.truthy(byUrl.get('/a%0D%0ASet-Cookie:%20x'), JSON.stringify(seen.map((q) => q.url)));
  t.false(seen.some((q) => 'set-cookie' in q.headers));
  // Istio's default path normalisation (BASE): dot segments (also encoded ones) and backslashes, no slash merging, %2F kept.
  for (const url of ['/n/b', '/n/c', '//n/x', '/n/a%2Fb', '/n/d']) t.truthy(byUrl.get(url), `${url} in ${JSON.stringify([...byUrl.keys()])}`);
  t.is(byUrl.get('/obs')?.rawHeaders[byUrl.get('/obs')!.rawHeaders.indexOf('x-obs') + 1], Buffer.from('café', 'latin1').toString('latin1'));
});
