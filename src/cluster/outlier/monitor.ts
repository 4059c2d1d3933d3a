import type { OutlierDetection } from '../../config/model.js';
import { O_CONSECUTIVE_5XX, O_CONSECUTIVE_GATEWAY, O_CONSECUTIVE_LOCAL_ORIGIN, OUTLIER_FIELDS, SINK_SLOT } from '../host_shared.js';
import { DEFAULT_CONSECUTIVE_LOCAL_ORIGIN, type EjectionType } from './detector.js';

/** A worker's report that a host reached a threshold (main thread decides; Envoy posts it to its main thread too). */
export interface OutlierReport {
  cluster: string;
  slot: number;
  type: EjectionType;
}

/** Envoy's locally originated results (Outlier::Result), as the router and tcp_proxy see them. */
export const enum LocalOrigin {
  ConnectFailed,
  Timeout,
  /** A connection was made; a response follows (HTTP). */
  ConnectSuccess,
  /** A connection was made and that is the whole result (tcp_proxy). */
  ConnectSuccessFinal,
}

/**
 * A worker's side of one cluster's outlier detection: every result bumps or clears the host's
 * consecutive counters in shared memory (the same counters for all workers, so three 5xx
 * spread over two workers are three in a row). A success writes only when a counter is not
 * already zero, and nothing is posted except when a counter reaches its threshold.
 */
export class OutlierMonitor {
  private readonly c5xx: number;
  private readonly gateway: number;
  private readonly localOrigin: number;
  private readonly split: boolean;

  constructor(
    private readonly cluster: string,
    config: OutlierDetection,
    private readonly counters: Int32Array,
    private readonly report: (r: OutlierReport) => void,
  ) {
    this.c5xx = config.consecutive5xx;
    this.gateway = config.consecutiveGatewayFailure;
    this.split = config.splitExternalLocalOriginErrors;
    this.localOrigin = this.split ? config.consecutiveLocalOriginFailure ?? DEFAULT_CONSECUTIVE_LOCAL_ORIGIN : 0;
  }

  /** An upstream response's status. */
  putHttpStatus(slot: number, status: number): void {
    if (slot === SINK_SLOT) return;
    const base = slot * OUTLIER_FIELDS;
    if (status >= 500 && status < 600) {
      if (status >= 502 && status <= 504) this.bump(slot, base + O_CONSECUTIVE_GATEWAY, this.gateway, 'consecutive_gateway_failure');
      else this.clear(base + O_CONSECUTIVE_GATEWAY);
      this.bump(slot, base + O_CONSECUTIVE_5XX, this.c5xx, 'consecutive_5xx');
    } else {
      this.clear(base + O_CONSECUTIVE_5XX);
      this.clear(base + O_CONSECUTIVE_GATEWAY);
    }
  }

  /**
   * Connect failures, resets and timeouts. Unless split_external_local_origin_errors, Envoy maps
   * them to HTTP codes (503 for a failed connection or reset, 504 for a timeout) and they count
   * as 5xx and gateway errors; split, they have their own counter.
   */
  putLocalOrigin(slot: number, result: LocalOrigin): void {
    if (slot === SINK_SLOT) return;
    if (!this.split) {
      if (result === LocalOrigin.ConnectFailed) this.putHttpStatus(slot, 503);
      else if (result === LocalOrigin.Timeout) this.putHttpStatus(slot, 504);
      else if (result === LocalOrigin.ConnectSuccessFinal) this.putHttpStatus(slot, 200);
      return;
    }
    const i = slot * OUTLIER_FIELDS + O_CONSECUTIVE_LOCAL_ORIGIN;
    if (result === LocalOrigin.ConnectFailed || result === LocalOrigin.Timeout) this.bump(slot, i, this.localOrigin, 'consecutive_local_origin_failure');
    else this.clear(i);
  }

  private bump(slot: number, i: number, threshold: number, type: EjectionType): void {
    if (threshold <= 0) return;
    // Exactly one increment (on whichever worker) sees the threshold reached.
    if (Atomics.add(this.counters, i, 1) + 1 === threshold) this.report({ cluster: this.cluster, slot, type });
  }

  private clear(i: number): void {
    if (Atomics.load(this.counters, i) !== 0) Atomics.store(this.counters, i, 0);
  }
}
