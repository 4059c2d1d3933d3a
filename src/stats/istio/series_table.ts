import { HIST_SLOTS, recordBucket } from '../buckets.js';

/**
 * Istio's standard metrics in shared memory, without a message per request. A series is one
 * label set: a peer (the fixed labels of a cluster as seen from this proxy, numbered on the
 * main thread) × response code × response flags × protocol. A worker that meets a new one
 * claims a series number in the shared descriptor table (one Atomics.add) and writes its
 * four numbers there; the main thread reads descriptors when it renders. Values live in one
 * block of slots per series in each worker's own slab (plain writes, summed on read), so the
 * hot path is one Map lookup on a number and a few float additions.
 */

export const enum IstioProtocol {
  Http = 0,
  Tcp = 1,
  /** gRPC with no grpc-status (reset, no answer); GrpcStatus + n carries grpc_response_status n (0–16). */
  GrpcNoStatus = 2,
  GrpcStatus = 3,
}

/** The protocol number of a gRPC request's series. */
export function grpcProtocol(grpcStatus: number | undefined): number {
  return grpcStatus === undefined || grpcStatus < 0 || grpcStatus > 16 ? IstioProtocol.GrpcNoStatus : IstioProtocol.GrpcStatus + grpcStatus;
}
/** Or-ed into the protocol: the server side of a mutual TLS connection (connection_security_policy="mutual_tls"). */
export const MUTUAL_TLS = 32;
/** The IstioProtocol part of a series' protocol number (without MUTUAL_TLS). */
export const PROTOCOL_KIND = 31;

/** Slots of a series' block. HTTP: the counter, then three histograms. TCP: four counters. */
export const REQUESTS = 0;
export const DURATION = 1;
export const REQUEST_BYTES = DURATION + HIST_SLOTS;
export const RESPONSE_BYTES = REQUEST_BYTES + HIST_SLOTS;
export const BLOCK = RESPONSE_BYTES + HIST_SLOTS;
export const TCP_OPENED = 0;
export const TCP_CLOSED = 1;
export const TCP_SENT = 2;
export const TCP_RECEIVED = 3;

/** Descriptor per series: state (0 claimed, 1 written), peer, response code, flags, protocol. */
const DESC = 5;

export interface IstioShared {
  values: SharedArrayBuffer;
  /** Int32: [0] series claimed so far, then DESC ints per series. */
  series: SharedArrayBuffer;
  maxSeries: number;
  slabs: number;
}

export function createIstioShared(maxSeries: number, slabs: number): IstioShared {
  return {
    values: new SharedArrayBuffer(maxSeries * BLOCK * slabs * 8),
    series: new SharedArrayBuffer((1 + maxSeries * DESC) * 4),
    maxSeries,
    slabs,
  };
}

/** A worker's writer: its slab of the values, and which series it has met. */
export class IstioRecorder {
  private readonly v: Float64Array;
  private readonly desc: Int32Array;
  /** Series key (numbers only) → first slot of the series' block in this slab; -1 once the table is full. */
  private readonly known = new Map<number, number>();

  constructor(
    private readonly shared: IstioShared,
    slab: number,
  ) {
    const slabSlots = shared.maxSeries * BLOCK;
    this.v = new Float64Array(shared.values, slab * slabSlots * 8, slabSlots);
    this.desc = new Int32Array(shared.series);
  }

  /** `protocol`: IstioProtocol.Http, or grpcProtocol(status) for a gRPC request; MUTUAL_TLS or-ed in on the server side of mTLS. */
  recordHttp(peer: number, code: number, flags: number, durationMs: number, requestBytes: number, responseBytes: number, protocol: number = IstioProtocol.Http): void {
    const base = this.block(peer, code, flags, protocol);
    if (base < 0) return;
    const v = this.v;
    v[base + REQUESTS]++;
    recordBucket(v, base + DURATION, durationMs);
    recordBucket(v, base + REQUEST_BYTES, requestBytes);
    recordBucket(v, base + RESPONSE_BYTES, responseBytes);
  }

  tcpOpened(peer: number, flags: number, mutualTls = false): void {
    const base = this.block(peer, 0, flags, IstioProtocol.Tcp | (mutualTls ? MUTUAL_TLS : 0));
    if (base >= 0) this.v[base + TCP_OPENED]++;
  }

