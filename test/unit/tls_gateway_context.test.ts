import test from 'ava';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, TLSSocket, type ConnectionOptions } from 'node:tls';
import { createServer as createNetServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { DownstreamTls } from '../../src/config/model.js';
import { createRoot, issueLeaf } from '../../src/tls/ca.js';
import { configureCredentials, credentialFiles } from '../../src/tls/credentials.js';
import { clientCertificateRejected, gatewayServerContext } from '../../src/tls/gateway_context.js';

test('credentialName reads the secret formats Istio accepts: tls.crt/tls.key/ca.crt, cert/key/cacert, and a separate <name>-cacert', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'legate-cred-'));
  configureCredentials(dir);
  mkdirSync(join(dir, 'kube'));
  for (const f of ['tls.crt', 'tls.key', 'ca.crt']) writeFileSync(join(dir, 'kube', f), '');
  mkdirSync(join(dir, 'generic'));
  for (const f of ['cert', 'key']) writeFileSync(join(dir, 'generic', f), '');
  mkdirSync(join(dir, 'generic-cacert'));
  writeFileSync(join(dir, 'generic-cacert', 'cacert'), '');
  t.deepEqual(credentialFiles('kube', true), { certificate: join(dir, 'kube/tls.crt'), privateKey: join(dir, 'kube/tls.key'), caCertificates: join(dir, 'kube/ca.crt') });
  t.deepEqual(credentialFiles('generic', true), { certificate: join(dir, 'generic/cert'), privateKey: join(dir, 'generic/key'), caCertificates: join(dir, 'generic-cacert/cacert') });
  t.deepEqual(credentialFiles('kube', false), { certificate: join(dir, 'kube/tls.crt'), privateKey: join(dir, 'kube/tls.key') }, 'SIMPLE needs no CA');
});

async function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'legate-gwctx-'));
  const root = await createRoot('test.local');
  const other = await createRoot('other.local');
  const server = await issueLeaf(root, { dnsNames: ['gw.example.com'] });
  const client = await issueLeaf(root, { dnsNames: ['client.example.com'] });
  const stranger = await issueLeaf(other, { dnsNames: ['client.example.com'] });
  const files = { cert: join(dir, 's.crt'), key: join(dir, 's.key'), ca: join(dir, 'ca.crt') };
  writeFileSync(files.cert, server.certPem);
  writeFileSync(files.key, server.keyPem);
  writeFileSync(files.ca, root.certPem);
  return { files, root, client, stranger };
}

/** A TLS server with the gateway's context and its verdict; resolves with what the client saw. */
async function handshake(tls: DownstreamTls, clientOpts: ConnectionOptions): Promise<{ ok: boolean; rejected?: boolean; protocol?: string | null }> {
  let rejected: boolean | undefined;
  const ctx = gatewayServerContext(tls);
  if (!ctx) throw new Error('no context');
  const mutual = tls.mode !== 'SIMPLE';
  // As tls_termination wraps an accepted socket (tls.createServer would build its own context from the options).
  const server = createNetServer((raw) => {
    const s = new TLSSocket(raw, { isServer: true, secureContext: ctx, requestCert: mutual, rejectUnauthorized: tls.mode === 'MUTUAL' });
    s.on('error', () => raw.destroy());
    s.once('secure', () => {
      rejected = clientCertificateRejected(s, tls);
      s.end('x');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    return await new Promise((resolve) => {
      const c = connect({ port: (server.address() as AddressInfo).port, host: '127.0.0.1', servername: 'gw.example.com', ...clientOpts });
      c.on('data', () => undefined);
      c.once('end', () => resolve({ ok: true, rejected, protocol: c.getProtocol() }));
      c.once('error', () => resolve({ ok: false, rejected }));
    });
  } finally {
    server.close();
  }
}

test('minProtocolVersion TLSV1_3 refuses a TLS 1.2 client; cipherSuites limit TLS 1.2 ciphers', async (t) => {
  const { files } = await setup();
  const base: DownstreamTls = { mode: 'SIMPLE', serverCertificate: files.cert, privateKey: files.key };
  const ca = [readFileSync(files.ca, 'utf8')];
  t.like(await handshake({ ...base, minProtocolVersion: 'TLSV1_3' }, { ca, maxVersion: 'TLSv1.2' }), { ok: false });
  t.like(await handshake({ ...base, minProtocolVersion: 'TLSV1_3' }, { ca }), { ok: true, protocol: 'TLSv1.3' });
  t.like(await handshake({ ...base, maxProtocolVersion: 'TLSV1_2' }, { ca }), { ok: true, protocol: 'TLSv1.2' });
  t.like(await handshake({ ...base, maxProtocolVersion: 'TLSV1_2', cipherSuites: ['ECDHE-ECDSA-AES128-GCM-SHA256'] }, { ca, ciphers: 'ECDHE-ECDSA-AES256-GCM-SHA384' }), { ok: false });
});

test('OPTIONAL_MUTUAL takes a client without a certificate but not one from another CA; MUTUAL subjectAltNames must name the client', async (t) => {
  const { files, client, stranger } = await setup();
  const optional: DownstreamTls = { mode: 'OPTIONAL_MUTUAL', serverCertificate: files.cert, privateKey: files.key, caCertificates: files.ca };
  const ca = [readFileSync(files.ca, 'utf8')];
  t.like(await handshake(optional, { ca }), { ok: true, rejected: false });
  t.like(await handshake({ ...optional }, { ca, cert: stranger.certPem, key: stranger.keyPem }), { rejected: true });
  t.like(await handshake({ ...optional }, { ca, cert: client.certPem, key: client.keyPem }), { ok: true, rejected: false });
  const mutual: DownstreamTls = { ...optional, mode: 'MUTUAL', subjectAltNames: ['someone-else.example.com'] };
  t.like(await handshake(mutual, { ca, cert: client.certPem, key: client.keyPem }), { rejected: true });
  t.like(await handshake({ ...mutual, subjectAltNames: ['client.example.com'] }, { ca, cert: client.certPem, key: client.keyPem }), { rejected: false });
});
