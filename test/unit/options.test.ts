import test from 'ava';
import { parseProxyOptions, PROXY_DEFAULTS } from '../../src/main/options.js';

test('defaults are Istio ports', (t) => {
  const o = parseProxyOptions(['--config', 'a.yaml'], {});
  t.is(o.outboundPort, 15001);
  t.is(o.inboundPort, 15006);
  t.is(o.adminPort, 15000);
  t.is(o.adminAddress, '127.0.0.1');
  t.is(o.readinessPort, 15021);
  t.is(o.prometheusPort, 15090);
  t.is(o.acceptMode, PROXY_DEFAULTS.acceptMode);
  t.deepEqual(o.config, ['a.yaml']);
});

test('flags accept both --flag value and --flag=value, and repeat --config', (t) => {
  const o = parseProxyOptions(['--config=a', '--config', 'b', '--concurrency=3', '--outbound-port', '25001', '--tproxy'], {});
  t.deepEqual(o.config, ['a', 'b']);
  t.is(o.concurrency, 3);
  t.is(o.outboundPort, 25001);
  t.true(o.transparent);
});

test('environment variables apply unless a flag is given', (t) => {
  const env = { LEGATE_CONCURRENCY: '4', LEGATE_ACCEPT_MODE: 'reuseport', LEGATE_CONFIG: 'x,y' };
  const o = parseProxyOptions(['--concurrency', '2'], env);
  t.is(o.concurrency, 2);
  t.is(o.acceptMode, 'reuseport');
  t.deepEqual(o.config, ['x', 'y']);
});

test('bad values name the flag', (t) => {
  t.throws(() => parseProxyOptions(['--outbound-port', '70000'], {}), { code: 'EOPTION', message: /--outbound-port: expected a port/ });
  t.throws(() => parseProxyOptions(['--concurrency', '0'], {}), { message: /--concurrency: expected a positive integer/ });
  t.throws(() => parseProxyOptions(['--accept-mode', 'magic'], {}), { message: /expected one of handoff, reuseport/ });
  t.throws(() => parseProxyOptions(['--bogus'], {}), { message: /unknown option --bogus/ });
  t.throws(() => parseProxyOptions(['--config'], {}), { message: /--config needs a value/ });
  t.throws(() => parseProxyOptions([], { LEGATE_ACCEPT_MODE: 'x' }), { message: /from LEGATE_ACCEPT_MODE/ });
});

test('proxy labels: k=v pairs from --proxy-labels or LEGATE_PROXY_LABELS', (t) => {
  t.is(parseProxyOptions([], {}).proxyLabels, undefined);
  t.deepEqual(parseProxyOptions(['--proxy-labels', 'app=ratings, version=v1'], {}).proxyLabels, { app: 'ratings', version: 'v1' });
  t.deepEqual(parseProxyOptions([], { LEGATE_PROXY_LABELS: 'istio=ingressgateway' }).proxyLabels, { istio: 'ingressgateway' });
  t.throws(() => parseProxyOptions(['--proxy-labels', 'app'], {}), { code: 'EOPTION', message: /--proxy-labels: expected k=v/ });
});

test('limits: --max-connections and the HCM timeouts (durations), off by default as in Istio', (t) => {
  const d = parseProxyOptions(['--config', 'a'], {});
  t.is(d.maxConnections, 0);
  t.is(d.streamIdleTimeoutMs, 0);
  t.is(d.requestHeadersTimeoutMs, 0);
  const o = parseProxyOptions(['--config', 'a', '--max-connections', '5000', '--stream-idle-timeout', '5m', '--request-headers-timeout=250ms'], {});
  t.is(o.maxConnections, 5000);
  t.is(o.streamIdleTimeoutMs, 300_000);
  t.is(o.requestHeadersTimeoutMs, 250);
  t.is(parseProxyOptions(['--config', 'a'], { LEGATE_REQUEST_HEADERS_TIMEOUT: '10s' }).requestHeadersTimeoutMs, 10_000);
  t.throws(() => parseProxyOptions(['--stream-idle-timeout', '5'], {}), { message: /--stream-idle-timeout: expected a duration/ });
  t.throws(() => parseProxyOptions(['--max-connections', '-1'], {}), { message: /--max-connections: expected a whole number/ });
});

test('--credential-dir (LEGATE_CREDENTIAL_DIR) says where Gateway credentialName secrets are, /etc/istio/credentials by default', (t) => {
  t.is(parseProxyOptions([], {}).credentialDir, '/etc/istio/credentials');
  t.is(parseProxyOptions(['--credential-dir', '/srv/creds'], {}).credentialDir, '/srv/creds');
  t.is(parseProxyOptions([], { LEGATE_CREDENTIAL_DIR: '/env/creds' }).credentialDir, '/env/creds');
});
