import test, { type ExecutionContext } from 'ava';
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { CircuitBreakers, CX, RQ } from '../../src/cluster/circuit_breaker.js';
import { CircuitBreakerRegistry } from '../../src/cluster/circuit_breaker_registry.js';
import { indexBreakers } from '../../src/cluster/circuit_breaker_stats.js';
import { renderPrometheus } from '../../src/admin/prometheus.js';
import { StatsRegistry } from '../../src/stats/store.js';
import { staticCluster } from '../support/hcm.js';

const WORKER = new URL('../support/breaker_worker.js', import.meta.url);

function limited(maxConnections: number, trackRemaining = true) {
  return staticCluster('c', [1], { circuitBreakers: { maxConnections, maxPendingRequests: 4294967295, maxRequests: 4294967295, maxRetries: 4294967295, trackRemaining } });
}

/** Two real worker threads on one registry's shared counts, released together. */
function startWorkers(registry: CircuitBreakerRegistry, slot: number, maxConnections: number, mode: 'hold' | 'churn', tries: number) {
  const start = new SharedArrayBuffer(4);
  const inUse = new SharedArrayBuffer(8);
  const workers = [0, 1].map(() => new Worker(WORKER, { workerData: { shared: registry.shared, slot, maxConnections, mode, tries, start, inUse } }));
  const first = workers.map((w) => once(w, 'message').then(([m]) => m as Record<string, number>));
  // Let both threads reach their start line, then release them at once.
  setTimeout(() => {
    Atomics.store(new Int32Array(start), 0, 1);
    Atomics.notify(new Int32Array(start), 0);
  }, 50);
  return { workers, first, maxInUse: () => new Int32Array(inUse)[1] };
}

test('the connection limit holds across two worker threads acquiring at once', async (t) => {
  const registry = new CircuitBreakerRegistry({ columns: 4, capacity: 8 });
  const slots = registry.index([limited(100)], {});
  const { workers, first } = startWorkers(registry, slots.c, 100, 'hold', 5000);
  t.teardown(() => workers.forEach((w) => void w.terminate()));
  const held = (await Promise.all(first)).map((m) => m.held);
  t.is(held[0] + held[1], 100, `exactly the limit was granted (${held.join(' + ')})`);
  t.is(registry.count(slots.c, CX), 100);
  for (const w of workers) w.postMessage('release');
  await Promise.all(workers.map((w) => once(w, 'message')));
  t.is(registry.count(slots.c, CX), 0, 'released counts go back to zero');
});

test('under churn from two threads no more than the limit is ever held at once', async (t) => {
  const registry = new CircuitBreakerRegistry({ columns: 4, capacity: 8 });
  const slots = registry.index([limited(3)], {});
  const { workers, first, maxInUse } = startWorkers(registry, slots.c, 3, 'churn', 20000);
  t.teardown(() => workers.forEach((w) => void w.terminate()));
  const got = (await Promise.all(first)).map((m) => m.got);
  t.true(got[0] > 0 && got[1] > 0, 'both threads were served');
  t.true(maxInUse() <= 3, `at most 3 held at once (saw ${maxInUse()})`);
  t.is(registry.count(slots.c, CX), 0);
});

test('a dead worker\'s held connections are given back and a waiting pool is woken', async (t) => {
  const registry = new CircuitBreakerRegistry({ columns: 4, capacity: 8 });
  const cluster = limited(5);
  const slots = registry.index([cluster], {});
  const { workers, first } = startWorkers(registry, slots.c, 5, 'hold', 3);
  t.teardown(() => workers.forEach((w) => void w.terminate()));
  const held = (await Promise.all(first)).map((m) => m.held);
  t.is(registry.count(slots.c, CX), 5, 'both workers hold (3 + 2 between them)');
  // This thread is a third worker: it waits for a connection of the cluster to close.
  const mine = CircuitBreakers.claim(registry.shared, 999).forCluster(cluster, slots.c);
  t.false(mine.tryAcquire(CX));
  const woken = new Promise<void>((resolve) => mine.waitForConnection(resolve));
  const [dying] = workers;
  const threadId = dying.threadId;
  dying.postMessage('die');
  await once(dying, 'exit');
  registry.releaseWorker(threadId);
  await woken;
  t.is(registry.count(slots.c, CX), 5 - held[0], 'only the dead worker\'s share left the totals');
  t.true(mine.tryAcquire(CX), 'its capacity is usable again');
  mine.release(CX);
});

