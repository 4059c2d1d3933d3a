import type { HeaderMutations, RetryPolicy, RouteAction } from '../../../config/model.js';
import { setHeader, type HeaderList } from '../../network/http_connection_manager/codec/index.js';
import { NO_BREAKER, RETRY, type Breaker } from '../../../cluster/circuit_breaker.js';
import { objectMemo } from '../../../config/object_memo.js';

export interface ClusterChoice {
  name: string;
  mutations?: HeaderMutations;
}

/** The single-cluster choice of each action, made once (actions are immutable snapshot data). */
const singleChoice = objectMemo((action: RouteAction): ClusterChoice => ({ name: action.cluster! }));

/** The route's cluster, or one of its weighted clusters chosen in proportion to the weights. */
export function chooseCluster(action: RouteAction): ClusterChoice {
  const wc = action.weightedClusters;
  if (!wc || wc.clusters.length === 0) return singleChoice(action);
  let pick = Math.random() * wc.totalWeight;
  for (const c of wc.clusters) {
    pick -= c.weight;
    if (pick < 0) return { name: c.name, mutations: c };
  }
  const last = wc.clusters[wc.clusters.length - 1];
  return { name: last.name, mutations: last };
}

const NO_RETRY_ON: ReadonlySet<string> = new Set();
/** retry_on parsed once per policy object (policies are immutable snapshot data). */
const retryOnOf = objectMemo((policy: RetryPolicy): ReadonlySet<string> => new Set(policy.retryOn.split(',').map((s) => s.trim()).filter(Boolean)));

const GRPC_RETRY_ON: Record<number, string> = { 1: 'cancelled', 4: 'deadline-exceeded', 8: 'resource-exhausted', 13: 'internal', 14: 'unavailable' };

const BASE_BACKOFF_MS = 25;
const MAX_BACKOFF_MS = 250;

/**
 * Envoy's retry decisions for one request: which failures a `retry_on` list covers, how many
 * retries remain, and the jittered exponential backoff (25 ms base, 10× cap). A retry also needs
 * the cluster's retry circuit breaker, held while the retry waits out its backoff (as Envoy).
 */
export class RetryState {
  private readonly on: ReadonlySet<string>;
  private retriesLeft: number;
  private retriesDone = 0;
  /** A failure the policy covers found no retry left: Envoy's URX (UpstreamRetryLimitExceeded). */
  limitExceeded = false;
  /** A retry the policy allowed was refused by maxRetries (Envoy's upstream_rq_retry_overflow, flag UO). */
  overflowed = false;
  private holdsRetry = false;

  constructor(
    private readonly policy: RetryPolicy | undefined,
    private readonly attemptCountHeader: boolean,
    private readonly breaker: Breaker = NO_BREAKER,
  ) {
    this.on = policy ? retryOnOf(policy) : NO_RETRY_ON;
    this.retriesLeft = policy?.numRetries ?? 0;
  }

  private take(): boolean {
    if (this.retriesLeft <= 0) {
      this.limitExceeded = true;
      return false;
    }
    this.retriesLeft--;
    if (!this.breaker.tryAcquire(RETRY)) {
      this.overflowed = true;
      return false;
    }
    this.holdsRetry = true;
    this.retriesDone++;
    return true;
  }

  /** The backoff is over (the retry starts) or the request ended during it: the retry resource goes back. */
  releaseRetry(): void {
    if (!this.holdsRetry) return;
    this.holdsRetry = false;
    this.breaker.release(RETRY);
  }

  shouldRetryConnectFailure(): boolean {
    return (this.on.has('connect-failure') || this.on.has('reset') || this.on.has('5xx') || this.on.has('gateway-error')) && this.take();
  }

  shouldRetryReset(): boolean {
    return (this.on.has('reset') || this.on.has('5xx')) && this.take();
  }

  shouldRetryTimeout(): boolean {
    return (this.on.has('5xx') || this.on.has('gateway-error') || this.on.has('reset')) && this.take();
  }

  /** An h2 upstream refused the stream (REFUSED_STREAM): nothing was processed. */
  shouldRetryRefusedStream(): boolean {
    return (this.on.has('refused-stream') || this.on.has('reset') || this.on.has('5xx')) && this.take();
  }

  /** Envoy's gRPC retry_on names, read from a response's grpc-status (in its headers: trailers-only). */
  shouldRetryGrpcStatus(grpcStatus: number): boolean {
    const name = GRPC_RETRY_ON[grpcStatus];
    return name !== undefined && this.on.has(name) && this.take();
  }

  shouldRetryStatus(status: number): boolean {
    // The status first: asked of every response, most of them 2xx, where each set lookup is a hash probe.
    const hit =
      (status >= 500 && (this.on.has('5xx') || ((status === 502 || status === 503 || status === 504) && this.on.has('gateway-error')))) ||
      (status === 409 && this.on.has('retriable-4xx')) ||
      ((this.policy?.retriableStatusCodes.includes(status) ?? false) && this.on.has('retriable-status-codes'));
    return hit && this.take();
  }

  nextBackoffMs(): number {
    const ceiling = Math.min(BASE_BACKOFF_MS * 2 ** (this.retriesDone - 1), MAX_BACKOFF_MS);
    return Math.random() * ceiling;
  }

  /** Istio turns on include_request_attempt_count: the upstream sees which attempt this is. */
  stampAttempt(h: HeaderList, attempt: number): void {
    if (this.attemptCountHeader) setHeader(h, 'x-envoy-attempt-count', String(attempt));
  }
}
