import test from 'ava';
import { Host } from '../../src/cluster/host.js';
import { balancer, cluster, hosts, tally } from './lb_helpers.js';

test('ROUND_ROBIN honours weights 8:3:1 exactly over whole cycles', (t) => {
  const hs = hosts([8, 3, 1]);
  const { lb } = balancer(cluster('ROUND_ROBIN'), hs);
  const n = tally(() => lb.chooseHost(undefined), 1200);
  t.deepEqual([n.get(hs[0].key), n.get(hs[1].key), n.get(hs[2].key)], [800, 300, 100]);
});

test('ROUND_ROBIN is smooth: the heavy host never takes more than its share in a row', (t) => {
  const hs = hosts([8, 3, 1]);
  const { lb } = balancer(cluster('ROUND_ROBIN'), hs);
  const seq = Array.from({ length: 120 }, () => lb.chooseHost(undefined)!);
  let run = 0;
  let longest = 0;
  for (let i = 0; i < seq.length; i++) {
    run = i > 0 && seq[i] === seq[i - 1] ? run + 1 : 1;
    longest = Math.max(longest, run);
  }
  // Naive weighted RR would send 8 in a row; smooth WRR interleaves the light hosts.
  t.true(longest <= 3, `longest run ${longest}`);
  // Every window of 12 picks (one cycle) holds exactly 8/3/1.
  for (let i = 0; i + 12 <= seq.length; i += 12) t.is(seq.slice(i, i + 12).filter((h) => h === hs[0]).length, 8);
});

test('ROUND_ROBIN with equal weights rotates over every host', (t) => {
  const hs = hosts([1, 1, 1, 1]);
  const { lb } = balancer(cluster('ROUND_ROBIN'), hs);
  const seq = Array.from({ length: 8 }, () => lb.chooseHost(undefined)!);
  t.is(new Set(seq.slice(0, 4)).size, 4);
  t.deepEqual(seq.slice(4), seq.slice(0, 4));
});

test('LEAST_REQUEST with equal weights (power of two choices) prefers the less loaded host', (t) => {
  const hs = hosts([1, 1, 1]);
  hs[0].activeRequests = 5;
  const { lb } = balancer(cluster('LEAST_REQUEST'), hs);
  const n = tally(() => lb.chooseHost(undefined), 9000);
  // The loaded host wins only when both random choices land on it: 1/9 of picks.
  const loaded = n.get(hs[0].key)!;
  t.true(loaded > 700 && loaded < 1300, `loaded host got ${loaded}`);
  t.true(n.get(hs[1].key)! > 3500 && n.get(hs[2].key)! > 3500);
});

test('LEAST_REQUEST follows activeRequests as they change', (t) => {
  const hs = hosts([1, 1]);
  const { lb } = balancer(cluster('LEAST_REQUEST'), hs);
  // Picks that stay in flight: P2C keeps the two hosts within a couple of requests of each other.
  for (let i = 0; i < 200; i++) lb.chooseHost(undefined)!.activeRequests++;
  t.true(Math.abs(hs[0].activeRequests - hs[1].activeRequests) <= 4, `${hs[0].activeRequests} vs ${hs[1].activeRequests}`);
});

test('LEAST_REQUEST with different weights uses weight / (active + 1)', (t) => {
  const hs = hosts([2, 1]);
  hs[0].activeRequests = 3; // 2 / 4 = 0.5 against 1 / 1 = 1
  const { lb } = balancer(cluster('LEAST_REQUEST'), hs);
  const n = tally(() => lb.chooseHost(undefined), 300);
  t.is(n.get(hs[0].key), 100);
  t.is(n.get(hs[1].key), 200);
  hs[0].activeRequests = 0; // now 2 : 1
  // As in Envoy's EDF schedule, a host's load is read when it goes back into the schedule:
  // the first host keeps the deadline it got at 0.5 for one more turn, then runs at 2.
  const m = tally(() => lb.chooseHost(undefined), 300);
  t.true(m.get(hs[0].key)! >= 199 && m.get(hs[0].key)! <= 200, `${m.get(hs[0].key)}`);
});

test('weighted ROUND_ROBIN over 1,000 hosts gives each host its weight per cycle, from a random start', (t) => {
  const weights = Array.from({ length: 1000 }, (_, i) => 1 + (i % 4));
  const cycle = weights.reduce((a, b) => a + b, 0);
  for (const seed of [1, 2, 3]) {
    const hs = hosts(weights);
    const { lb } = balancer(cluster('ROUND_ROBIN'), hs, { seed });
    const n = tally(() => lb.chooseHost(undefined), cycle * 2);
    t.true(hs.every((h, i) => n.get(h.key) === 2 * weights[i]), `seed ${seed}`);
  }
});

test('RANDOM spreads uniformly and ignores endpoint weights, as Envoy does', (t) => {
  const hs = hosts([8, 1, 1]);
  const { lb } = balancer(cluster('RANDOM'), hs);
  const n = tally(() => lb.chooseHost(undefined), 6000);
  for (const h of hs) t.true(Math.abs(n.get(h.key)! - 2000) < 200, `${h.key}: ${n.get(h.key)}`);
});

test('slow start scales a new host by max(10%, age / window) for ROUND_ROBIN and LEAST_REQUEST', (t) => {
  for (const policy of ['ROUND_ROBIN', 'LEAST_REQUEST'] as const) {
    const window = 10_000;
    const joined = 1_000_000;
    const hs = [new Host('10.0.0.1', 80, 1, undefined, undefined, joined - 60_000), new Host('10.0.0.2', 80, 1, undefined, undefined, joined)];
    const { lb, clock } = balancer(cluster(policy, { slowStartWindowMs: window }), hs);
    // 2 s after joining: weight 0.2 against the old host's 1.
    clock.now = joined + 2_000;
    t.is(tally(() => lb.chooseHost(undefined), 600).get(hs[1].key), 100, policy);
    // 0.5 s counts as 1 s: 10%, which is also the floor.
    clock.now = joined + 500;
    t.is(tally(() => lb.chooseHost(undefined), 1100).get(hs[1].key), 100, policy);
    // Past the window, equal shares.
    clock.now = joined + window;
    const later = tally(() => lb.chooseHost(undefined), 600).get(hs[1].key)!;
    t.true(Math.abs(later - 300) <= 60, `${policy}: ${later}`);
  }
});
