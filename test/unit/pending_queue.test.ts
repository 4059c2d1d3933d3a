/**
 * The pool's pending queue (pending_queue.ts): requests that wait a whole connect timeout fail
 * as a connect timeout, each on its own. A requester that throws while it hears (a bug) is
 * ended alone; the others still hear, and the worker thread goes on.
 */
import test from 'ava';
import { setTimeout as sleep } from 'node:timers/promises';
import { PendingQueue } from '../../src/cluster/pool/pending_queue.js';
import type { Breaker } from '../../src/cluster/circuit_breaker.js';
import type { PoolStats } from '../../src/cluster/pool/http1_pool.js';
import type { PoolRequester } from '../../src/cluster/pool/upstream_request.js';

class Requester implements PoolRequester {
  failures: string[] = [];
  ended = 0;
  constructor(private readonly throws = false) {}
  onPoolReady(): void {}
  onPoolFailure(reason: string): void {
    this.failures.push(reason);
    if (this.throws) throw new Error('a bug in a requester');
  }
  endAfterThrow(): void {
    this.ended++;
  }
}

function queue(timeoutMs: number): { q: PendingQueue; held: () => number } {
  let held = 0;
  const breaker = { tryAcquire: () => (held++, true), release: () => void held-- } as unknown as Breaker;
  const stats = { onPending: () => {}, onPendingOverflow: () => {} } as unknown as PoolStats;
  const owner = { breaker, acquire: () => undefined, cancel: () => {} };
  return { q: new PendingQueue(owner, stats, timeoutMs), held: () => held };
}

test('requests that wait the connect timeout fail one by one; a throwing one is ended alone', async (t) => {
  const { q, held } = queue(40);
  const broken = new Requester(true);
  const other = new Requester();
  q.add(broken);
  q.add(other);
  t.is(held(), 2);
  await sleep(150);
  t.deepEqual(broken.failures, ['connection timeout']);
  t.is(broken.ended, 1);
  t.deepEqual(other.failures, ['connection timeout']);
  t.is(other.ended, 0);
  t.is(q.length, 0);
  t.is(held(), 0, 'every pending resource given back');
});

test('failAll tells every waiting request, past one that throws', (t) => {
  const { q } = queue(10_000);
  const first = new Requester();
  const broken = new Requester(true);
  const last = new Requester();
  for (const r of [first, broken, last]) q.add(r);
  q.failAll('connection failure', false);
  t.deepEqual([first.failures, broken.failures, last.failures], [['connection failure'], ['connection failure'], ['connection failure']]);
  t.deepEqual([first.ended, broken.ended, last.ended], [0, 1, 0]);
  t.is(q.length, 0);
});
