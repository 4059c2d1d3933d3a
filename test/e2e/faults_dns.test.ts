/**
 * Faults survived: the DNS server goes away (issue 10, item 3). A STRICT_DNS ServiceEntry whose
 * endpoint name resolves through a real dnsmasq on the remote host, the pod's DNS captured by the
 * proxy. Under continuous HTTP traffic dnsmasq is killed: the cluster keeps its last hosts
 * (Envoy keeps them on a failed refresh), traffic goes on with nothing lost, the mesh's own names
 * keep being answered by the proxy, and a name only dnsmasq knew gets a quick SERVFAIL, not a hang.
 */
import test from 'ava';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  APP_UID, eventually, httpLoad, meshConfigMap, Pod, recordFaultCounts, RemoteHost, serviceEntry, sleep,
} from './harness/index.js';

const HOST = 'api.mesh.internal';
const VIP = '240.240.7.10';
const UPSTREAM = 8080;
const CLUSTER = `outbound|80||${HOST}`;

test('fault: DNS server goes away — STRICT_DNS keeps its last hosts, mesh names still answered, nothing lost', async (t) => {
  const remote = await RemoteHost.create(t);
  const pod = await Pod.create(t, { remote, capture: { extraArgs: ['--dns-capture'] } });
  const api = await remote.httpServer(UPSTREAM, 'api');

  const dir = mkdtempSync(join(tmpdir(), 'legate-e2e-dnsmasq-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  chmodSync(dir, 0o755);
  writeFileSync(join(dir, 'hosts'), `${remote.ip} api-backend.test\n${remote.ip} other.test\n`);
  // A 1 s TTL: the cluster refreshes every second (Istio respects DNS TTLs), so failures come fast.
  const dnsmasq = remote.ns.spawn(
    ['dnsmasq', '--no-daemon', '--port=53', `--listen-address=${remote.ip}`, '--bind-interfaces', '--no-resolv', '--no-hosts', `--hostsdir=${dir}`,
      '--local=/test/', '--local-ttl=1', '--user=root', '--pid-file=', '--log-facility=-'],
    { label: 'remote:dnsmasq' },
  );
  await eventually('dnsmasq answering', async () => {
    const r = await remote.ns.exec(['dig', '+short', '+tries=1', '+time=1', `@${remote.ip}`, 'other.test'], { check: false });
    return r.stdout.trim() === remote.ip ? true : undefined;
  });

  pod.writeConfig(
    meshConfigMap({ extra: 'defaultConfig:\n  proxyMetadata:\n    ISTIO_META_DNS_CAPTURE: "true"' }),
    serviceEntry({
      name: 'api', hosts: [HOST], addresses: [VIP], resolution: 'DNS',
      ports: [{ number: 80, name: 'http', protocol: 'HTTP' }],
      endpoints: [{ address: 'api-backend.test', ports: { http: UPSTREAM } }],
    }),
  );
  await pod.startProxy({ concurrency: 1, args: ['--dns-upstream', `${remote.ip}:53`] });
  await pod.waitForStat(`cluster.${CLUSTER}.membership_total`, 1);

  const dig = async (name: string) => {
    const started = Date.now();
    const r = await pod.ns.exec(['dig', '+tries=1', '+time=3', `@${remote.ip}`, name], { uid: APP_UID, check: false });
    return { out: r.stdout, ms: Date.now() - started };
  };
  t.regex((await dig(HOST)).out, new RegExp(`${HOST.replace(/\./g, '\\.')}\\.\\s+\\d+\\s+IN\\s+A\\s+${VIP.replace(/\./g, '\\.')}`));

  const load = await httpLoad(pod.ns, { url: `http://${VIP}/`, host: HOST, parallel: 4, pauseMaxMs: 5 });
  await sleep(300);
  await dnsmasq.stop('SIGKILL', 5000);
  const failuresBefore = await pod.stat(`cluster.${CLUSTER}.update_failure`);
  // Refreshes keep failing while traffic flows.
  await pod.waitForStat(`cluster.${CLUSTER}.update_failure`, failuresBefore + 2, 15_000, 0);
  const s = await load.stop();
  recordFaultCounts(t, 'dns-server-gone', { sent: s.sent, lost: s.sent - s.ok, statuses: s.statuses, errors: s.errors });
  t.is(s.sent - s.ok, 0, JSON.stringify(s));
  t.true(s.sent >= 10, 'traffic flowed during the fault');
  t.is(await pod.stat(`cluster.${CLUSTER}.membership_total`), 1, 'the last resolved host is kept');
  t.true(api.requests().length >= s.sent);

  // The proxy's own names need no upstream; other names fail fast.
  const mesh = await dig(HOST);
  t.regex(mesh.out, /status: NOERROR/);
  t.regex(mesh.out, new RegExp(VIP.replace(/\./g, '\\.')));
  const gone = await dig('other.test');
  t.regex(gone.out, /status: SERVFAIL/);
  t.true(gone.ms < 3000, `SERVFAIL took ${gone.ms} ms`);
});
