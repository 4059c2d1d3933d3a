import test from 'ava';
import { OutlierDetector, type DetectorHooks, type EjectionType } from '../../src/cluster/outlier/detector.js';
import type { OutlierDetection } from '../../src/config/model.js';

const base: OutlierDetection = {
  consecutive5xx: 3,
  enforcingConsecutive5xx: 100,
  consecutiveGatewayFailure: 5,
  enforcingConsecutiveGatewayFailure: 0,
  splitExternalLocalOriginErrors: false,
  intervalMs: 1000,
  baseEjectionTimeMs: 2000,
  maxEjectionPercent: 10,
  enforcingSuccessRate: 0,
};

/** A detector over `hosts` with a hand-moved clock and a fixed "random" draw. */
function setup(hosts: string[], over: Partial<OutlierDetection> = {}, draw = 0) {
  const s = { now: 0, draw, ejected: new Set<string>(), resets: [] as [string, EjectionType][], stats: new Map<string, number>(), active: 0 };
  const hooks: DetectorHooks = {
    now: () => s.now,
    random: () => s.draw,
    setEjected: (k, e) => (e ? s.ejected.add(k) : s.ejected.delete(k)),
    resetCounter: (k, type) => s.resets.push([k, type]),
    count: (stat) => s.stats.set(stat, (s.stats.get(stat) ?? 0) + 1),
    activeChanged: (n) => (s.active = n),
  };
  const d = new OutlierDetector({ ...base, ...over }, hooks);
  d.syncHosts(hosts);
  const stat = (name: string) => s.stats.get(name) ?? 0;
  /** Runs interval sweeps up to `ms` (as the timer would). */
  const advance = (ms: number) => {
    const end = s.now + ms;
    while (s.now + 1000 <= end) {
      s.now += 1000;
      d.onInterval();
    }
    s.now = end;
  };
  return { d, s, stat, advance };
}

test('a reported host is ejected, its counter reset, and the enforced and detected stats count', (t) => {
  const { d, s, stat } = setup(['a', 'b']);
  d.onConsecutiveError('a', 'consecutive_5xx');
  t.true(d.isEjected('a'));
  t.deepEqual([...s.ejected], ['a']);
  t.deepEqual(s.resets, [['a', 'consecutive_5xx']]);
  t.is(s.active, 1);
  t.is(stat('ejections_enforced_total'), 1);
  t.is(stat('ejections_enforced_consecutive_5xx'), 1);
  t.is(stat('ejections_detected_consecutive_5xx'), 1);
  // A second report for an ejected host changes nothing.
  d.onConsecutiveError('a', 'consecutive_gateway_failure');
  t.is(stat('ejections_detected_consecutive_gateway_failure'), 0);
  // Unknown (removed) hosts are ignored.
  d.onConsecutiveError('zz', 'consecutive_5xx');
  t.is(stat('ejections_enforced_total'), 1);
});

test('enforcing is a percentage: 0 detects without ejecting; partial enforcing follows the draw', (t) => {
  const gw = setup(['a', 'b']);
  gw.d.onConsecutiveError('a', 'consecutive_gateway_failure');
  t.false(gw.d.isEjected('a'), "Istio's default: gateway failures detected, not enforced");
  t.is(gw.stat('ejections_detected_consecutive_gateway_failure'), 1);
  t.is(gw.stat('ejections_enforced_consecutive_gateway_failure'), 0);

  const half = setup(['a', 'b'], { enforcingConsecutive5xx: 50 }, 0.49);
  half.d.onConsecutiveError('a', 'consecutive_5xx');
  t.true(half.d.isEjected('a'));
  const missed = setup(['a', 'b'], { enforcingConsecutive5xx: 50 }, 0.5);
  missed.d.onConsecutiveError('a', 'consecutive_5xx');
  t.false(missed.d.isEjected('a'));
  t.is(missed.stat('ejections_detected_consecutive_5xx'), 1);
});

