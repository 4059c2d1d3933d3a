import test from 'ava';
import { NameLookup } from '../../src/dns/name_lookup.js';
import { parseResolvConf, parseServer } from '../../src/dns/resolv_conf.js';

const table = {
  'mysql.db.svc.cluster.local': { ips: ['10.0.0.5'], namespace: 'db' },
  'api.default.svc.cluster.local': { ips: ['10.0.0.6', 'fd00::6'], namespace: 'default' },
  'address.internal': { ips: ['198.51.100.1'], namespace: 'default' },
};
const lookup = new NameLookup(table, { search: ['default.svc.cluster.local', 'svc.cluster.local', 'cluster.local'], namespace: 'default', clusterDomain: 'cluster.local' });

test('hosts are answered as written, with v4 and v6 apart', (t) => {
  t.deepEqual(lookup.lookup('address.internal'), { host: 'address.internal', v4: ['198.51.100.1'], v6: [], viaSearch: false, alias: 'address.internal' });
  const api = lookup.lookup('api.default.svc.cluster.local')!;
  t.deepEqual([api.v4, api.v6], [['10.0.0.6'], ['fd00::6']]);
  t.is(lookup.lookup('unknown.example.com'), undefined);
});

test('Kubernetes-style hosts also answer <name>.<ns>, <name>.<ns>.svc, and <name> in the own namespace', (t) => {
  t.is(lookup.lookup('mysql.db')?.host, 'mysql.db.svc.cluster.local');
  t.is(lookup.lookup('mysql.db.svc')?.host, 'mysql.db.svc.cluster.local');
  t.is(lookup.lookup('mysql'), undefined, 'another namespace: no bare name');
  t.is(lookup.lookup('api')?.host, 'api.default.svc.cluster.local');
});

test('a name with the first search domain appended is answered via CNAME to the name', (t) => {
  const hit = lookup.lookup('address.internal.default.svc.cluster.local')!;
  t.true(hit.viaSearch);
  t.is(hit.alias, 'address.internal');
  t.is(lookup.lookup('mysql.db.default.svc.cluster.local')?.alias, 'mysql.db');
  // Only the first search domain, as Istio's agent: resolvers try it first.
  t.is(lookup.lookup('address.internal.cluster.local'), undefined);
});

test('resolv.conf: nameservers, the last search line, ndots; server strings', (t) => {
  const c = parseResolvConf('# comment\nnameserver 10.96.0.10\nnameserver fd00::10\nsearch a.svc.cluster.local svc.cluster.local\noptions ndots:5 timeout:1\n');
  t.deepEqual(c, { nameservers: ['10.96.0.10:53', '[fd00::10]:53'], search: ['a.svc.cluster.local', 'svc.cluster.local'], ndots: 5 });
  t.deepEqual(parseServer('127.0.0.1:5353'), { address: '127.0.0.1', port: 5353 });
  t.deepEqual(parseServer('[::1]:53'), { address: '::1', port: 53 });
  t.deepEqual(parseServer('::1'), { address: '::1', port: 53 });
  t.throws(() => parseServer('dns.example.com:53'));
});
