import test from 'ava';
import { allocateVips, fnv1a32, slotVip, vipSlot, VIP_SLOTS } from '../../src/dns/vip.js';

const hosts = (n: number, prefix = 'svc') => Array.from({ length: n }, (_, i) => `${prefix}${i}.example.com`);

test('the same hosts always get the same VIPs, inside 240.240.0.0/16, never .0 or .255', (t) => {
  const a = allocateVips(hosts(2000));
  const b = allocateVips(hosts(2000));
  t.deepEqual([...a], [...b]);
  const seen = new Set<string>();
  for (const { v4, v6 } of a.values()) {
    const m = /^240\.240\.(\d+)\.(\d+)$/.exec(v4);
    t.truthy(m, v4);
    const last = Number(m![2]);
    t.true(last >= 1 && last <= 254, v4);
    t.true(v6.startsWith('2001:2::'), v6);
    t.false(seen.has(v4), `duplicate ${v4}`);
    seen.add(v4);
  }
});

test('adding services (placed after the existing ones) never moves an existing VIP', (t) => {
  const before = allocateVips(hosts(3000));
  const after = allocateVips([...hosts(3000), ...hosts(3000, 'new')]);
  for (const [h, vip] of before) t.deepEqual(after.get(h), vip, h);
});

test('a collision takes the next free slot (linear probing), in the order given', (t) => {
  // Find two hosts with the same home slot.
  const home = new Map<number, string>();
  let pair: [string, string] | undefined;
  for (let i = 0; !pair; i++) {
    const h = `c${i}.test`;
    const s = fnv1a32(h) % VIP_SLOTS;
    if (home.has(s)) pair = [home.get(s)!, h];
    else home.set(s, h);
  }
  const [first, second] = pair;
  const slot = fnv1a32(first) % VIP_SLOTS;
  const v = allocateVips([first, second]);
  t.is(v.get(first)!.v4, slotVip(slot).v4);
  t.is(v.get(second)!.v4, slotVip((slot + 1) % VIP_SLOTS).v4);
  // The other order swaps them: documented, and why the translator places older resources first.
  const w = allocateVips([second, first]);
  t.is(w.get(second)!.v4, slotVip(slot).v4);
});

test('explicitly configured addresses in the range are skipped', (t) => {
  const h = 'db.example.com';
  const home = allocateVips([h]).get(h)!.v4;
  const moved = allocateVips([h], [home]).get(h)!.v4;
  t.not(moved, home);
  t.is(vipSlot(moved), vipSlot(home) + 1);
});

test('slot ↔ address round trip', (t) => {
  for (const s of [0, 253, 254, 255, VIP_SLOTS - 1]) t.is(vipSlot(slotVip(s).v4), s);
  t.is(slotVip(0).v4, '240.240.0.1');
  t.is(slotVip(253).v4, '240.240.0.254');
  t.is(slotVip(254).v4, '240.240.1.1');
  t.is(vipSlot('240.240.1.0'), -1);
  t.is(vipSlot('240.240.1.255'), -1);
});
