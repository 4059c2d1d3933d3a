import test from 'ava';
import { LocalOrigin, OutlierMonitor, type OutlierReport } from '../../src/cluster/outlier/monitor.js';
import { createHostShared, HostSlots, OUTLIER_FIELDS, O_CONSECUTIVE_5XX } from '../../src/cluster/host_shared.js';
import type { OutlierDetection } from '../../src/config/model.js';

const od: OutlierDetection = {
  consecutive5xx: 3,
  enforcingConsecutive5xx: 100,
  consecutiveGatewayFailure: 2,
  enforcingConsecutiveGatewayFailure: 100,
  splitExternalLocalOriginErrors: false,
  intervalMs: 1000,
  baseEjectionTimeMs: 2000,
  maxEjectionPercent: 10,
  enforcingSuccessRate: 0,
};

/** Two "workers": monitors over the same shared counters, as two threads would have. */
function twoWorkers(config: OutlierDetection = od) {
  const slots = new HostSlots(createHostShared(8, 1), 0);
  const reports: OutlierReport[] = [];
  const mk = () => new OutlierMonitor('c', config, slots.outlier, (r) => reports.push(r));
  return { w1: mk(), w2: mk(), reports, slots };
}

test('consecutive 5xx are counted across workers and reported once, at the threshold', (t) => {
  const { w1, w2, reports } = twoWorkers();
  w1.putHttpStatus(5, 500);
  w2.putHttpStatus(5, 500);
  t.deepEqual(reports, []);
  w1.putHttpStatus(5, 500);
  t.deepEqual(reports, [{ cluster: 'c', slot: 5, type: 'consecutive_5xx' }]);
  w2.putHttpStatus(5, 500);
  t.is(reports.length, 1, 'past the threshold nothing more is posted');
});

test('a success on any worker breaks the run; other hosts have their own counters', (t) => {
  const { w1, w2, reports, slots } = twoWorkers();
  w1.putHttpStatus(5, 500);
  w1.putHttpStatus(5, 500);
  w2.putHttpStatus(5, 404);
  t.is(Atomics.load(slots.outlier, 5 * OUTLIER_FIELDS + O_CONSECUTIVE_5XX), 0);
  w1.putHttpStatus(5, 500);
  w1.putHttpStatus(6, 500);
  w1.putHttpStatus(5, 500);
  t.deepEqual(reports, []);
});

test('gateway errors are 502/503/504; another 5xx breaks their run but counts as 5xx', (t) => {
  const { w1, reports } = twoWorkers();
  w1.putHttpStatus(1, 503);
  w1.putHttpStatus(1, 500);
  w1.putHttpStatus(1, 502);
  t.deepEqual(reports.map((r) => r.type), ['consecutive_5xx']);
  w1.putHttpStatus(1, 504);
  t.deepEqual(reports.map((r) => r.type), ['consecutive_5xx', 'consecutive_gateway_failure']);
});

test('not split: connect failures and resets count as 503, timeouts as 504; a bare connect success changes nothing', (t) => {
  const { w1, reports } = twoWorkers();
  w1.putLocalOrigin(2, LocalOrigin.ConnectFailed);
  w1.putLocalOrigin(2, LocalOrigin.ConnectSuccess);
  w1.putLocalOrigin(2, LocalOrigin.Timeout);
  t.deepEqual(reports.map((r) => r.type), ['consecutive_gateway_failure']);
  w1.putLocalOrigin(2, LocalOrigin.ConnectFailed);
  t.deepEqual(reports.map((r) => r.type), ['consecutive_gateway_failure', 'consecutive_5xx']);
  // tcp_proxy's connect success is its whole result: it ends the run.
  const fresh = twoWorkers();
  fresh.w1.putLocalOrigin(3, LocalOrigin.ConnectFailed);
  fresh.w1.putLocalOrigin(3, LocalOrigin.ConnectSuccessFinal);
  fresh.w1.putLocalOrigin(3, LocalOrigin.ConnectFailed);
  t.deepEqual(fresh.reports, []);
});

test('split: local-origin failures have their own counter, and 5xx are only what upstreams answered', (t) => {
  const { w1, w2, reports } = twoWorkers({ ...od, splitExternalLocalOriginErrors: true, consecutiveLocalOriginFailure: 2 });
  w1.putLocalOrigin(4, LocalOrigin.ConnectFailed);
  w1.putLocalOrigin(4, LocalOrigin.ConnectFailed);
  w1.putLocalOrigin(4, LocalOrigin.ConnectFailed);
  t.deepEqual(reports.map((r) => r.type), ['consecutive_local_origin_failure']);
  // A connection made resets the local-origin run, not the 5xx one.
  w2.putHttpStatus(7, 500);
  w2.putHttpStatus(7, 500);
  w2.putLocalOrigin(7, LocalOrigin.ConnectSuccess);
  w2.putHttpStatus(7, 500);
  t.deepEqual(reports.map((r) => r.type), ['consecutive_local_origin_failure', 'consecutive_5xx']);
});

test('the sink slot (hosts without a slot) is never counted', (t) => {
  const { w1, reports } = twoWorkers({ ...od, consecutive5xx: 1 });
  w1.putHttpStatus(0, 500);
  t.deepEqual(reports, []);
});
