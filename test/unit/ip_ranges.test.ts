import test from 'ava';
import { BlockList, isIPv6 } from 'node:net';
import { IpRanges } from '../../src/listener/ip_ranges.js';

const RANGES = ['10.0.0.0/8', '172.16.0.0/12', '192.168.1.7', '100.64.0.0/10', 'fd00::/8', '2001:db8::/32', '::1', '2001:db8:1:2:3:4:5:0/125'];

function blockList(ranges: readonly string[]): BlockList {
  const list = new BlockList();
  for (const r of ranges) {
    const [ip, bits] = r.split('/') as [string, string | undefined];
    const family = isIPv6(ip) ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(ip, family);
    else list.addSubnet(ip, Number(bits), family);
  }
  return list;
}

/** A deterministic spread of addresses near and inside the ranges' edges. */
function addresses(): string[] {
  const out = ['10.0.0.0', '10.255.255.255', '11.0.0.0', '9.255.255.255', '172.15.255.255', '172.16.0.0', '172.31.255.255', '172.32.0.0',
    '192.168.1.7', '192.168.1.8', '100.63.255.255', '100.64.0.0', '100.127.255.255', '100.128.0.0', '127.0.0.1', '0.0.0.0', '255.255.255.255',
    '::1', '::', '::2', '0:0:0:0:0:0:0:1', 'fd00::', 'FDFF:ffff::1', 'fe00::', 'fc00::1', '2001:db8::', '2001:db8:ffff:ffff::1', '2001:db9::',
    '::ffff:10.0.0.1', '::ffff:1.2.3.4', '2001:db8:1:2:3:4:5:0', '2001:db8:1:2:3:4:5:7', '2001:db8:1:2:3:4:5:8', '1::', '1:2:3:4:5:6:7:8',
    '1:2:3:4:5:6:1.2.3.4', '::1.2.3.4', 'fe80::1%eth0'];
  let seed = 7;
  const next = () => (seed = (seed * 1103515245 + 12345) >>> 0);
  for (let i = 0; i < 300; i++) out.push([next() >>> 24, next() >>> 24, next() >>> 24, next() >>> 24].join('.'));
  for (let i = 0; i < 300; i++) out.push(Array.from({ length: 8 }, () => ((next() >>> 16) % (i % 3 === 0 ? 0x10 : 0x10000)).toString(16)).join(':'));
  return out;
}

test("matches what Node's BlockList answers for every address, IPv4 and IPv6, compressed, zoned, with IPv4 tails", (t) => {
  const ours = new IpRanges(RANGES);
  const node = blockList(RANGES);
  for (const ip of addresses()) {
    const text = ip.split('%')[0]!;
    if (text.startsWith('::ffff:') && text.includes('.')) continue; // IPv4-mapped: see the next test
    t.is(ours.has(ip), node.check(text, isIPv6(text) ? 'ipv6' : 'ipv4'), ip);
  }
});

test('a range of one family never matches an address of the other (as Envoy\'s CidrRange; BlockList differs)', (t) => {
  t.false(new IpRanges(['0.0.0.0/0']).has('::1'));
  // Node's BlockList matches an IPv4 address against IPv4-mapped IPv6 ranges; Envoy compares within one version.
  t.true(blockList(['::ffff:0:0/96']).check('11.0.0.0', 'ipv4'));
  t.false(new IpRanges(['::ffff:0:0/96']).has('11.0.0.0'));
  t.true(new IpRanges(['::ffff:0:0/96']).has('::ffff:11.0.0.0'));
  t.true(blockList(['10.0.0.0/8']).check('::ffff:10.0.0.1', 'ipv6'));
  t.false(new IpRanges(['10.0.0.0/8']).has('::ffff:10.0.0.1'));
  t.true(new IpRanges(['::/0']).has('::ffff:10.0.0.1'));
  t.false(new IpRanges(['::/0']).has('10.0.0.1'));
});

test('text that is not an address matches nothing', (t) => {
  const all = new IpRanges(['0.0.0.0/0', '::/0']);
  for (const bad of ['', 'unknown', '10.0.0', '10.0.0.1.2', '10.0.0.256', '10..0.1', '1.2.3.4:80', '1:::2', '1::2::3', '12345::', '1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8:9', 'g::1', '::1.2.3']) {
    t.false(all.has(bad), bad);
  }
});

test('a range that is not an address and prefix length is refused when built', (t) => {
  for (const bad of ['10.0.0.0/33', '::/129', '10.0.0.0/', '10.0.0.0/-1', '10.0.0.0/8x', 'example.com', '10.0.0/8']) {
    t.throws(() => new IpRanges([bad]), { message: /invalid/ }, bad);
  }
});