  tcpClosed(peer: number, flags: number, sentBytes: number, receivedBytes: number, mutualTls = false): void {
    const base = this.block(peer, 0, flags, IstioProtocol.Tcp | (mutualTls ? MUTUAL_TLS : 0));
    if (base < 0) return;
    const v = this.v;
    v[base + TCP_CLOSED]++;
    v[base + TCP_SENT] += sentBytes;
    v[base + TCP_RECEIVED] += receivedBytes;
  }

  private block(peer: number, code: number, flags: number, protocol: number): number {
    // peer < 2^20, code < 1000, flags < 2^15, protocol < 64: an exact integer below 2^53.
    const key = ((peer * 1000 + code) * 32768 + flags) * 64 + protocol;
    const known = this.known.get(key);
    if (known !== undefined) return known;
    const series = this.find(peer, code, flags, protocol) ?? this.claim(peer, code, flags, protocol);
    const base = series < 0 ? -1 : series * BLOCK;
    this.known.set(key, base);
    return base;
  }

  /** Another worker may have met this label set already: share its series number. */
  private find(peer: number, code: number, flags: number, protocol: number): number | undefined {
    const d = this.desc;
    const n = Math.min(Atomics.load(d, 0), this.shared.maxSeries);
    for (let i = 0; i < n; i++) {
      const at = 1 + i * DESC;
      if (Atomics.load(d, at) === 1 && d[at + 1] === peer && d[at + 2] === code && d[at + 3] === flags && d[at + 4] === protocol) return i;
    }
    return undefined;
  }

  private claim(peer: number, code: number, flags: number, protocol: number): number {
    const d = this.desc;
    const i = Atomics.add(d, 0, 1);
    if (i >= this.shared.maxSeries) return -1;
    const at = 1 + i * DESC;
    d[at + 1] = peer;
    d[at + 2] = code;
    d[at + 3] = flags;
    d[at + 4] = protocol;
    Atomics.store(d, at, 1);
    return i;
  }
}

export interface IstioSeries {
  peer: number;
  code: number;
  flags: number;
  /** IstioProtocol, with MUTUAL_TLS or-ed in. */
  protocol: number;
  /** Sum over every slab (and over duplicate series two workers claimed at once) of one slot. */
  read(slot: number): number;
}

/** The main thread's view: every written series, duplicates merged. */
export function readIstioSeries(shared: IstioShared): IstioSeries[] {
  const d = new Int32Array(shared.series);
  const v = new Float64Array(shared.values);
  const slabSlots = shared.maxSeries * BLOCK;
  const byKey = new Map<string, { peer: number; code: number; flags: number; protocol: number; bases: number[] }>();
  const n = Math.min(Atomics.load(d, 0), shared.maxSeries);
  for (let i = 0; i < n; i++) {
    const at = 1 + i * DESC;
    if (Atomics.load(d, at) !== 1) continue;
    const key = `${d[at + 1]},${d[at + 2]},${d[at + 3]},${d[at + 4]}`;
    let s = byKey.get(key);
    if (!s) byKey.set(key, (s = { peer: d[at + 1], code: d[at + 2], flags: d[at + 3], protocol: d[at + 4], bases: [] }));
    s.bases.push(i * BLOCK);
  }
  return [...byKey.values()].map(({ bases, ...s }) => ({
    ...s,
    read: (slot: number) => {
      let sum = 0;
      for (let slab = 0; slab < shared.slabs; slab++) for (const b of bases) sum += v[slab * slabSlots + b + slot];
      return sum;
    },
  }));
}

/** /reset_counters: the counters go back to zero (histograms stay, as in Envoy). */
export function resetIstioCounters(shared: IstioShared): void {
  const d = new Int32Array(shared.series);
  const v = new Float64Array(shared.values);
  const slabSlots = shared.maxSeries * BLOCK;
  const n = Math.min(Atomics.load(d, 0), shared.maxSeries);
  for (let i = 0; i < n; i++) {
    const slots = (d[1 + i * DESC + 4] & PROTOCOL_KIND) === IstioProtocol.Tcp ? [TCP_OPENED, TCP_CLOSED, TCP_SENT, TCP_RECEIVED] : [REQUESTS];
    for (let slab = 0; slab < shared.slabs; slab++) for (const s of slots) v[slab * slabSlots + i * BLOCK + s] = 0;
  }
}