test('maxEjectionPercent caps ejections, but the first one is always allowed', (t) => {
  // 10% of 2 hosts is less than one host: Envoy still ejects one, then overflows.
  const { d, stat } = setup(['a', 'b']);
  d.onConsecutiveError('a', 'consecutive_5xx');
  d.onConsecutiveError('b', 'consecutive_5xx');
  t.true(d.isEjected('a'));
  t.false(d.isEjected('b'));
  t.is(stat('ejections_overflow'), 1);
  t.is(stat('ejections_detected_consecutive_5xx'), 1);

  // 50% of 4 hosts: two.
  const four = setup(['a', 'b', 'c', 'd'], { maxEjectionPercent: 50 });
  for (const h of ['a', 'b', 'c']) four.d.onConsecutiveError(h, 'consecutive_5xx');
  t.deepEqual([...four.s.ejected].sort(), ['a', 'b']);
  t.is(four.s.active, 2);
});

test('an ejected host returns after baseEjectionTime × times ejected, on the interval sweep', (t) => {
  const { d, s, advance } = setup(['a', 'b']);
  d.onConsecutiveError('a', 'consecutive_5xx');
  advance(1000);
  t.true(d.isEjected('a'));
  advance(1000);
  t.false(d.isEjected('a'), 'back after 2 s (1 × base)');
  t.is(s.active, 0);
  t.deepEqual(s.resets.slice(1).map((r) => r[1]).sort(), ['consecutive_5xx', 'consecutive_gateway_failure', 'consecutive_local_origin_failure']);
  // Ejected again at once: the multiplier is 2 now (it only decays on sweeps while healthy), so 4 s.
  d.onConsecutiveError('a', 'consecutive_5xx');
  t.is(d.multiplier('a'), 2);
  advance(3000);
  t.true(d.isEjected('a'));
  advance(1000);
  t.false(d.isEjected('a'));
});

test('the multiplier decays by one per healthy sweep, and ejection time is capped by max_ejection_time', (t) => {
  const { d, advance } = setup(['a', 'b'], { baseEjectionTimeMs: 100_000 });
  const times: number[] = [];
  for (let i = 0; i < 4; i++) {
    d.onConsecutiveError('a', 'consecutive_5xx');
    const ms = d.ejectionTimeMs({ multiplier: d.multiplier('a') });
    times.push(ms);
    advance(ms);
    t.false(d.isEjected('a'));
  }
  // 100 s, 200 s, 300 s, then capped at Envoy's default max_ejection_time (300 s); the multiplier stops at 3.
  t.deepEqual(times, [100_000, 200_000, 300_000, 300_000]);
  t.is(d.multiplier('a'), 3);
  advance(1000);
  t.is(d.multiplier('a'), 2, 'one healthy sweep');
  advance(10_000);
  t.is(d.multiplier('a'), 0, 'fully decayed');
  d.onConsecutiveError('a', 'consecutive_5xx');
  t.is(d.ejectionTimeMs({ multiplier: d.multiplier('a') }), 100_000, 'back to the base time');
});

test('a removed host takes its verdict with it; a returning host starts healthy', (t) => {
  const { d, s } = setup(['a', 'b']);
  d.onConsecutiveError('a', 'consecutive_5xx');
  t.is(s.active, 1);
  d.syncHosts(['b']);
  t.is(s.active, 0);
  d.syncHosts(['a', 'b']);
  t.false(d.isEjected('a'));
  t.is(d.multiplier('a'), 0);
});

test('local-origin failures are enforced by default (Envoy: 100%)', (t) => {
  const { d, stat } = setup(['a', 'b'], { splitExternalLocalOriginErrors: true, consecutiveLocalOriginFailure: 2 });
  d.onConsecutiveError('a', 'consecutive_local_origin_failure');
  t.true(d.isEjected('a'));
  t.is(stat('ejections_enforced_consecutive_local_origin_failure'), 1);
  t.is(stat('ejections_detected_consecutive_local_origin_failure'), 1);
});
