import test from 'ava';
import { snapshotOf, translateYaml } from '../support/translate.js';
import { ListenerTable, type Selection } from '../../src/listener/listener_table.js';
import { TCP_PROXY } from '../../src/config/model.js';

const pa = (name: string, ns: string, spec: string) => `apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: ${name}, namespace: ${ns}}
spec:
${spec
  .split('\n')
  .filter(Boolean)
  .map((l) => `  ${l}`)
  .join('\n')}
`;

function inbound(yaml: string, labels: Record<string, string> = { app: 'web' }) {
  const t = translateYaml(yaml, { namespace: 'shop', labels });
  const table = new ListenerTable(snapshotOf(t));
  const vi = t.listeners.find((l) => l.name === 'virtualInbound')!;
  return { t, vi, table };
}

/** What a connection to `port` gets: chain name, whether TLS is terminated, the filter. */
function pick(table: ListenerTable, port: number, hello: { sni?: string; alpn: string[] } | null, protocol?: string | null) {
  const s: Selection | undefined = table.select('virtualInbound', { address: '10.0.0.5', port }, protocol, hello ? { sni: hello.sni, alpn: hello.alpn } : null);
  if (!s) return 'closed';
  return `${s.chain.name}${s.chain.tls ? '+mtls' : ''}:${s.chain.filters[0].name === TCP_PROXY ? 'tcp' : 'http'}`;
}

const ISTIO_HTTP = { alpn: ['istio-http/1.1', 'istio', 'http/1.1'] };
const ISTIO_TCP = { alpn: ['istio'] };
const APP_TLS = { sni: 'web.example', alpn: ['h2'] };

test('no PeerAuthentication is PERMISSIVE: mTLS by Istio ALPN, plaintext HTTP and TCP, the app\'s own TLS passed through', (t) => {
  const { t: tr, table } = inbound('');
  t.deepEqual(tr.lines, []);
  t.is(pick(table, 8080, ISTIO_HTTP), 'virtualInbound-catchall-http+mtls:http');
  t.is(pick(table, 8080, ISTIO_TCP), 'virtualInbound+mtls:tcp');
  t.is(pick(table, 8080, APP_TLS), 'virtualInbound:tcp');
  t.is(pick(table, 8080, null, 'http/1.1'), 'virtualInbound-catchall-http:http');
  t.is(pick(table, 8080, null, null), 'virtualInbound:tcp');
  // Before inspection the table asks for the ClientHello.
  t.true(table.select('virtualInbound', { address: '10.0.0.5', port: 8080 })?.inspectTls);
  const chain = tr.listeners.find((l) => l.name === 'virtualInbound')!.filterChains.find((c) => c.tls)!;
  t.deepEqual(chain.tls, { mode: 'ISTIO_MUTUAL', matchSubjectAltNamePrefix: 'spiffe://cluster.local/', alpnProtocols: ['h2', 'http/1.1'] });
});

test('mesh-wide STRICT (root namespace) refuses plaintext; the namespace policy overrides it; the workload policy overrides both', (t) => {
  const meshStrict = pa('default', 'istio-system', 'mtls: {mode: STRICT}');
  let { table, vi } = inbound(meshStrict);
  t.is(vi.defaultFilterChain, undefined);
  t.is(pick(table, 8080, ISTIO_HTTP), 'virtualInbound-catchall-http+mtls:http');
  t.is(pick(table, 8080, null, 'http/1.1'), 'closed');
  t.is(pick(table, 8080, null, null), 'closed');
  t.is(pick(table, 8080, APP_TLS), 'closed');
  ({ table } = inbound(meshStrict + '---\n' + pa('ns', 'shop', 'mtls: {mode: DISABLE}')));
  t.is(pick(table, 8080, null, null), 'virtualInbound-catchall-tcp:tcp');
  t.false(table.select('virtualInbound', { address: '10.0.0.5', port: 8080 })?.inspectTls ?? false, 'DISABLE: no tls_inspector');
  const workload = pa('web', 'shop', 'selector: {matchLabels: {app: web}}\nmtls: {mode: STRICT}');
  ({ table } = inbound(meshStrict + '---\n' + pa('ns', 'shop', 'mtls: {mode: DISABLE}') + '---\n' + workload));
  t.is(pick(table, 8080, null, null), 'closed');
  // A selector that does not match this proxy, or UNSET, leaves the wider policy in force.
  ({ table } = inbound(pa('ns', 'shop', 'mtls: {mode: DISABLE}') + '---\n' + workload, { app: 'other' }));
  t.is(pick(table, 8080, null, null), 'virtualInbound-catchall-tcp:tcp');
  ({ table } = inbound(meshStrict + '---\n' + pa('ns', 'shop', 'mtls: {mode: UNSET}')));
  t.is(pick(table, 8080, null, null), 'closed');
  // Another namespace's policy does not apply.
  ({ table } = inbound(pa('ns', 'other', 'mtls: {mode: STRICT}')));
  t.is(pick(table, 8080, null, null), 'virtualInbound:tcp');
});

test('portLevelMtls: a port of its own never falls back to the workload-wide chains', (t) => {
  const { table, t: tr } = inbound(pa('web', 'shop', 'selector: {matchLabels: {app: web}}\nmtls: {mode: STRICT}\nportLevelMtls:\n  "9000": {mode: PERMISSIVE}\n  "9001": {mode: DISABLE}'));
  t.deepEqual(tr.lines, []);
  t.is(pick(table, 8080, null, null), 'closed');
  t.is(pick(table, 9000, null, null), '0.0.0.0_9000:tcp');
  t.is(pick(table, 9000, ISTIO_TCP), '0.0.0.0_9000+mtls:tcp');
  t.is(pick(table, 9001, null, 'http/1.1'), '0.0.0.0_9001:http');
  t.is(pick(table, 9001, ISTIO_HTTP), 'closed', 'a DISABLE port has no TLS chain; a TLS hello finds no plaintext chain either');
  const strictPort = inbound(pa('web', 'shop', 'selector: {matchLabels: {app: web}}\nportLevelMtls:\n  "9000": {mode: STRICT}'));
  t.is(pick(strictPort.table, 9000, null, null), 'closed');
  t.is(pick(strictPort.table, 8080, null, null), 'virtualInbound:tcp');
});

test('PeerAuthentication validation: bad modes and ports are errors with paths; portLevelMtls without a selector is warned', (t) => {
  const { t: tr } = inbound(pa('bad', 'shop', 'mtls: {mode: STRICTER}\nportLevelMtls:\n  "x": {mode: STRICT}'));
  t.true(tr.lines.some((l) => /PeerAuthentication\/shop\/bad: spec\.mtls\.mode: must be one of/.test(l)), tr.lines.join('\n'));
  t.true(tr.lines.some((l) => /portLevelMtls\.x: invalid port/.test(l)), tr.lines.join('\n'));
  const warned = inbound(pa('ns', 'shop', 'mtls: {mode: STRICT}\nportLevelMtls:\n  "9000": {mode: DISABLE}'));
  t.true(warned.t.lines.some((l) => /warning.*portLevelMtls applies only to a policy with a selector/.test(l)), warned.t.lines.join('\n'));
  t.is(pick(warned.table, 9000, null, null), 'closed');
});
