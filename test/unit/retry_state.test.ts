import test from 'ava';
import { RetryState } from '../../src/filters/http/router/route_action.js';
import type { RetryPolicy } from '../../src/config/model.js';

const policy = (retryOn: string, retriableStatusCodes: number[] = []): RetryPolicy => ({
  retryOn,
  numRetries: 5,
  retriableStatusCodes,
  retryHostPredicate: [],
  hostSelectionRetryMaxAttempts: 1,
});

const STATUSES = [200, 204, 404, 409, 429, 500, 501, 502, 503, 504];

// Envoy's x-envoy-retry-on status conditions, one row per retry_on value: the statuses it retries.
const TABLE: [string, number[], number[]][] = [
  ['5xx', [], [500, 501, 502, 503, 504]],
  ['gateway-error', [], [502, 503, 504]],
  ['retriable-4xx', [], [409]],
  ['retriable-status-codes', [429, 503], [429, 503]],
  ['retriable-status-codes', [], []],
  // Istio's default: the codes list alone retries nothing unless retriable-status-codes is on.
  ['connect-failure,refused-stream,unavailable,cancelled', [503], []],
  ['connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes', [503], [503]],
  ['gateway-error, retriable-4xx', [], [409, 502, 503, 504]],
];

for (const [retryOn, codes, retried] of TABLE) {
  test(`retry on status: "${retryOn}" with codes [${codes.join(',')}] retries ${retried.join(',') || 'nothing'}`, (t) => {
    for (const status of STATUSES) {
      const state = new RetryState(policy(retryOn, codes), false);
      t.is(state.shouldRetryStatus(status), retried.includes(status), `status ${status}`);
    }
  });
}

test('retry on status: no retries left is URX, not a retry', (t) => {
  const state = new RetryState({ ...policy('5xx'), numRetries: 1 }, false);
  t.true(state.shouldRetryStatus(503));
  t.false(state.shouldRetryStatus(503));
  t.true(state.limitExceeded);
});
