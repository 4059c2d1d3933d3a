/**
 * `legate iptables` for real, as root, in throwaway network namespaces: the rules land in
 * the kernel, capture the traffic Istio's would, and go away again with --clean.
 */
import test, { type ExecutionContext } from 'ava';
import { DNS_SERVER, LEGATE, Netns, podAndPeer, requireRootAndTools, TCP_CLIENT, TCP_SERVERS, UDP_CLIENT, type Out } from './iptables_netns.js';

const PROXY_UID = 1337;

function ok(t: ExecutionContext, r: Out, what: string): void {
  t.is(r.code, 0, `${what}: exit ${r.code}\n${r.stderr}`);
}

const count = (text: string, line: string): number => text.split('\n').filter((l) => l === line).length;

test('apply, re-apply without duplicates, clean, clean again; rules of others are kept', async (t) => {
  if (!(await requireRootAndTools(t))) return;
  const ns = await Netns.create(t);
  // Someone else's rules, in the tables we write to and in one we do not.
  await ns.must('iptables', ['-t', 'nat', '-A', 'POSTROUTING', '-o', 'lo', '-j', 'ACCEPT']);
  await ns.must('iptables', ['-t', 'filter', '-A', 'INPUT', '-p', 'tcp', '--dport', '9', '-j', 'ACCEPT']);

  ok(t, await ns.legate(), 'apply');
  ok(t, await ns.legate(), 're-apply');
  const nat = await ns.must('iptables-save', ['-t', 'nat']);
  for (const chain of ['ISTIO_INBOUND', 'ISTIO_IN_REDIRECT', 'ISTIO_OUTPUT', 'ISTIO_REDIRECT']) t.regex(nat, new RegExp(`^:${chain} - `, 'm'), chain);
  t.is(count(nat, '-A PREROUTING -p tcp -j ISTIO_INBOUND'), 1, 'one jump after two applies');
  t.is(count(nat, '-A OUTPUT -j ISTIO_OUTPUT'), 1);
  t.is(count(nat, '-A ISTIO_OUTPUT -s 127.0.0.6/32 -o lo -j RETURN'), 1);
  t.is(count(nat, '-A ISTIO_OUTPUT -m owner --uid-owner 1337 -j RETURN'), 1);
  t.is(count(nat, '-A ISTIO_INBOUND -p tcp -m multiport --dports 15090,15021,15020 -j RETURN'), 1);
  t.is(count(nat, '-A POSTROUTING -o lo -j ACCEPT'), 1, 'foreign nat rule kept');

  const cleaned = await ns.legate('--clean');
  ok(t, cleaned, 'clean');
  const after = await ns.must('iptables-save', []);
  t.false(after.includes('ISTIO'), after);
  t.true(after.includes('-A POSTROUTING -o lo -j ACCEPT'), 'foreign nat rule kept');
  t.true(after.includes('-A INPUT -p tcp -m tcp --dport 9 -j ACCEPT'), 'foreign filter rule kept');
  ok(t, await ns.legate('--clean'), 'clean again');
  t.false((await ns.must('iptables-save', [])).includes('ISTIO'));
});

test('TPROXY: mangle chains, marks and policy route; switching to REDIRECT and cleaning remove them', async (t) => {
  if (!(await requireRootAndTools(t))) return;
  const ns = await Netns.create(t);
  ok(t, await ns.legate('-m', 'TPROXY', '--dns-capture'), 'apply TPROXY');
  const mangle = await ns.must('iptables-save', ['-t', 'mangle']);
  for (const chain of ['ISTIO_DIVERT', 'ISTIO_TPROXY', 'ISTIO_INBOUND']) t.regex(mangle, new RegExp(`^:${chain} - `, 'm'), chain);
  t.regex(mangle, /^-A ISTIO_TPROXY ! -d 127\.0\.0\.1\/32 -p tcp -j TPROXY --on-port 15006 .*--tproxy-mark 0x539\/0xffffffff$/m);
  t.regex(mangle, /^-A OUTPUT -p tcp -m connmark --mark 0x539 -j CONNMARK --restore-mark/m);
  t.regex(await ns.must('iptables-save', ['-t', 'raw']), /^:ISTIO_OUTPUT_DNS - /m);
  t.regex(await ns.must('ip', ['rule', 'list']), /fwmark 0x539 lookup 133/);
  t.regex(await ns.must('ip', ['route', 'show', 'table', '133']), /^local default dev lo/m);
  ok(t, await ns.legate('-m', 'TPROXY', '--dns-capture'), 're-apply TPROXY');
  t.is((await ns.must('ip', ['rule', 'list', 'fwmark', '1337', 'lookup', '133'])).trim().split('\n').length, 1, 'one policy rule');

  ok(t, await ns.legate('-m', 'REDIRECT'), 'switch to REDIRECT');
  t.false(/ISTIO|MARK/.test(await ns.must('iptables-save', ['-t', 'mangle'])), 'mangle chains and marks gone');
  t.false((await ns.must('iptables-save', ['-t', 'raw'])).includes('ISTIO'), 'DNS chains gone');
  t.regex(await ns.must('iptables-save', ['-t', 'nat']), /^:ISTIO_IN_REDIRECT - /m);

  ok(t, await ns.legate('-m', 'TPROXY'), 'back to TPROXY');
  ok(t, await ns.legate('--clean'), 'clean');
  const clean = await ns.must('iptables-save', []);
  t.false(/ISTIO|MARK|TPROXY/.test(clean), clean);
  t.false((await ns.must('ip', ['rule', 'list'])).includes('lookup 133'));
  t.is((await ns.must('ip', ['route', 'show', 'table', '133'])).trim(), '');
  ok(t, await ns.legate('--clean', '-m', 'TPROXY'), 'clean again');
});

