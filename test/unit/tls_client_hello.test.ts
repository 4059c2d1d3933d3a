import test from 'ava';
import fc from 'fast-check';
import { createServer, type AddressInfo } from 'node:net';
import { connect } from 'node:tls';
import { MAX_CLIENT_HELLO, NEED_MORE, NOT_TLS, parseClientHello, TOO_LARGE } from '../../src/tls/client_hello.js';
import { sniMatches } from '../../src/listener/listener_table.js';

/** The bytes a real client (Node's OpenSSL) sends first. */
async function realClientHello(opts: { servername?: string; ALPNProtocols?: string[] }): Promise<Buffer> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const got = new Promise<Buffer>((resolve) =>
    server.once('connection', (s) => {
      let buf = Buffer.alloc(0);
      s.on('data', (b) => {
        buf = Buffer.concat([buf, b]);
        const r = parseClientHello(buf);
        if (r !== NEED_MORE) {
          resolve(buf);
          s.destroy();
        }
      });
    }),
  );
  const client = connect({ port: (server.address() as AddressInfo).port, host: '127.0.0.1', rejectUnauthorized: false, ...opts });
  client.on('error', () => {});
  const bytes = await got;
  client.destroy();
  server.close();
  return bytes;
}

test('ClientHello: SNI (lower-cased) and ALPN from a real client, NEED_MORE at every split before the end', async (t) => {
  const b = await realClientHello({ servername: 'Outbound_.8080_._.Server.Ns.svc.cluster.local', ALPNProtocols: ['istio-http/1.1', 'istio', 'http/1.1'] });
  t.deepEqual(parseClientHello(b), { sni: 'outbound_.8080_._.server.ns.svc.cluster.local', alpn: ['istio-http/1.1', 'istio', 'http/1.1'] });
  for (let i = 0; i < b.length; i++) t.is(parseClientHello(b.subarray(0, i)), NEED_MORE, `prefix of ${i} bytes`);
  // Bytes after the ClientHello (the client's next flight) change nothing.
  t.deepEqual(parseClientHello(Buffer.concat([b, Buffer.from([0x14, 3, 3, 0, 1, 1])])), parseClientHello(b));
});

test('ClientHello: no SNI and no ALPN; one handshake message split over two records', async (t) => {
  const b = await realClientHello({});
  t.deepEqual(parseClientHello(b), { sni: undefined, alpn: [] });
  const named = await realClientHello({ servername: 'a.example', ALPNProtocols: ['h2'] });
  const body = named.subarray(5, 5 + named.readUInt16BE(3));
  const record = (p: Buffer) => Buffer.concat([Buffer.from([0x16, 3, 1, p.length >> 8, p.length & 0xff]), p]);
  const split = Buffer.concat([record(body.subarray(0, 3)), record(body.subarray(3, 100)), record(body.subarray(100))]);
  t.deepEqual(parseClientHello(split), { sni: 'a.example', alpn: ['h2'] });
  for (let i = 0; i < split.length; i++) t.is(parseClientHello(split.subarray(0, i)), NEED_MORE);
});

test('ClientHello: plaintext and garbage are not TLS (never a throw); an oversized hello is refused', (t) => {
  t.is(parseClientHello(Buffer.from('GET / HTTP/1.1\r\n\r\n')), NOT_TLS);
  t.is(parseClientHello(Buffer.from([0x16, 2, 0, 0, 4])), NOT_TLS, 'SSLv2-ish version');
  t.is(parseClientHello(Buffer.from([0x16, 3, 1, 0, 4, 2, 0, 0, 0])), NOT_TLS, 'a ServerHello is no ClientHello');
  t.is(parseClientHello(Buffer.from([0x16, 3, 1, 0, 8, 1, 0, 0, 4, 3, 3, 0, 0])), NOT_TLS, 'truncated body');
  const big = Buffer.from([0x16, 3, 1, 0x40, 0, 1, 0x02, 0, 0]);
  t.is(parseClientHello(big), TOO_LARGE, `over ${MAX_CLIENT_HELLO} bytes`);
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 600 }), fc.boolean(), (bytes, tlsHeader) => {
      const b = Buffer.from(bytes);
      if (tlsHeader && b.length > 1) {
        b[0] = 0x16;
        b[1] = 3;
      }
      const r = parseClientHello(b);
      return r === NEED_MORE || r === NOT_TLS || r === TOO_LARGE || typeof r === 'object';
    }),
    { seed: 12, numRuns: 5000 },
  );
});

test('server_names: exact and wildcard, case already folded', (t) => {
  t.true(sniMatches(['api.example.com'], 'api.example.com'));
  t.true(sniMatches(['*.example.com'], 'a.b.example.com'));
  t.false(sniMatches(['*.example.com'], 'example.com'));
  t.false(sniMatches(['api.example.com'], undefined));
});
