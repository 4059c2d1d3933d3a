import test from 'ava';
import { addressIp, isInternalAddress, mutateForwardedHeaders } from '../../src/filters/network/http_connection_manager/forwarded_headers.js';
import { formatClientCertElement, type ClientCertificate } from '../../src/tls/client_certificate.js';
import type { HttpConnectionManagerFilter } from '../../src/config/model.js';
import type { HeaderList } from '../../src/filters/network/http_connection_manager/codec/index.js';
import { getHeader, getHeaderAll } from '../../src/filters/network/http_connection_manager/codec/index.js';

const sidecar = { useRemoteAddress: false } as HttpConnectionManagerFilter;
const edge = (hops = 0) => ({ useRemoteAddress: true, xffNumTrustedHops: hops }) as HttpConnectionManagerFilter;

const cert: ClientCertificate = {
  hash: 'ab'.repeat(32),
  subject: '',
  uris: ['spiffe://cluster.local/ns/front/sa/client'],
  dns: [],
  localUris: ['spiffe://cluster.local/ns/shop/sa/server'],
  der: Buffer.alloc(0),
};

function run(filter: HttpConnectionManagerFilter, headers: string[], remote = '192.0.2.5:40000', tls?: { clientCertificate?: ClientCertificate }) {
  const h: HeaderList = [...headers];
  const external = mutateForwardedHeaders(h, filter, remote, tls);
  return { h, external };
}

test("x-forwarded-for: a sidecar (use_remote_address false) passes it on as it came, Envoy's transparent mode", (t) => {
  const { h, external } = run(sidecar, ['x-forwarded-for', '203.0.113.1']);
  t.deepEqual(getHeaderAll(h, 'x-forwarded-for'), ['203.0.113.1']);
  t.false(external);
  t.is(getHeader(h, 'x-envoy-external-address'), undefined);
});

test("x-forwarded-for: an edge proxy appends the peer; Envoy's example 1 (no trusted hops: XFF ignored for the client address)", (t) => {
  const { h, external } = run(edge(), ['x-forwarded-for', '203.0.113.128, 203.0.113.10, 203.0.113.1', 'x-envoy-internal', 'true']);
  t.is(getHeader(h, 'x-forwarded-for'), '203.0.113.128, 203.0.113.10, 203.0.113.1,192.0.2.5');
  t.true(external);
  t.is(getHeader(h, 'x-envoy-external-address'), '192.0.2.5');
  t.is(getHeader(h, 'x-envoy-internal'), undefined);
});

test("x-forwarded-for: Envoy's example 3, two trusted hops: the client is the 2nd address from the right", (t) => {
  const { h } = run(edge(2), ['x-forwarded-for', '203.0.113.128, 203.0.113.10, 203.0.113.1']);
  t.is(getHeader(h, 'x-envoy-external-address'), '203.0.113.10');
  // Fewer entries than trusted hops: the peer is the client.
  t.is(getHeader(run(edge(2), ['x-forwarded-for', '203.0.113.1']).h, 'x-envoy-external-address'), '192.0.2.5');
});

test('edge: a private peer with no x-forwarded-for is internal (x-envoy-internal: true, internal headers kept); IPv6 ULA too', (t) => {
  const { h, external } = run(edge(), ['x-envoy-retry-on', '5xx'], '10.1.2.3:5555');
  t.false(external);
  t.is(getHeader(h, 'x-envoy-internal'), 'true');
  t.is(getHeader(h, 'x-envoy-retry-on'), '5xx');
  t.is(getHeader(h, 'x-forwarded-for'), '10.1.2.3');
  t.false(run(edge(), [], 'fd00::7:5555').external);
});

test('the peer ip of a connection address: IPv4, IPv6 as Node writes it (no brackets), bracketed, or without a port', (t) => {
  t.is(addressIp('10.1.2.3:40000'), '10.1.2.3');
  t.is(addressIp('::ffff:127.0.0.1:5000'), '::ffff:127.0.0.1');
  t.is(addressIp('[fd00::1]:443'), 'fd00::1');
  t.is(addressIp('localhost'), 'localhost');
  t.is(addressIp(''), '');
});

test("internal addresses are Envoy's: RFC 1918, 127.0.0.1, fd00::/8 and ::1; anything else (or not an address) is external", (t) => {
  for (const ip of ['10.0.0.1', '10.255.255.255', '172.16.0.1', '172.31.9.9', '192.168.1.1', '127.0.0.1', 'fd00::7', 'FD12:3456::1', '::1', '0:0:0:0:0:0:0:1']) {
    t.true(isInternalAddress(ip), ip);
  }
  for (const ip of ['172.15.0.1', '172.32.0.1', '192.169.0.1', '11.0.0.1', '127.0.0.2', '203.0.113.1', 'fc00::1', 'fd::1', '2001:db8::1',
    '::ffff:10.0.0.1', '10.0.0', '10.0.0.1.2', '10.0.0.256', '10..0.1', 'unknown', '', 'fdxx::1']) {
    t.false(isInternalAddress(ip), ip);
  }
});

