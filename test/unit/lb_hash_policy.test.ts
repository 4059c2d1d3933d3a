import test from 'ava';
import { requestHash, setCookieValue } from '../../src/filters/http/router/hash_policy.js';
import { hashToHex, xxHash64, combineHashes } from '../../src/cluster/lb/xxhash64.js';

const base = { headers: [] as string[], query: '', remoteAddress: '10.1.2.3:40000', localAddress: '10.0.0.5:80' };

test('header policy hashes the header value; absent header gives no key', (t) => {
  const r = requestHash([{ header: { headerName: 'x-user' } }], { ...base, headers: ['x-user', 'alice'] });
  t.deepEqual(r.hash, xxHash64('alice'));
  t.is(requestHash([{ header: { headerName: 'x-user' } }], base).hash, undefined);
});

test('source IP policy hashes the downstream address without its port (IPv4 and IPv6)', (t) => {
  t.deepEqual(requestHash([{ connectionProperties: { sourceIp: true } }], base).hash, xxHash64('10.1.2.3'));
  t.deepEqual(requestHash([{ connectionProperties: { sourceIp: true } }], { ...base, remoteAddress: 'fd00::1:40000' }).hash, xxHash64('fd00::1'));
});

test('query parameter policy hashes the decoded value of the first match', (t) => {
  const r = requestHash([{ queryParameter: { name: 'user id' } }], { ...base, query: 'a=1&user%20id=bob%2Fx&user%20id=eve' });
  t.deepEqual(r.hash, xxHash64('bob/x'));
  t.is(requestHash([{ queryParameter: { name: 'u' } }], { ...base, query: 'uu=1' }).hash, undefined);
});

test('cookie policy hashes the cookie; without it and with a ttl, Envoy generates one and returns Set-Cookie', (t) => {
  const policy = [{ cookie: { name: 'sticky', path: '/app', ttlMs: 3_600_000 } }];
  const present = requestHash(policy, { ...base, headers: ['cookie', 'a=b; sticky="v1"'] });
  t.deepEqual(present.hash, xxHash64('v1'));
  t.is(present.setCookie, undefined);
  const generated = requestHash(policy, base);
  const value = hashToHex(xxHash64(base.remoteAddress + base.localAddress));
  t.is(generated.setCookie, `sticky="${value}"; Max-Age=3600; Path=/app; HttpOnly`);
  // The next request carrying the generated cookie lands on the same key.
  t.deepEqual(generated.hash, xxHash64(value));
  t.deepEqual(requestHash(policy, { ...base, headers: ['cookie', `sticky=${value}`] }).hash, generated.hash);
  // No ttl: no cookie is made and the key is absent.
  t.deepEqual(requestHash([{ cookie: { name: 'sticky' } }], base), { hash: undefined });
  t.is(setCookieValue('s', 'v', undefined, 0), 's="v"; HttpOnly');
});

test('several policies combine as Envoy does', (t) => {
  const r = requestHash([{ header: { headerName: 'a' } }, { header: { headerName: 'b' } }], { ...base, headers: ['a', '1', 'b', '2'] });
  t.deepEqual(r.hash, combineHashes(xxHash64('1'), xxHash64('2')));
});
