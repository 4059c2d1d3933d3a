/**
 * A worker thread for the circuit-breaker tests: takes connection resources of one cluster slot
 * through its own CircuitBreakers handle, as a proxy worker does.
 *  - `hold`: tries `tries` times, keeps what it got, reports it; releases all on 'release', or exits holding them on 'die'.
 *  - `churn`: acquire/release `tries` times, tracking in `inUse[0]` how many are held at once (max in `inUse[1]`).
 * Both start together: they spin until `start[0]` is set, so their acquires really overlap.
 */
import { parentPort, threadId, workerData } from 'node:worker_threads';
import { CircuitBreakers, CX, type CircuitBreakerShared } from '../../src/cluster/circuit_breaker.js';
import { staticCluster } from './hcm.js';

interface Job {
  shared: CircuitBreakerShared;
  slot: number;
  maxConnections: number;
  mode: 'hold' | 'churn';
  tries: number;
  start: SharedArrayBuffer;
  inUse: SharedArrayBuffer;
}

const job = workerData as Job;
const breakers = CircuitBreakers.claim(job.shared, threadId);
const cluster = staticCluster('c', [1], {
  circuitBreakers: { maxConnections: job.maxConnections, maxPendingRequests: 1, maxRequests: 1, maxRetries: 1, trackRemaining: true },
});
const breaker = breakers.forCluster(cluster, job.slot);
const start = new Int32Array(job.start);
const inUse = new Int32Array(job.inUse);
Atomics.wait(start, 0, 0);

let held = 0;
if (job.mode === 'hold') {
  for (let i = 0; i < job.tries; i++) if (breaker.tryAcquire(CX)) held++;
  parentPort!.postMessage({ held });
  parentPort!.on('message', (m: string) => {
    if (m === 'die') process.exit(0);
    for (; held > 0; held--) breaker.release(CX);
    parentPort!.postMessage({ released: true });
  });
} else {
  let got = 0;
  for (let i = 0; i < job.tries; i++) {
    if (!breaker.tryAcquire(CX)) continue;
    got++;
    const now = Atomics.add(inUse, 0, 1) + 1;
    for (let seen = Atomics.load(inUse, 1); now > seen; seen = Atomics.load(inUse, 1)) Atomics.compareExchange(inUse, 1, seen, now);
    Atomics.sub(inUse, 0, 1);
    breaker.release(CX);
  }
  parentPort!.postMessage({ got });
}
