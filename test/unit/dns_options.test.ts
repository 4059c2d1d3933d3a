import test from 'ava';
import { parseProxyOptions } from '../../src/main/options.js';
import { dnsFlags } from '../../src/dns/settings.js';

test('DNS flags: defaults, flags, Istio environment variables, repeatable upstreams', (t) => {
  const d = parseProxyOptions(['--config', 'x'], {});
  t.is(d.dnsPort, 15053);
  t.is(d.dnsAddress, '127.0.0.1');
  t.deepEqual(d.dnsUpstream, []);
  t.is(d.dnsCapture, undefined, 'unset: the mesh proxyMetadata decides');
  const f = parseProxyOptions(['--config', 'x', '--dns-capture', '--dns-port', '5353', '--dns-upstream', '127.0.0.1:53', '--dns-upstream=10.0.0.1'], {});
  t.true(f.dnsCapture);
  t.is(f.dnsPort, 5353);
  t.deepEqual(f.dnsUpstream, ['127.0.0.1:53', '10.0.0.1']);
  t.deepEqual(f.config, ['x']);
  const e = parseProxyOptions([], { LEGATE_CONFIG: 'a', ISTIO_META_DNS_CAPTURE: 'true', ISTIO_META_DNS_AUTO_ALLOCATE: 'false', LEGATE_DNS_UPSTREAM: '1.1.1.1,8.8.8.8:53', POD_NAMESPACE: 'shop' });
  t.true(e.dnsCapture);
  t.false(e.dnsAutoAllocate);
  t.deepEqual(e.dnsUpstream, ['1.1.1.1', '8.8.8.8:53']);
  t.is(e.podNamespace, 'shop');
});

test('capture and auto-allocation: the environment wins over proxyMetadata; allocation needs capture', (t) => {
  const meta = { ISTIO_META_DNS_CAPTURE: 'true', ISTIO_META_DNS_AUTO_ALLOCATE: 'true' };
  t.deepEqual(dnsFlags(meta, {}), { capture: true, autoAllocate: true });
  t.deepEqual(dnsFlags(meta, { dnsCapture: false }), { capture: false, autoAllocate: false });
  t.deepEqual(dnsFlags({}, { dnsAutoAllocate: true }), { capture: false, autoAllocate: false });
  t.deepEqual(dnsFlags({ ISTIO_META_DNS_CAPTURE: 'True' }, {}), { capture: true, autoAllocate: false });
});