test("edge: a request from outside loses Envoy's internal-only headers (header sanitizing)", (t) => {
  const { h } = run(edge(), ['x-envoy-retry-on', '5xx', 'x-envoy-max-retries', '9', 'x-envoy-upstream-rq-timeout-ms', '1', 'x-envoy-external-address', '1.1.1.1', 'x-keep', 'y']);
  t.deepEqual(h, ['x-keep', 'y', 'x-forwarded-for', '192.0.2.5', 'x-envoy-external-address', '192.0.2.5', 'x-forwarded-proto', 'http']);
});

test('x-forwarded-proto: from the connection unless a trusted hop set it', (t) => {
  t.is(getHeader(run(sidecar, ['x-forwarded-proto', 'https']).h, 'x-forwarded-proto'), 'http');
  t.is(getHeader(run(sidecar, [], undefined, {}).h, 'x-forwarded-proto'), 'https');
  t.is(getHeader(run(edge(1), ['x-forwarded-proto', 'https']).h, 'x-forwarded-proto'), 'https');
  t.is(getHeader(run(edge(1), []).h, 'x-forwarded-proto'), 'http');
});

test("x-forwarded-client-cert: SANITIZE (Envoy's default) drops it; ALWAYS_FORWARD_ONLY keeps it; the others need a client certificate", (t) => {
  const xfcc = ['x-forwarded-client-cert', 'By=a;Hash=b'];
  t.is(getHeader(run(sidecar, xfcc, undefined, { clientCertificate: cert }).h, 'x-forwarded-client-cert'), undefined);
  t.is(getHeader(run({ ...sidecar, forwardClientCertDetails: 'ALWAYS_FORWARD_ONLY' }, xfcc).h, 'x-forwarded-client-cert'), 'By=a;Hash=b');
  for (const mode of ['FORWARD_ONLY', 'APPEND_FORWARD', 'SANITIZE_SET'] as const) {
    t.is(getHeader(run({ ...sidecar, forwardClientCertDetails: mode }, xfcc).h, 'x-forwarded-client-cert'), undefined, `${mode} without mTLS`);
  }
  t.is(getHeader(run({ ...sidecar, forwardClientCertDetails: 'FORWARD_ONLY' }, xfcc, undefined, { clientCertificate: cert }).h, 'x-forwarded-client-cert'), 'By=a;Hash=b');
});

test("x-forwarded-client-cert: Istio's inbound APPEND_FORWARD with Subject, URI, DNS gives what apps see in Istio", (t) => {
  const fields = { subject: true, uri: true, dns: true, cert: false };
  const mine = `By=spiffe://cluster.local/ns/shop/sa/server;Hash=${cert.hash};Subject="";URI=spiffe://cluster.local/ns/front/sa/client`;
  const inbound = { ...sidecar, forwardClientCertDetails: 'APPEND_FORWARD', setCurrentClientCertDetails: fields } as HttpConnectionManagerFilter;
  t.is(getHeader(run(inbound, [], undefined, { clientCertificate: cert }).h, 'x-forwarded-client-cert'), mine);
  t.is(getHeader(run(inbound, ['x-forwarded-client-cert', 'Hash=00'], undefined, { clientCertificate: cert }).h, 'x-forwarded-client-cert'), `Hash=00,${mine}`);
  const set = { ...inbound, forwardClientCertDetails: 'SANITIZE_SET' } as HttpConnectionManagerFilter;
  t.is(getHeader(run(set, ['x-forwarded-client-cert', 'Hash=00'], undefined, { clientCertificate: cert }).h, 'x-forwarded-client-cert'), mine);
});

test('x-forwarded-client-cert element: Envoy key order, DNS per SAN, URI kept when empty, Cert URL-encoded PEM', (t) => {
  const c = { ...cert, subject: 'CN=client,O=Example', uris: [], dns: ['a.example', 'b.example'], der: Buffer.from([1, 2, 3]) };
  const all = formatClientCertElement(c, { subject: true, uri: true, dns: true, cert: true });
  t.is(all, `By=spiffe://cluster.local/ns/shop/sa/server;Hash=${cert.hash};Cert="${encodeURIComponent('-----BEGIN CERTIFICATE-----\nAQID\n-----END CERTIFICATE-----\n')}";Subject="CN=client,O=Example";URI=;DNS=a.example;DNS=b.example`);
  t.is(formatClientCertElement(c), `By=spiffe://cluster.local/ns/shop/sa/server;Hash=${cert.hash}`);
});
