import test from 'ava';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Dnsmasq, freeUdpPort, sleep } from '../support/dnsmasq.js';
import { dig } from '../support/dig.js';
import { startProxy } from '../support/proxy.js';
import { serviceEntry } from '../support/translate.js';

/** The real `legate proxy sidecar` process with DNS capture from the environment, as Istio injects it. */
test('the sidecar serves DNS on --dns-port when ISTIO_META_DNS_CAPTURE is set, and shows it on /dns and /stats', async (t) => {
  if (!Dnsmasq.available()) throw new Error('dnsmasq is not installed: run scripts/install-test-deps.sh (Debian package dnsmasq-base)');
  const d = await new Dnsmasq({ localTtl: 30 }).start({ 'db.test': ['127.0.0.3'], 'other.test': ['127.0.0.9'] });
  t.teardown(() => d.close());
  const dir = mkdtempSync(join(tmpdir(), 'legate-sidecar-dns-'));
  writeFileSync(
    join(dir, 'config.yaml'),
    serviceEntry('db', { hosts: ['db.test'], ports: [{ number: 3306, name: 'tcp', protocol: 'TCP' }], resolution: 'DNS' }) +
      serviceEntry('ext', { hosts: ['address.internal'], addresses: ['198.51.100.1'], ports: [{ number: 80, name: 'tcp' }] }),
  );
  const dnsPort = await freeUdpPort();
  const proxy = await startProxy('sidecar', [join(dir, 'config.yaml')], {
    concurrency: 1,
    args: ['--dns-port', String(dnsPort)],
    env: { ISTIO_META_DNS_CAPTURE: 'true', ISTIO_META_DNS_AUTO_ALLOCATE: 'true', LEGATE_DNS_UPSTREAM: `127.0.0.1:${d.port}` },
  });
  t.teardown(() => proxy.stop());
  const ports = { ...proxy.ports, dns: dnsPort };
  const admin = (path: string) => fetch(`http://127.0.0.1:${ports.admin}${path}`).then((r) => r.text());
  let up = false;
  for (let i = 0; i < 100 && !up; i++) {
    up = await admin('/ready').then((b) => b.startsWith('LIVE'), () => false);
    if (!up) await sleep(50);
  }
  t.true(up, proxy.log());
  t.deepEqual((await dig(ports.dns, 'address.internal')).answers, ['address.internal. A 198.51.100.1']);
  const vip = (await dig(ports.dns, 'db.test', 'A', ['+tcp'])).answers[0];
  t.regex(vip, /^db\.test\. A 240\.240\.\d+\.\d+$/);
  t.deepEqual((await dig(ports.dns, 'other.test')).answers, ['other.test. A 127.0.0.9']);
  const view = JSON.parse(await admin('/dns'));
  t.truthy(view.proxy.nameTable['db.test'].autoAllocated);
  let cluster: { hosts: string[] } | undefined;
  for (let i = 0; i < 40 && !cluster?.hosts.length; i++) {
    cluster = JSON.parse(await admin('/dns')).clusters['outbound|3306||db.test'];
    if (!cluster?.hosts.length) await sleep(50);
  }
  t.deepEqual(cluster?.hosts, ['127.0.0.3:3306']);
  const stats = await admin('/stats');
  t.regex(stats, /^dns\.proxy\.queries: 3$/m);
  t.regex(stats, /^cluster\.outbound\|3306\|\|db\.test\.update_success: [1-9]/m);
  t.regex(await admin('/listeners'), new RegExp(`^${vip.split(' ')[2].replace(/\./g, '\\.')}_3306::`, 'm'));
  const prom = await fetch(`http://127.0.0.1:${ports.prometheus}/stats/prometheus`).then((r) => r.text());
  t.regex(prom, /^istio_agent_dns_requests_total 3$/m);
});
