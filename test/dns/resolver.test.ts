import test from 'ava';
import { CachingResolver, DEFAULT_RESOLVER_OPTIONS } from '../../src/dns/resolver.js';
import { DEFAULT_CACHE_LIMITS } from '../../src/dns/cache.js';
import { Dnsmasq, sleep } from '../support/dnsmasq.js';

/** The resolver against a real dnsmasq on loopback; query counts come from dnsmasq's own log. */
async function server(t: import('ava').ExecutionContext, localTtl: number, hosts: Record<string, string[]>) {
  if (!Dnsmasq.available()) throw new Error('dnsmasq is not installed: run scripts/install-test-deps.sh (Debian package dnsmasq-base)');
  const d = await new Dnsmasq({ localTtl }).start(hosts);
  t.teardown(() => d.close());
  return d;
}

function resolverFor(port: number, overrides: Partial<typeof DEFAULT_RESOLVER_OPTIONS> = {}) {
  return new CachingResolver({ ...DEFAULT_RESOLVER_OPTIONS, servers: [`127.0.0.1:${port}`], ...overrides });
}

test('a cache hit does not reach the server; concurrent identical lookups become one query', async (t) => {
  const d = await server(t, 60, { 'a.test': ['127.0.0.11', '127.0.0.12'] });
  const r = resolverFor(d.port);
  const first = await r.resolve('a.test');
  t.deepEqual(first.addresses.map((a) => a.address).sort(), ['127.0.0.11', '127.0.0.12']);
  t.false(first.fromCache);
  t.true(first.ttlSec > 50 && first.ttlSec <= 60);
  for (let i = 0; i < 20; i++) t.true((await r.resolve('A.TEST.')).fromCache);
  t.deepEqual(r.peek('a.test', 'A')?.slice().sort(), ['127.0.0.11', '127.0.0.12']);
  await Promise.all(Array.from({ length: 25 }, () => r.resolve('b.test')));
  await sleep(100);
  t.is(d.queries('A', 'a.test'), 1);
  t.is(d.queries('A', 'b.test'), 1);
});

test('an entry expires at the record TTL and the next lookup asks again', async (t) => {
  const d = await server(t, 1, { 'ttl.test': ['127.0.0.21'] });
  const r = resolverFor(d.port);
  await r.resolve('ttl.test');
  await r.resolve('ttl.test');
  t.is(d.queries('A', 'ttl.test'), 1);
  d.setHosts({ 'ttl.test': ['127.0.0.22'] });
  await sleep(1200);
  const again = await r.resolve('ttl.test');
  t.false(again.fromCache);
  t.deepEqual(again.addresses, [{ address: '127.0.0.22', family: 4 }]);
  t.is(d.queries('A', 'ttl.test'), 2);
});

test('TTLs are clamped to the configured bounds, and NXDOMAIN is cached as a negative answer', async (t) => {
  const d = await server(t, 600, { 'long.test': ['127.0.0.31'] });
  const r = resolverFor(d.port, { cache: { ...DEFAULT_CACHE_LIMITS, maxTtlSec: 30, negativeTtlSec: 10 } });
  t.is((await r.resolve('long.test')).ttlSec, 30);
  const nx = await r.resolve('missing.test');
  t.deepEqual(nx.addresses, []);
  t.is(nx.ttlSec, 10);
  const again = await r.resolve('missing.test');
  t.true(again.fromCache);
  t.is(d.queries('A', 'missing.test'), 1);
});

test('the cache is bounded by entries (least recently used goes first)', async (t) => {
  const d = await server(t, 60, { 'x1.test': ['127.0.0.1'], 'x2.test': ['127.0.0.2'], 'x3.test': ['127.0.0.3'] });
  const r = resolverFor(d.port, { cache: { ...DEFAULT_CACHE_LIMITS, maxEntries: 2 } });
  await r.resolve('x1.test');
  await r.resolve('x2.test');
  await r.resolve('x1.test');
  await r.resolve('x3.test');
  t.is(r.cache.size, 2);
  t.truthy(r.peek('x1.test', 'A'));
  t.falsy(r.peek('x2.test', 'A'));
});

test("Envoy's lookup families", async (t) => {
  const d = await server(t, 60, { 'dual.test': ['127.0.0.41', '::1'], 'v6.test': ['::2'], 'v4.test': ['127.0.0.42'] });
  const r = resolverFor(d.port);
  const addrs = async (name: string, fam: Parameters<typeof r.resolve>[1]) => (await r.resolve(name, fam, { fresh: true })).addresses.map((a) => a.address);
  t.deepEqual(await addrs('dual.test', 'V4_ONLY'), ['127.0.0.41']);
  t.deepEqual(await addrs('dual.test', 'V6_ONLY'), ['::1']);
  t.deepEqual(await addrs('dual.test', 'ALL'), ['127.0.0.41', '::1']);
  t.deepEqual(await addrs('dual.test', 'AUTO'), ['::1'], 'AUTO prefers IPv6');
  t.deepEqual(await addrs('dual.test', 'V4_PREFERRED'), ['127.0.0.41']);
  t.deepEqual(await addrs('v6.test', 'V4_PREFERRED'), ['::2'], 'falls back to AAAA');
  t.deepEqual(await addrs('v4.test', 'AUTO'), ['127.0.0.42'], 'falls back to A');
  t.deepEqual(await addrs('v4.test', 'V6_ONLY'), []);
});

test('a server that does not answer fails the lookup after timeout × tries, not later', async (t) => {
  const d = await server(t, 60, {});
  await d.stop();
  // A UDP port with nothing behind it: c-ares sees ECONNREFUSED or times out, depending on ICMP.
  const r = resolverFor(d.port, { timeoutMs: 150, tries: 2 });
  const started = Date.now();
  const err = await t.throwsAsync(r.resolve('down.test'));
  t.regex(String((err as { code?: string }).code), /^(ETIMEOUT|ECONNREFUSED|ESERVFAIL)$/);
  t.true(Date.now() - started < 3000);
});
