import test from 'ava';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCa } from '../../src/cli/ca.js';
import { workloadIdentity } from '../../src/tls/workload_identity.js';
import { parseProxyOptions } from '../../src/main/options.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'legate-ca-'));

test('legate ca: a workload certificate in Istio\'s layout with the SPIFFE URI SAN, verified by openssl against the root', async (t) => {
  const ca = tmp();
  const out = join(ca, 'certs');
  t.is(await runCa(['root', '--ca-dir', ca, '--trust-domain', 'example.org']), 0);
  t.is(await runCa(['issue', '--ca-dir', ca, '--out', out, '--ns', 'shop', '--sa', 'cart', '--trust-domain', 'example.org']), 0);
  const leaf = new X509Certificate(readFileSync(join(out, 'cert-chain.pem')));
  t.is(leaf.subjectAltName, 'URI:spiffe://example.org/ns/shop/sa/cart');
  t.true(leaf.checkPrivateKey((await import('node:crypto')).createPrivateKey(readFileSync(join(out, 'key.pem')))));
  t.is(readFileSync(join(out, 'root-cert.pem'), 'utf8'), readFileSync(join(ca, 'root-cert.pem'), 'utf8'));
  const verdict = execFileSync('openssl', ['verify', '-CAfile', join(out, 'root-cert.pem'), '-purpose', 'sslclient', join(out, 'cert-chain.pem')], { encoding: 'utf8' });
  t.regex(verdict, /: OK/);
  execFileSync('openssl', ['verify', '-CAfile', join(out, 'root-cert.pem'), '-purpose', 'sslserver', join(out, 'cert-chain.pem')]);
  // A second `root` keeps the existing root (workloads already trust it).
  const before = readFileSync(join(ca, 'root-cert.pem'), 'utf8');
  await runCa(['root', '--ca-dir', ca]);
  t.is(readFileSync(join(ca, 'root-cert.pem'), 'utf8'), before);
});

test('legate ca: DNS names in the Kubernetes TLS secret layout, and a certificate from another root fails openssl verify', async (t) => {
  const ca = tmp();
  const other = tmp();
  await runCa(['root', '--ca-dir', ca]);
  await runCa(['root', '--ca-dir', other]);
  await runCa(['issue', '--ca-dir', ca, '--out', join(ca, 'srv'), '--dns', 'api.example.com', '--layout', 'tls']);
  const leaf = new X509Certificate(readFileSync(join(ca, 'srv', 'tls.crt')));
  t.is(leaf.subjectAltName, 'DNS:api.example.com');
  t.truthy(leaf.checkHost('api.example.com'));
  t.throws(() => execFileSync('openssl', ['verify', '-CAfile', join(other, 'root-cert.pem'), join(ca, 'srv', 'tls.crt')], { stdio: 'pipe' }));
  await t.throwsAsync(runCa(['issue', '--ca-dir', ca, '--out', join(ca, 'x')]), { message: /at least one SAN/ });
});

test('workload identity: reloaded when the files rotate; a key that does not match keeps the last good identity', async (t) => {
  const ca = tmp();
  const certs = join(ca, 'certs');
  await runCa(['root', '--ca-dir', ca]);
  await runCa(['issue', '--ca-dir', ca, '--out', certs, '--ns', 'a', '--sa', 'one']);
  const id = workloadIdentity(certs);
  t.is(id.current?.principal, 'spiffe://cluster.local/ns/a/sa/one');
  const first = id.current!.context;
  await runCa(['issue', '--ca-dir', ca, '--out', certs, '--ns', 'a', '--sa', 'two']);
  t.true(id.load());
  t.is(id.current?.principal, 'spiffe://cluster.local/ns/a/sa/two');
  t.not(id.current!.context, first, 'a new context for new handshakes');
  // Half a rotation: a new certificate with the old key.
  await runCa(['issue', '--ca-dir', ca, '--out', join(ca, 'next'), '--ns', 'a', '--sa', 'three']);
  writeFileSync(join(certs, 'cert-chain.pem'), readFileSync(join(ca, 'next', 'cert-chain.pem')));
  t.false(id.load());
  t.is(id.current?.principal, 'spiffe://cluster.local/ns/a/sa/two');
  t.regex(id.lastError ?? '', /key/i);
  t.is(workloadIdentity(join(ca, 'missing')).current, undefined);
});

test('legate ca --config: the trust domain comes from the mesh ConfigMap', async (t) => {
  const ca = tmp();
  writeFileSync(join(ca, 'mesh.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: istio, namespace: istio-system}\ndata:\n  mesh: |\n    trustDomain: corp.example\n');
  await runCa(['root', '--ca-dir', ca]);
  await runCa(['issue', '--ca-dir', ca, '--out', join(ca, 'w'), '--ns', 'a', '--sa', 'b', '--config', join(ca, 'mesh.yaml')]);
  t.is(new X509Certificate(readFileSync(join(ca, 'w', 'cert-chain.pem'))).subjectAltName, 'URI:spiffe://corp.example/ns/a/sa/b');
});

test('--cert-dir: defaults to Istio\'s /etc/certs, also from LEGATE_CERT_DIR', (t) => {
  t.is(parseProxyOptions([], {}).certDir, '/etc/certs');
  t.is(parseProxyOptions(['--cert-dir', '/x'], {}).certDir, '/x');
  t.is(parseProxyOptions([], { LEGATE_CERT_DIR: '/y' }).certDir, '/y');
});
