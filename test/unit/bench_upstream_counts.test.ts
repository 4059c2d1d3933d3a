/** How http_lb turns upstream request counters into shares (the bench itself checks only that it runs). */
import test from 'ava';
import { spread } from '../../bench/lib/load/upstream_counts.js';

test('shares leave out the two status readings and sum to 100', (t) => {
  // Each upstream's counter includes the before reading (already in `before`) and the after reading.
  const s = spread([10, 20, 30, 40], [10 + 301, 20 + 101, 30 + 51, 40 + 51]);
  t.is(s.share1, 60);
  t.is(s.share2, 20);
  t.is(s.busiestOverIdlest, 6);
  t.is(s.share1 + s.share2 + s.share3 + s.share4, 100);
});

test('an upstream that got nothing: no busiest/idlest ratio (it would be infinite)', (t) => {
  const s = spread([5, 5], [5 + 51, 5 + 1]);
  t.deepEqual(s, { share1: 100, share2: 0 });
});
