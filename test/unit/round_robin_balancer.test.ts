import test from 'ava';
import { roundRobinBalancer } from '../../src/main/round_robin_balancer.js';

type W = Parameters<ReturnType<typeof roundRobinBalancer>>[1][number];
const workers = (...usage: number[]) => usage.map((currentUsage, id) => ({ id, currentUsage, isRunningAbortableTask: false }) as unknown as W);
const task = {} as Parameters<ReturnType<typeof roundRobinBalancer>>[0];

test('round robin: idle workers take connections in turn (not always the first idle one)', (t) => {
  const pick = roundRobinBalancer(64);
  const ws = workers(0, 0, 0);
  t.deepEqual([1, 2, 3, 4, 5, 6].map(() => (pick(task, ws) as unknown as { id: number }).id), [0, 1, 2, 0, 1, 2]);
});

test('round robin: a worker at its task limit is skipped; all at the limit means wait', (t) => {
  const pick = roundRobinBalancer(2);
  t.is((pick(task, workers(2, 1, 2)) as unknown as { id: number }).id, 1);
  t.is(pick(task, workers(2, 2)), null);
});