test('--ipv6 writes and cleans ip6tables too', async (t) => {
  if (!(await requireRootAndTools(t))) return;
  const ns = await Netns.create(t);
  ok(t, await ns.legate('--ipv6', '-x', 'fd00::/8'), 'apply');
  const v6 = await ns.must('ip6tables-save', ['-t', 'nat']);
  t.regex(v6, /^-A ISTIO_OUTPUT -s ::6\/128 -o lo -j RETURN$/m);
  t.regex(v6, /^-A ISTIO_OUTPUT -d fd00::\/8 -j RETURN$/m);
  t.regex(await ns.must('ip', ['-6', 'addr', 'show', 'dev', 'lo']), /inet6 ::6\/128/);
  ok(t, await ns.legate('--ipv6'), 're-apply');
  ok(t, await ns.legate('--clean'), 'clean');
  t.false((await ns.must('ip6tables-save', [])).includes('ISTIO'));
  t.false((await ns.must('iptables-save', [])).includes('ISTIO'));
});

test('traffic: inbound and outbound are captured, exclusions and the proxy uid are not', async (t) => {
  if (!(await requireRootAndTools(t))) return;
  const { pod, peer } = await podAndPeer(t);
  await pod.serve(TCP_SERVERS, [JSON.stringify([[15001, 'outbound'], [15006, 'inbound'], [15021, 'readiness']])]);
  await peer.serve(TCP_SERVERS, [JSON.stringify([[80, 'peer-80'], [8080, 'peer-8080']])]);
  const fromPeer = async (port: number) => (await peer.node(TCP_CLIENT, ['10.99.0.1', String(port)])).stdout.trim();
  const fromPod = async (host: string, port: number, uid?: number) => (await pod.node(TCP_CLIENT, [host, String(port)], uid)).stdout.trim();

  ok(t, await pod.legate(), 'apply defaults');
  t.is(await fromPeer(8080), 'inbound', 'inbound to an app port goes to 15006');
  t.is(await fromPeer(15021), 'readiness', 'excluded inbound port is not captured');
  t.is(await fromPod('10.99.0.2', 80), 'outbound', 'app outbound goes to 15001');
  t.is(await fromPod('10.99.0.2', 80, PROXY_UID), 'peer-80', 'the proxy (uid 1337) is not captured');
  t.is(await fromPod('127.0.0.1', 15021), 'readiness', 'localhost is not captured');

  ok(t, await pod.legate('-x', '10.99.0.2/32', '-b', '9090'), 'apply -x -b');
  t.is(await fromPod('10.99.0.2', 80), 'peer-80', 'excluded CIDR is not captured');
  t.is(await fromPeer(8080), 'ERR ECONNREFUSED', 'port not in -b is not captured');

  ok(t, await pod.legate('-i', '', '-q', '8080'), 'apply -i "" -q 8080');
  t.is(await fromPod('10.99.0.2', 8080), 'outbound', '-q port captured without any -i range');
  t.is(await fromPod('10.99.0.2', 80), 'peer-80', 'other ports not captured');

  ok(t, await pod.legate('-o', '80'), 'apply -o 80');
  t.is(await fromPod('10.99.0.2', 80), 'peer-80', '-o port not captured');
  t.is(await fromPod('10.99.0.2', 8080), 'outbound');

  ok(t, await pod.legate('--clean'), 'clean');
  t.is(await fromPod('10.99.0.2', 8080), 'peer-8080', 'nothing captured after --clean');
  t.is(await fromPeer(15006), 'inbound', 'direct connections still work');
});

test('traffic: --dns-capture sends app DNS (UDP and TCP) to 15053, not the proxy’s own', async (t) => {
  if (!(await requireRootAndTools(t))) return;
  const { pod, peer } = await podAndPeer(t);
  // The DNS proxy runs as the proxy user, as in a pod; its replies use the CT zone rules.
  await pod.serve(DNS_SERVER, ['127.0.0.1', '15053', 'dns-proxy'], PROXY_UID);
  await peer.serve(DNS_SERVER, ['0.0.0.0', '53', 'resolver']);
  const query = async (client: string, uid?: number) => (await pod.node(client, ['10.99.0.2', '53'], uid)).stdout.trim();

  t.is(await query(UDP_CLIENT), 'resolver', 'before: straight to the resolver');
  ok(t, await pod.legate('--dns-capture'), 'apply --dns-capture');
  t.is(await query(UDP_CLIENT), 'dns-proxy', 'app UDP DNS captured');
  t.is(await query(TCP_CLIENT), 'dns-proxy', 'app TCP DNS captured');
  t.is(await query(UDP_CLIENT, PROXY_UID), 'resolver', 'proxy UDP DNS not captured');
  t.is(await query(TCP_CLIENT, PROXY_UID), 'resolver', 'proxy TCP DNS not captured');

  ok(t, await pod.legate(), 'apply without --dns-capture');
  t.is(await query(UDP_CLIENT), 'resolver', 'DNS capture removed by re-apply');
});

test('without root: exit 1 and a line saying so', async (t) => {
  if (!(await requireRootAndTools(t))) return;
  const ns = await Netns.create(t);
  const r = await ns.exec('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, LEGATE, 'iptables']);
  t.is(r.code, 1, r.stderr);
  t.is(r.stderr, 'legate iptables: iptables-save: permission denied; run as root (or with CAP_NET_ADMIN)\n');
});
