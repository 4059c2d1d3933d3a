/**
 * End-to-end DNS capture (issue 6): a pod captured with `legate iptables --dns-capture`, the
 * proxy as uid 1337 with ISTIO_META_DNS_CAPTURE / _AUTO_ALLOCATE, and a real dnsmasq on the
 * remote host as the pod's upstream resolver. The app (uid 1000) resolves two TCP
 * ServiceEntries that share port 3306 through the captured DNS, gets two auto-allocated VIPs,
 * and each VIP:3306 reaches its own backend; other names still resolve through to dnsmasq.
 */
import test from 'ava';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { APP_UID, DIGEST_PORT, ECHO_PORT, eventually, meshConfigMap, Pod, RemoteHost, serviceEntry, tcpClient } from './harness/index.js';

const db = (name: string, targetPort: number) =>
  serviceEntry({ name, hosts: [`${name}.test`], ports: [{ number: 3306, name: 'tcp', protocol: 'TCP', targetPort }], resolution: 'DNS' });

test('two TCP ServiceEntries on 3306 resolve through the captured DNS to two VIPs, each reaching its own backend', async (t) => {
  const remote = await RemoteHost.create(t);
  const pod = await Pod.create(t, { remote, capture: { extraArgs: ['--dns-capture'] } });
  const tcp = await remote.tcpServer([
    { port: ECHO_PORT, mode: 'echo' },
    { port: DIGEST_PORT, mode: 'digest' },
  ]);

  // The pod's upstream resolver: dnsmasq on the remote host, port 53.
  const dir = mkdtempSync(join(tmpdir(), 'legate-e2e-dnsmasq-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  chmodSync(dir, 0o755);
  writeFileSync(join(dir, 'hosts'), `${remote.ip} db-a.test\n${remote.ip} db-b.test\n${remote.ip} other.test\n`);
  remote.ns.spawn(
    ['dnsmasq', '--no-daemon', '--port=53', `--listen-address=${remote.ip}`, '--bind-interfaces', '--no-resolv', '--no-hosts', `--hostsdir=${dir}`,
      '--local=/test/', '--local-ttl=5', '--user=root', '--pid-file=', '--log-queries', '--log-facility=-'],
    { label: 'remote:dnsmasq' },
  );
  await eventually('dnsmasq answering', async () => {
    const r = await remote.ns.exec(['dig', '+short', '+tries=1', '+time=1', `@${remote.ip}`, 'other.test'], { check: false });
    return r.stdout.trim() === remote.ip ? true : undefined;
  });

  pod.writeConfig(
    meshConfigMap({ extra: 'defaultConfig:\n  proxyMetadata:\n    ISTIO_META_DNS_CAPTURE: "true"\n    ISTIO_META_DNS_AUTO_ALLOCATE: "true"' }),
    db('db-a', ECHO_PORT),
    db('db-b', DIGEST_PORT),
  );
  await pod.startProxy({ args: ['--dns-upstream', `${remote.ip}:53`] });
  // The STRICT_DNS clusters resolve on the proxy's main thread (its own queries are not captured).
  await pod.waitForStat('cluster.outbound|3306||db-a.test.membership_total', 1);
  await pod.waitForStat('cluster.outbound|3306||db-b.test.membership_total', 1);

  // The app asks the resolver it knows; iptables sends the query to the proxy on 15053.
  const resolve = async (name: string, extra: string[] = []) =>
    (await pod.ns.exec(['dig', '+tries=1', '+time=3', `@${remote.ip}`, name, ...extra], { uid: APP_UID })).stdout;
  const short = async (name: string, extra: string[] = []) => (await resolve(name, ['+short', ...extra])).trim();
  const vipA = await short('db-a.test');
  const vipB = await short('db-b.test', ['+tcp']);
  t.regex(vipA, /^240\.240\.\d+\.\d+$/);
  t.regex(vipB, /^240\.240\.\d+\.\d+$/);
  t.not(vipA, vipB);
  t.regex(await resolve('db-a.test'), /flags: qr aa rd ra/, 'answered by the proxy itself');

  // Same port, different VIPs, different backends: echo behind db-a, digest behind db-b.
  const a = await tcpClient(pod.ns, { host: vipA, port: 3306, send: 4096 });
  t.true(a.connected, JSON.stringify(a));
  t.is(a.rx, 4096);
  t.is(a.rxSha256, a.sentSha256);
  const b = await tcpClient(pod.ns, { host: vipB, port: 3306, send: 4096 });
  t.is((JSON.parse(b.rxHead) as { sha256: string }).sha256, b.sentSha256);
  t.is(tcp.accepts(ECHO_PORT).length, 1);
  t.is(tcp.accepts(DIGEST_PORT).length, 1);
  t.is(await pod.waitForStat('cluster.outbound|3306||db-a.test.upstream_cx_total', 1), 1);
  t.is(await pod.waitForStat('cluster.outbound|3306||db-b.test.upstream_cx_total', 1), 1);

  // Names the mesh does not know go through to dnsmasq; unknown ones are NXDOMAIN.
  t.is(await short('other.test'), remote.ip);
  t.regex(await resolve('nothing.test'), /status: NXDOMAIN/);
  t.true((await pod.stat('dns.proxy.answered_local')) >= 3);
  t.true((await pod.stat('dns.proxy.forwarded')) >= 2);
});
