/**
 * Counters and gauges shared by all workers without messages. One SharedArrayBuffer holds
 * a slab of float64 slots per worker; each worker writes only its own slab (no atomics,
 * no contention on the hot path) and readers sum the slabs. Slot indexes are assigned on
 * the main thread and reach workers inside the config snapshot, so workers never see names.
 */

import { HIST_SLOTS, recordBucket } from './buckets.js';
import { LatencyRecorder } from './latency.js';
import { createIstioShared, IstioRecorder, resetIstioCounters, type IstioShared } from './istio/series_table.js';
import { IstioPeers } from './istio/peers.js';
import type { ProxyIdentity } from './istio/identity.js';

export type StatKind = 'counter' | 'gauge' | 'histogram';

export interface StatsShared {
  values: SharedArrayBuffer;
  /** Int32 slot per slab: the threadId of the worker that owns it, 0 when free. */
  owners: SharedArrayBuffer;
  capacity: number;
  slabs: number;
  /** Istio's standard metrics (absent when turned off). */
  istio?: IstioShared;
}

export interface StatInfo {
  /** Envoy's flat name, e.g. `cluster.outbound|80||a.com.upstream_cx_total`. */
  name: string;
  /** Envoy's Prometheus name and tags, e.g. `envoy_cluster_upstream_cx_total`, `cluster_name="…"`. */
  promName: string;
  promLabels: string;
  kind: StatKind;
}

/** A histogram's HIST_SLOTS slots after the first carry this marker: they are no stats of their own. */
const HISTOGRAM_SLOT: StatInfo = { name: '', promName: '', promLabels: '', kind: 'histogram' };

/** A family of stats that repeats per object (cluster, listener, tcp_proxy prefix). */
export interface StatScopeDef<F extends string> {
  /** Envoy's flat prefix before the object name: `cluster`, `listener`, `tcp`. */
  prefix: string;
  /** Prometheus tag naming the object: `cluster_name`, `listener_address`, `tcp_prefix`. */
  tag: string;
  fields: readonly F[];
  gauges: ReadonlySet<F>;
  /** Histograms (times in ms), each HIST_SLOTS slots after the fields; names are also in `fields`' type. */
  histograms?: readonly F[];
}

export type Offsets<F extends string> = { readonly [K in F]: number };

/**
 * Offsets of a scope's fields, then of its histograms (HIST_SLOTS apart). Built in one go: an
 * object grown past a dozen properties by keyed stores becomes a dictionary in V8, and then each
 * `C.upstream_rq_total` on the data path is a generic inline-cache call (~200 instructions)
 * instead of a constant.
 */
export function offsetsOf<F extends string>(fields: readonly F[], histograms: readonly F[] = []): Offsets<F> {
  const entries: [F, number][] = fields.map((f, i) => [f, i]);
  histograms.forEach((h, i) => entries.push([h, fields.length + i * HIST_SLOTS]));
  return Object.fromEntries(entries) as Offsets<F>;
}

const escapeLabel = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

export class StatsRegistry {
  readonly shared: StatsShared;
  private readonly info: StatInfo[] = [];
  private readonly byName = new Map<string, number>();
  private readonly scopes = new Map<string, number>();
  private readonly values: Float64Array;
  /** Gauges computed when read from state that lives elsewhere (circuit-breaker counts). */
  private readonly computed: { info: StatInfo; read: () => number }[] = [];
  private readonly computedNames = new Set<string>();
  private readonly histogramBases: number[] = [];
  /** Istio's standard metrics: the shared series table and the peer label sets numbered here. */
  readonly istio: { shared: IstioShared; peers: IstioPeers } | undefined;

  /** `istio`: this proxy's identity and how many label sets the Istio table holds; omit to turn Istio's metrics off. */
  constructor(opts: { capacity?: number; slabs: number; istio?: { identity: ProxyIdentity; maxSeries: number } }) {
    const capacity = opts.capacity ?? 1 << 17;
    const istio = opts.istio && opts.istio.maxSeries > 0 ? createIstioShared(opts.istio.maxSeries, opts.slabs) : undefined;
    this.shared = {
      values: new SharedArrayBuffer(capacity * opts.slabs * 8),
      owners: new SharedArrayBuffer(opts.slabs * 4),
      capacity,
      slabs: opts.slabs,
      ...(istio ? { istio } : {}),
    };
    this.values = new Float64Array(this.shared.values);
    this.istio = istio && opts.istio ? { shared: istio, peers: new IstioPeers(opts.istio.identity) } : undefined;
  }

  /** Index of a single stat (a histogram: its first of HIST_SLOTS slots), created on first use; stable for the life of the process. */
  define(name: string, kind: StatKind, promName: string, promLabels = ''): number {
    const existing = this.byName.get(name);
    if (existing !== undefined) return existing;
    const idx = this.info.length;
    const slots = kind === 'histogram' ? HIST_SLOTS : 1;
    if (idx + slots > this.shared.capacity) throw new Error(`stats capacity ${this.shared.capacity} exhausted (raise --stats-capacity)`);
    this.info.push({ name, promName, promLabels, kind });
    for (let i = 1; i < slots; i++) this.info.push(HISTOGRAM_SLOT);
    this.byName.set(name, idx);
    if (kind === 'histogram') this.histogramBases.push(idx);
    return idx;
  }

