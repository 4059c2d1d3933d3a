/**
 * End-to-end: malformed requests sent raw (netcat, as the app) through the captured sidecar
 * (issue 5). Request smuggling shapes — Content-Length with Transfer-Encoding, an unknown
 * transfer coding — are answered by the proxy itself (Envoy's 400 / 501, connection closed),
 * nothing reaches the upstream, and the next connection works normally. See
 * test/e2e/README.md for the harness.
 */
import test from 'ava';
import { accessLogEntries, httpRequest, meshConfigMap, podWithHttp, rawHttp, report, serviceEntry } from './harness/index.js';

const HOST = 'strict.example.internal';
const VIP = '240.240.6.10';
const UPSTREAM = 8080;

test('CL+TE and unknown transfer codings: Envoy\'s 400/501 from the proxy, connection closed, nothing upstream; then normal requests work', async (t) => {
  const env = await podWithHttp(t, {
    servers: { strict: UPSTREAM },
    config: (r) => [
      meshConfigMap({ outboundTrafficPolicy: 'REGISTRY_ONLY', accessLogFile: '/dev/stdout' }),
      serviceEntry({
        name: 'strict',
        hosts: [HOST],
        addresses: [VIP],
        ports: [{ number: 80, name: 'http', protocol: 'HTTP' }],
        endpoints: [{ address: r.ip, ports: { http: UPSTREAM } }],
      }),
    ],
  });
  const { pod, servers } = env;

  // A smuggling attempt: Content-Length covers a second request that Transfer-Encoding would end before.
  const smuggled = 'GET /smuggled HTTP/1.1\r\nHost: strict.example.internal\r\n\r\n';
  const body = `0\r\n\r\n${smuggled}`;
  const clte = await rawHttp(pod.ns, VIP, 80, `POST / HTTP/1.1\r\nHost: ${HOST}\r\nContent-Length: ${body.length}\r\nTransfer-Encoding: chunked\r\n\r\n${body}`);
  const [head, text] = clte.split('\r\n\r\n');
  const lines = head.split('\r\n');
  t.is(lines[0], 'HTTP/1.1 400 Bad Request', clte);
  t.true(lines.includes('connection: close'), head);
  t.true(lines.includes('server: envoy'), head);
  // Envoy (early_errors_via_hcm) answers codec errors as local replies whose body is the reason phrase.
  t.is(text, 'Bad Request');
  t.is(clte.match(/HTTP\/1\.1 /g)?.length, 1, 'one response: the smuggled request was never parsed');

  // TE: gzip is not a coding Envoy implements: 501.
  const te = await rawHttp(pod.ns, VIP, 80, `POST / HTTP/1.1\r\nHost: ${HOST}\r\nTransfer-Encoding: gzip\r\n\r\n`);
  t.regex(te, /^HTTP\/1\.1 501 Not Implemented\r\n/);
  t.true(te.endsWith('\r\n\r\nNot Implemented'), te);

  // A bare LF line end: 400, and nothing after it is read.
  const lf = await rawHttp(pod.ns, VIP, 80, `GET /lf HTTP/1.1\nHost: ${HOST}\n\n`);
  t.regex(lf, /^HTTP\/1\.1 400 Bad Request\r\n/);

  t.is(servers.strict.connections().length, 0, 'the upstream never heard of them');

  // A well-formed request on a new connection works; a valid pipelined pair on one connection too.
  const ok = await httpRequest(pod.ns, `http://${VIP}/after`);
  t.is(ok.status, 200);
  t.is(report(ok).url, '/after');
  // (No half-close: the proxy closes after the second response, as it asks.)
  const pipelined = await rawHttp(pod.ns, VIP, 80, `GET /p1 HTTP/1.1\r\nHost: ${HOST}\r\n\r\nGET /p2 HTTP/1.1\r\nHost: ${HOST}\r\nConnection: close\r\n\r\n`, { halfClose: false });
  t.is(pipelined.match(/^HTTP\/1\.1 200 OK\r\n/gm)?.length, 2, pipelined);
  t.deepEqual(servers.strict.requests().map((q) => q.url), ['/after', '/p1', '/p2']);

  t.is(await pod.waitForStat('http.outbound_0.0.0.0_80.downstream_cx_protocol_error', 3), 3);
  const dpe = accessLogEntries(pod).filter((e) => e.response_flags === 'DPE');
  t.deepEqual(dpe.map((e) => [e.response_code, e.response_code_details]).sort(), [
    [400, 'http1.codec_error'],
    [400, 'http1.content_length_and_chunked_not_allowed'],
    [501, 'http1.invalid_transfer_encoding'],
  ].sort());
});
