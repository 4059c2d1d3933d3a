import test from 'ava';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as packet from 'dns-packet';
import { DEFAULT_DNS_RUNTIME, DnsRuntime } from '../../src/dns/runtime.js';
import type { HostUpdateSink } from '../../src/cluster/host_update.js';
import { StatsRegistry } from '../../src/stats/store.js';
import { Dnsmasq, freeUdpPort, sleep } from '../support/dnsmasq.js';
import { dig } from '../support/dig.js';
import { meshYaml, serviceEntry, snapshotOf, translateYaml } from '../support/translate.js';

const NO_SINK: HostUpdateSink = { publishHosts: () => {}, forgetHosts: () => {} };
const many = (n: number, base: string) => Array.from({ length: n }, (_, i) => `${base}.${Math.floor(i / 250)}.${(i % 250) + 1}`);

const CONFIG =
  meshYaml({ ISTIO_META_DNS_CAPTURE: 'true', ISTIO_META_DNS_AUTO_ALLOCATE: 'true' }) +
  serviceEntry('ext', { hosts: ['address.internal'], addresses: ['198.51.100.1'], ports: [{ number: 80, name: 'http' }] }) +
  serviceEntry('auto', { hosts: ['auto.internal'], ports: [{ number: 80, name: 'http' }], resolution: 'STATIC', endpoints: [{ address: '198.51.100.2' }] }) +
  serviceEntry('mysql', { hosts: ['mysql.db.svc.cluster.local'], addresses: ['10.0.0.5'], ports: [{ number: 3306, name: 'tcp' }] }) +
  serviceEntry('big', { hosts: ['big.internal'], addresses: many(60, '10.20'), ports: [{ number: 80, name: 'tcp' }] });

/** The DNS runtime in-process with capture on, forwarding to a real dnsmasq; queried with real dig. */
async function setup(t: import('ava').ExecutionContext, upstreamUp = true) {
  if (!Dnsmasq.available()) throw new Error('dnsmasq is not installed: run scripts/install-test-deps.sh (Debian package dnsmasq-base)');
  const d = await new Dnsmasq({ localTtl: 30 }).start({ 'other.test': ['127.0.0.9'], 'many.test': many(60, '127.1') });
  t.teardown(() => d.close());
  const dir = mkdtempSync(join(tmpdir(), 'legate-resolv-'));
  writeFileSync(join(dir, 'resolv.conf'), 'nameserver 127.0.0.1\nsearch default.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n');
  const registry = new StatsRegistry({ slabs: 2, capacity: 4096 });
  const upstream = upstreamUp ? d.port : await freeUdpPort();
  const rt = new DnsRuntime(
    { ...DEFAULT_DNS_RUNTIME, port: 0, upstreams: [`127.0.0.1:${upstream}`], resolvConfPath: join(dir, 'resolv.conf'), resolver: { ...DEFAULT_DNS_RUNTIME.resolver, timeoutMs: 300 } },
    NO_SINK,
    { registry, writer: registry.mainWriter() },
  );
  const tr = translateYaml(CONFIG);
  const snap = snapshotOf(tr);
  t.teardown(() => rt.close());
  rt.onSnapshot(snap);
  t.true(await rt.start(snap));
  return { d, rt, port: rt.proxyPort!, nameTable: tr.nameTable, stat: (n: string) => registry.readByName(n) ?? NaN };
}

test('ServiceEntry addresses are answered locally and authoritatively, over UDP and TCP', async (t) => {
  const { d, port, stat } = await setup(t);
  for (const extra of [[], ['+tcp']]) {
    const r = await dig(port, 'address.internal', 'A', extra);
    t.is(r.status, 'NOERROR');
    t.deepEqual(r.answers, ['address.internal. A 198.51.100.1']);
    t.true(r.flags.includes('aa') && r.flags.includes('rd') && r.flags.includes('ra'), r.flags.join(' '));
  }
  // No IPv6 address configured: an empty NOERROR, not a forward.
  const aaaa = await dig(port, 'address.internal', 'AAAA');
  t.is(aaaa.status, 'NOERROR');
  t.deepEqual(aaaa.answers, []);
  t.is(d.queries(undefined, 'address.internal'), 0);
  t.is(stat('dns.proxy.answered_local'), 3);
});

