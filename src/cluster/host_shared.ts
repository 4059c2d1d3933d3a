/**
 * Per-host state shared by every worker and the main thread, one slot per (cluster, host)
 * that the main thread assigns (src/cluster/host_registry.ts) and sends with snapshots and
 * DNS host updates. Two areas:
 * - `outlier`: Int32 per field, written with Atomics by any worker (Envoy keeps these
 *   consecutive-error counters in atomics shared by its workers) and the main thread's
 *   verdict (`EJECTED`);
 * - `stats`: Envoy's per-host counters and gauges for /clusters, a float64 slab per worker
 *   like src/stats/store.ts (each worker writes only its own slab, readers sum).
 * Slot 0 is a sink for hosts without a slot (ORIGINAL_DST, slots exhausted): written, never read.
 */

export const OUTLIER_FIELDS = 4;
export const O_CONSECUTIVE_5XX = 0;
export const O_CONSECUTIVE_GATEWAY = 1;
export const O_CONSECUTIVE_LOCAL_ORIGIN = 2;
export const O_EJECTED = 3;

/** Envoy's host stats, in the order /clusters prints them (counters, then gauges). */
export const HOST_COUNTERS = ['cx_connect_fail', 'cx_total', 'rq_error', 'rq_success', 'rq_timeout', 'rq_total'] as const;
export const HOST_GAUGES = ['cx_active', 'rq_active'] as const;
const HOST_FIELDS_LIST = [...HOST_COUNTERS, ...HOST_GAUGES] as const;
export type HostStatName = (typeof HOST_FIELDS_LIST)[number];
export const HOST_STAT_FIELDS = HOST_FIELDS_LIST.length;
export const HS = Object.fromEntries(HOST_FIELDS_LIST.map((f, i) => [f, i])) as { readonly [K in HostStatName]: number };

export const SINK_SLOT = 0;

export interface HostShared {
  outlier: SharedArrayBuffer;
  stats: SharedArrayBuffer;
  capacity: number;
  slabs: number;
}

export function createHostShared(capacity: number, slabs: number): HostShared {
  return {
    outlier: new SharedArrayBuffer(capacity * OUTLIER_FIELDS * 4),
    stats: new SharedArrayBuffer(capacity * HOST_STAT_FIELDS * slabs * 8),
    capacity,
    slabs,
  };
}

/** A worker's (or the main thread's) window on the shared host state. */
export class HostSlots {
  readonly outlier: Int32Array;
  /** This thread's own stats slab. */
  readonly stats: Float64Array;
  private readonly all: Float64Array;

  constructor(
    readonly shared: HostShared,
    slab: number,
  ) {
    this.outlier = new Int32Array(shared.outlier);
    const slabLen = shared.capacity * HOST_STAT_FIELDS;
    this.all = new Float64Array(shared.stats);
    this.stats = new Float64Array(shared.stats, slab * slabLen * 8, slabLen);
  }

  isEjected(slot: number): boolean {
    return slot !== SINK_SLOT && Atomics.load(this.outlier, slot * OUTLIER_FIELDS + O_EJECTED) === 1;
  }

  /** One host stat summed over every slab. */
  read(slot: number, field: number): number {
    const slabLen = this.shared.capacity * HOST_STAT_FIELDS;
    let sum = 0;
    for (let s = 0; s < this.shared.slabs; s++) sum += this.all[s * slabLen + slot * HOST_STAT_FIELDS + field];
    return sum;
  }

  /** A slot handed to a new host starts from zero (main thread, at assignment). */
  clear(slot: number): void {
    for (let f = 0; f < OUTLIER_FIELDS; f++) Atomics.store(this.outlier, slot * OUTLIER_FIELDS + f, 0);
    const slabLen = this.shared.capacity * HOST_STAT_FIELDS;
    for (let s = 0; s < this.shared.slabs; s++) this.all.fill(0, s * slabLen + slot * HOST_STAT_FIELDS, s * slabLen + (slot + 1) * HOST_STAT_FIELDS);
  }

  /** A dead worker's connections are gone: zero its slab's gauges. */
  zeroGauges(slab: number): void {
    const slabLen = this.shared.capacity * HOST_STAT_FIELDS;
    for (let slot = 0; slot < this.shared.capacity; slot++) {
      for (const g of HOST_GAUGES) this.all[slab * slabLen + slot * HOST_STAT_FIELDS + HS[g]] = 0;
    }
  }
}

let sink: HostSlots | undefined;
/** For callers without shared host state (unit tests): one slot, the sink. */
export function sinkHostSlots(): HostSlots {
  return (sink ??= new HostSlots(createHostShared(1, 1), 0));
}
