import test from 'ava';
import { createServer, Socket, type AddressInfo } from 'node:net';
import { connect } from 'node:tls';
import { createHash, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCa } from '../../src/cli/ca.js';
import { inspectTls } from '../../src/listener/tls_inspector.js';
import { terminateTls } from '../../src/listener/tls_termination.js';
import { configureTls } from '../../src/tls/contexts.js';
import { readerSocketOptions, trackReads } from '../../src/listener/socket_reader.js';
import type { ConnectionContext } from '../../src/listener/connection.js';

const dir = mkdtempSync(join(tmpdir(), 'legate-term-'));
test.before(async () => {
  await runCa(['root', '--ca-dir', dir]);
  await runCa(['issue', '--ca-dir', dir, '--out', join(dir, 'server'), '--ns', 'shop', '--sa', 'server']);
  await runCa(['issue', '--ca-dir', dir, '--out', join(dir, 'client'), '--ns', 'front', '--sa', 'client']);
  configureTls(join(dir, 'server'));
});

/**
 * A server that inspects the ClientHello and terminates ISTIO_MUTUAL as the listener does, on
 * sockets read with `onread` (hand-off) or as streams (reuseport), echoing "pong:<data>".
 */
async function roundTrip(mode: 'onread' | 'stream', clientId: string): Promise<{ reply?: string; ctx: ConnectionContext; error?: string }> {
  const ctx = { worker: { stats: { inc() {} }, statIndex: { listeners: {} } }, listenerName: 'test' } as unknown as ConnectionContext;
  const server = createServer({ pauseOnConnect: mode === 'onread' }, (accepted) => {
    let s = accepted;
    // Adopting the fd as the worker does after a hand-off (the accepted handle stays open and unused here).
    if (mode === 'onread') s = trackReads(new Socket({ fd: (accepted as unknown as { _handle: { fd: number } })._handle.fd, readable: true, writable: true, ...readerSocketOptions() }));
    inspectTls(s, 5000, (hello, peeked) =>
      terminateTls(s, { mode: 'ISTIO_MUTUAL', alpnProtocols: ['http/1.1'], matchSubjectAltNamePrefix: 'spiffe://cluster.local/' }, hello, peeked, ctx, (tls) => tls.on('data', (d) => tls.end(`pong:${d}`))),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const certs = join(dir, clientId);
  try {
    return await new Promise((resolve) => {
      const c = connect({
        port: (server.address() as AddressInfo).port, host: '127.0.0.1', servername: 'outbound_.8080_._.server.shop.svc.cluster.local',
        cert: readFileSync(join(certs, 'cert-chain.pem')), key: readFileSync(join(certs, 'key.pem')), ca: readFileSync(join(dir, 'root-cert.pem')),
        ALPNProtocols: ['istio-http/1.1', 'istio', 'http/1.1'], checkServerIdentity: () => undefined,
      });
      let reply = '';
      // Written at once: the first application bytes may arrive in the same read as the handshake's end.
      c.on('secureConnect', () => c.write('ping'));
      c.on('data', (d) => (reply += String(d)));
      c.on('end', () => resolve({ reply, ctx }));
      c.on('error', (e) => resolve({ ctx, error: e.message }));
    });
  } finally {
    server.close();
  }
}

for (const mode of ['onread', 'stream'] as const) {
  test(`TLS termination (${mode} sockets): the inspected ClientHello reaches the handshake, ctx.tls has SNI, ALPN and the peer's SPIFFE id`, async (t) => {
    const r = await roundTrip(mode, 'client');
    t.is(r.reply, 'pong:ping', r.error);
    const { clientCertificate, ...rest } = r.ctx.tls!;
    t.deepEqual(rest, { sni: 'outbound_.8080_._.server.shop.svc.cluster.local', alpn: 'http/1.1', peerPrincipal: 'spiffe://cluster.local/ns/front/sa/client' });
    // x-forwarded-client-cert's facts: the client's certificate hash and SANs, and this side's own SAN (By=).
    const clientDer = new X509Certificate(readFileSync(join(dir, 'client', 'cert-chain.pem'))).raw;
    t.is(clientCertificate?.hash, createHash('sha256').update(clientDer).digest('hex'));
    t.deepEqual(clientCertificate?.uris, ['spiffe://cluster.local/ns/front/sa/client']);
    t.deepEqual(clientCertificate?.localUris, ['spiffe://cluster.local/ns/shop/sa/server']);
  });
}