test('auto-allocated VIPs, Kubernetes short forms and the search-path form are answered', async (t) => {
  const { port, nameTable } = await setup(t);
  const vip = nameTable['auto.internal'].ips[0];
  t.regex(vip, /^240\.240\./);
  t.deepEqual((await dig(port, 'auto.internal')).answers, [`auto.internal. A ${vip}`]);
  t.deepEqual((await dig(port, 'mysql.db')).answers, ['mysql.db. A 10.0.0.5']);
  t.deepEqual((await dig(port, 'mysql.db.svc', 'A', ['+tcp'])).answers, ['mysql.db.svc. A 10.0.0.5']);
  const viaSearch = await dig(port, 'address.internal.default.svc.cluster.local');
  t.deepEqual(viaSearch.answers, ['address.internal.default.svc.cluster.local. CNAME address.internal.', 'address.internal. A 198.51.100.1']);
});

test('other names are forwarded, cached (the server sees one query), and NXDOMAIN passes through', async (t) => {
  const { d, port, stat } = await setup(t);
  t.deepEqual((await dig(port, 'other.test')).answers, ['other.test. A 127.0.0.9']);
  const again = await dig(port, 'other.test');
  t.deepEqual(again.answers, ['other.test. A 127.0.0.9']);
  t.true(again.flags.includes('ra'));
  const nx = await dig(port, 'nothing.test');
  t.is(nx.status, 'NXDOMAIN');
  t.is((await dig(port, 'nothing.test', 'A', ['+tcp'])).status, 'NXDOMAIN');
  await sleep(100);
  t.is(d.queries('A', 'other.test'), 1);
  t.is(stat('dns.proxy.forwarded'), 2);
  t.is(stat('dns.proxy.cache_hits'), 2);
  t.is(stat('dns.proxy.nxdomain'), 2);
});

test('large answers: TC over UDP without EDNS, the client retries over TCP; EDNS size passes through', async (t) => {
  const { port, stat } = await setup(t);
  const truncated = await dig(port, 'big.internal', 'A', ['+noedns', '+ignore']);
  t.true(truncated.flags.includes('tc'), truncated.flags.join(' '));
  t.true(truncated.answers.length < 60);
  const retried = await dig(port, 'big.internal', 'A', ['+noedns']);
  t.is(retried.answers.length, 60, 'dig retried over TCP');
  const edns = await dig(port, 'big.internal', 'A', ['+bufsize=4096', '+ignore']);
  t.false(edns.flags.includes('tc'));
  t.is(edns.answers.length, 60);
  // Forwarded: the upstream truncates for the client's size, and the TC reaches the client.
  const fwd = await dig(port, 'many.test', 'A', ['+noedns', '+ignore']);
  t.true(fwd.flags.includes('tc'), fwd.flags.join(' '));
  t.is((await dig(port, 'many.test', 'A', ['+noedns'])).answers.length, 60);
  t.true(stat('dns.proxy.truncated') >= 1);
});

test('IDs are echoed; a garbage query gets FORMERR; an unreachable upstream gives SERVFAIL', async (t) => {
  const { port } = await setup(t);
  const s = createSocket('udp4');
  t.teardown(() => s.close());
  s.send(packet.encode({ type: 'query', id: 0xbeef, flags: packet.RECURSION_DESIRED, questions: [{ type: 'A', name: 'other.test' }] }), port, '127.0.0.1');
  const [msg] = (await once(s, 'message')) as [Buffer];
  const r = packet.decode(msg);
  t.is(r.id, 0xbeef);
  t.is((r.answers?.[0] as { data: string }).data, '127.0.0.9');
  s.send(Buffer.from([0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xff]), port, '127.0.0.1');
  const [bad] = (await once(s, 'message')) as [Buffer];
  t.is(bad.readUInt16BE(0), 0x1234);
  t.is(bad.readUInt16BE(2) & 0xf, 1, 'FORMERR');

  const down = await setup(t, false);
  const sf = await dig(down.port, 'other.test');
  t.is(sf.status, 'SERVFAIL');
  t.is(down.stat('dns.proxy.upstream_failures'), 1);
  t.deepEqual((await dig(down.port, 'address.internal')).answers, ['address.internal. A 198.51.100.1'], 'local names still answer');
});

test('/dns shows the name table, the answered forms and the caches', async (t) => {
  const { rt, port } = await setup(t);
  await dig(port, 'other.test');
  const v = rt.view() as { proxy: { names: Record<string, unknown>; nameTable: Record<string, unknown>; cache: { key: string }[] } };
  t.truthy(v.proxy.nameTable['auto.internal']);
  t.truthy(v.proxy.names['mysql.db']);
  t.true(v.proxy.cache.some((e) => e.key.startsWith('other.test|A|IN')));
});