  /** Base index of a contiguous block of a scope's fields for one object (e.g. one cluster). */
  scope<F extends string>(def: StatScopeDef<F>, object: string): number {
    const key = `${def.prefix}\u0000${object}`;
    const existing = this.scopes.get(key);
    if (existing !== undefined) return existing;
    const labels = `${def.tag}="${escapeLabel(object)}"`;
    let base = -1;
    for (const f of def.fields) {
      const kind: StatKind = def.gauges.has(f) ? 'gauge' : 'counter';
      // Istio's tag extraction (`_rq(_(\dxx))$` → response_code_class): upstream_rq_2xx is envoy_cluster_upstream_rq{response_code_class="2xx"}.
      const cls = /^(.*_rq)_([1-5]xx)$/.exec(f);
      const idx = cls
        ? this.define(`${def.prefix}.${object}.${f}`, kind, `envoy_${def.prefix}_${cls[1]}`, `${labels},response_code_class="${cls[2]}"`)
        : this.define(`${def.prefix}.${object}.${f}`, kind, `envoy_${def.prefix}_${f.replace(/\./g, '_')}`, labels);
      if (base < 0) base = idx;
    }
    for (const h of def.histograms ?? []) this.define(`${def.prefix}.${object}.${h}`, 'histogram', `envoy_${def.prefix}_${h}`, labels);
    this.scopes.set(key, base);
    return base;
  }

  /**
   * A gauge of a scope's object whose value is computed on read (e.g.
   * `cluster.<name>.circuit_breakers.default.cx_open`); dots in the field become underscores
   * in the Prometheus name, as Envoy renders them. Defined once per name.
   */
  computedGauge(scope: Pick<StatScopeDef<string>, 'prefix' | 'tag'>, object: string, field: string, read: () => number): void {
    const name = `${scope.prefix}.${object}.${field}`;
    if (this.computedNames.has(name)) return;
    this.computedNames.add(name);
    const promName = `envoy_${scope.prefix}_${field.replace(/\./g, '_')}`;
    this.computed.push({ info: { name, promName, promLabels: `${scope.tag}="${escapeLabel(object)}"`, kind: 'gauge' }, read });
  }

  /** Sum of one stat over all slabs. */
  read(idx: number): number {
    const { capacity, slabs } = this.shared;
    let sum = 0;
    for (let s = 0; s < slabs; s++) sum += this.values[s * capacity + idx];
    return sum;
  }

  readByName(name: string): number | undefined {
    const idx = this.byName.get(name);
    if (idx !== undefined) return this.read(idx);
    return this.computed.find((c) => c.info.name === name)?.read();
  }

  /** Counters and gauges with their values. */
  entries(): { info: StatInfo; value: number }[] {
    const out: { info: StatInfo; value: number }[] = [];
    this.info.forEach((info, idx) => {
      if (info.kind !== 'histogram') out.push({ info, value: this.read(idx) });
    });
    for (const c of this.computed) out.push({ info: c.info, value: c.read() });
    return out;
  }

  /** Histograms: their info and first slot (buckets are read with `read`). */
  histograms(): { info: StatInfo; base: number }[] {
    return this.histogramBases.map((base) => ({ info: this.info[base], base }));
  }

  /** Main thread's own slab is the last one: it counts what the main thread sees (accept errors…). */
  mainWriter(): StatsWriter {
    return new StatsWriter(this.shared, this.shared.slabs - 1);
  }

  /** A dead worker's connections are gone: free its slab and zero its gauges (counters stay). Returns the slabs freed. */
  releaseSlab(threadId: number): number[] {
    const owners = new Int32Array(this.shared.owners);
    const freed: number[] = [];
    for (let s = 0; s < this.shared.slabs - 1; s++) {
      if (Atomics.load(owners, s) !== threadId) continue;
      freed.push(s);
      const base = s * this.shared.capacity;
      this.info.forEach((info, idx) => {
        if (info.kind === 'gauge') this.values[base + idx] = 0;
      });
      Atomics.store(owners, s, 0);
    }
    return freed;
  }

  resetCounters(): void {
    const { capacity, slabs } = this.shared;
    this.info.forEach((info, idx) => {
      if (info.kind !== 'counter') return;
      for (let s = 0; s < slabs; s++) this.values[s * capacity + idx] = 0;
    });
    if (this.istio) resetIstioCounters(this.istio.shared);
  }
}

/** A worker's view: its own slab of the shared values. */
export class StatsWriter {
  readonly v: Float64Array;
  /** Quantiles of this thread's histograms, sent to the main thread when /stats asks (latency.ts). */
  readonly latency = new LatencyRecorder();
  /** Istio's standard metrics, written to this slab of their table; undefined when turned off. */
  readonly istio: IstioRecorder | undefined;
  constructor(
    shared: StatsShared,
    /** Which slab this writer owns (per-host stats use the same slab number). */
    readonly slab: number,
  ) {
    this.v = new Float64Array(shared.values, slab * shared.capacity * 8, shared.capacity);
    this.istio = shared.istio ? new IstioRecorder(shared.istio, slab) : undefined;
  }

  /** Claims a free slab for this thread (the last slab belongs to the main thread). */
  static claim(shared: StatsShared, threadId: number): StatsWriter {
    const owners = new Int32Array(shared.owners);
    for (let s = 0; s < shared.slabs - 1; s++) {
      if (Atomics.compareExchange(owners, s, 0, threadId) === 0) return new StatsWriter(shared, s);
    }
    // More live workers than slabs cannot happen (slabs = 2 × workers + 1); share the first as a last resort.
    return new StatsWriter(shared, 0);
  }

  add(idx: number, n: number): void {
    this.v[idx] += n;
  }
  inc(idx: number): void {
    this.v[idx]++;
  }
  dec(idx: number): void {
    this.v[idx]--;
  }
  /** One sample into the fixed buckets of the histogram at `base` (Prometheus); quantiles are kept apart (latency.ts). */
  record(base: number, ms: number): void {
    recordBucket(this.v, base, ms);
    this.latency.record(base, ms);
  }
}