/** A limit of one connection, held by a worker thread; `mine` is this thread's breaker for the cluster. */
async function heldByAnotherThread(t: ExecutionContext) {
  const registry = new CircuitBreakerRegistry({ columns: 4, capacity: 8 });
  const cluster = limited(1);
  const slots = registry.index([cluster], {});
  const { workers, first } = startWorkers(registry, slots.c, 1, 'hold', 1);
  t.teardown(() => workers.forEach((w) => void w.terminate()));
  await Promise.all(first);
  const mine = CircuitBreakers.claim(registry.shared, 999).forCluster(cluster, slots.c);
  t.false(mine.tryAcquire(CX));
  return { workers, mine };
}

test('a release on another thread wakes a pool waiting for connection capacity', async (t) => {
  const { workers, mine } = await heldByAnotherThread(t);
  let wakes = 0;
  const woken = new Promise<void>((resolve) =>
    mine.waitForConnection(() => {
      wakes++;
      resolve();
    }),
  );
  t.true(mine.othersWaiting(), 'the wait is visible to other workers (they close instead of idling)');
  for (const w of workers) w.postMessage('release');
  await woken;
  t.is(wakes, 1);
  t.false(mine.othersWaiting());
  t.true(mine.tryAcquire(CX));
  mine.release(CX);
});

test('a woken pool that throws is logged; the other pools waiting are still woken and the worker lives', async (t) => {
  t.timeout(10_000, 'the second pool was never woken');
  const { workers, mine } = await heldByAnotherThread(t);
  mine.waitForConnection(() => {
    throw new Error('a bug in the first pool');
  });
  const second = new Promise<void>((resolve) => mine.waitForConnection(resolve));
  for (const w of workers) w.postMessage('release');
  await second;
  t.pass('woken after the first threw, with no unhandled rejection');
});

test('breaker gauges are computed from the shared counts, with Envoy\'s names', (t) => {
  const stats = new StatsRegistry({ slabs: 2, capacity: 64 });
  const registry = new CircuitBreakerRegistry({ columns: 1, capacity: 8 });
  const cluster = staticCluster('outbound|80||a.svc', [1], { circuitBreakers: { maxConnections: 2, maxPendingRequests: 1, maxRequests: 4294967295, maxRetries: 3, trackRemaining: true } });
  const slots = indexBreakers(registry, stats, [cluster], {});
  const b = CircuitBreakers.claim(registry.shared, 1).forCluster(cluster, slots[cluster.name]);
  const read = (f: string) => stats.readByName(`cluster.outbound|80||a.svc.circuit_breakers.default.${f}`);
  t.is(read('cx_open'), 0);
  t.true(b.tryAcquire(CX));
  t.is(read('remaining_cx'), 1);
  t.true(b.tryAcquire(CX));
  t.false(b.tryAcquire(CX));
  t.is(read('cx_open'), 1);
  t.is(read('remaining_cx'), 0);
  t.true(b.tryAcquire(RQ));
  t.is(read('remaining_rq'), 4294967294, 'unlimited is Envoy\'s 2^32-1, less what is held');
  t.is(read('rq_open'), 0);
  t.is(read('cx_pool_open'), 0);
  const prom = renderPrometheus(stats);
  t.regex(prom, /# TYPE envoy_cluster_circuit_breakers_default_cx_open gauge\nenvoy_cluster_circuit_breakers_default_cx_open\{cluster_name="outbound\|80\|\|a.svc"\} 1\n/);
  t.regex(prom, /envoy_cluster_circuit_breakers_default_remaining_pending\{cluster_name="outbound\|80\|\|a.svc"\} 1\n/);
});

test('without track_remaining only the *_open gauges exist', (t) => {
  const stats = new StatsRegistry({ slabs: 2, capacity: 64 });
  const registry = new CircuitBreakerRegistry({ columns: 1, capacity: 8 });
  indexBreakers(registry, stats, [limited(1, false)], {});
  const names = stats.entries().map((e) => e.info.name);
  t.true(names.includes('cluster.c.circuit_breakers.default.rq_pending_open'));
  t.false(names.some((n) => n.includes('remaining_')));
});

test('slots are stable per cluster name across snapshots', (t) => {
  const registry = new CircuitBreakerRegistry({ columns: 1, capacity: 8 });
  const a = registry.index([staticCluster('a', [1]), staticCluster('b', [1])], {});
  const b = registry.index([staticCluster('b', [2]), staticCluster('x', [1])], {});
  t.is(b.b, a.b);
  t.not(b.x, a.a);
});
