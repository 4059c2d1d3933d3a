import type { HeaderList } from '../../network/http_connection_manager/codec/index.js';
import { newTraceparent, randomHexId, TRACEPARENT_SPAN_ID, TRACEPARENT_TRACE_ID } from './ids.js';

/** Istio's default sampling (mesh `defaultConfig.tracing.sampling`: 1 %) for requests that bring no decision. */
export const DEFAULT_SAMPLING_PERCENT = 1;

const HEX16 = /^[0-9a-f]{16}$/;
const HEX16_OR_32 = /^(?:[0-9a-f]{16}|[0-9a-f]{32})$/;
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);

// Where the trace headers sit in a request's header list (index of the name, -1 when absent).
let iTraceId = -1;
let iSpanId = -1;
let iParent = -1;
let iSampled = -1;
let iFlags = -1;
let iB3 = -1;
let iTraceparent = -1;
let iTracestate = -1;

function locate(h: HeaderList): void {
  iTraceId = iSpanId = iParent = iSampled = iFlags = iB3 = iTraceparent = iTracestate = -1;
  for (let i = 0; i < h.length; i += 2) {
    const name = h[i]!;
    if (!mayBeTraceName(name)) continue;
    switch (name) {
      case 'x-b3-traceid': iTraceId = i; break;
      case 'x-b3-spanid': iSpanId = i; break;
      case 'x-b3-parentspanid': iParent = i; break;
      case 'x-b3-sampled': iSampled = i; break;
      case 'x-b3-flags': iFlags = i; break;
      case 'b3': iB3 = i; break;
      case 'traceparent': iTraceparent = i; break;
      case 'tracestate': iTracestate = i; break;
    }
  }
}

/**
 * False for most names by their first bytes (x-b3-*, b3, tra…): the switch above compares
 * whole strings, one call per case, for every field of every request.
 */
function mayBeTraceName(name: string): boolean {
  const c = name.charCodeAt(0);
  if (c === 0x78) return name.charCodeAt(2) === 0x62 && name.charCodeAt(3) === 0x33; // "x-b3"
  if (c === 0x62) return name.length === 2; // "b3"
  return c === 0x74 && name.charCodeAt(1) === 0x72 && name.charCodeAt(2) === 0x61; // "tra"
}

function put(h: HeaderList, at: number, name: string, value: string): void {
  if (at >= 0) h[at + 1] = value;
  else h.push(name, value);
}

/** B3 sampling states: `1`/`true` sample, `d` debug (sample), `0`/`false` deny. */
function b3Sampled(v: string | undefined): boolean | undefined {
  if (v === '1' || v === 'true' || v === 'd') return true;
  if (v === '0' || v === 'false') return false;
  return undefined;
}

/**
 * Zipkin-style trace context for one request, as Envoy's Zipkin tracer with Istio's settings
 * (128-bit trace ids) and B3 plus W3C propagation does: the incoming context is read from B3
 * (`x-b3-*`, else the single `b3` header), else from W3C `traceparent`; the proxy's span is its
 * child (new span id, parent = the incoming span), or the root of a new trace when there is no
 * context. Upstream gets both header sets with the same ids; `tracestate` is kept when it
 * belongs to the same trace. Without a sampling decision, `samplingPercent` decides.
 * No span is reported anywhere: Legate has no tracer backend yet.
 */
export function propagateTraceContext(h: HeaderList, samplingPercent = DEFAULT_SAMPLING_PERCENT): void {
  locate(h);
  let traceId: string | undefined;
  let parentId: string | undefined;
  let sampled: boolean | undefined;
  let w3cTraceId: string | undefined;
  const tp = iTraceparent >= 0 ? TRACEPARENT.exec(h[iTraceparent + 1].toLowerCase()) : null;
  if (tp && tp[1] !== ZERO_TRACE && tp[2] !== ZERO_SPAN) w3cTraceId = tp[1];
  if (iTraceId >= 0 && iSpanId >= 0) {
    const t = h[iTraceId + 1].toLowerCase();
    const s = h[iSpanId + 1].toLowerCase();
    if (HEX16_OR_32.test(t) && HEX16.test(s)) {
      traceId = t;
      parentId = s;
    }
    sampled = iFlags >= 0 && h[iFlags + 1] === '1' ? true : b3Sampled(iSampled >= 0 ? h[iSampled + 1] : undefined);
  } else if (iB3 >= 0) {
    // Single header: {traceid}-{spanid}[-{sampled}[-{parentspanid}]], or just a sampling state.
    const parts = h[iB3 + 1].toLowerCase().split('-');
    if (parts.length >= 2 && HEX16_OR_32.test(parts[0]) && HEX16.test(parts[1])) {
      traceId = parts[0];
      parentId = parts[1];
      sampled = b3Sampled(parts[2]);
    } else if (parts.length === 1) sampled = b3Sampled(parts[0]);
  } else if (w3cTraceId && tp) {
    traceId = w3cTraceId;
    parentId = tp[2];
    sampled = (parseInt(tp[3], 16) & 1) === 1;
  }
  if (iSampled >= 0 && sampled === undefined) sampled = b3Sampled(h[iSampled + 1]);
  sampled ??= Math.random() * 100 < samplingPercent;
  const flag = sampled ? '1' : '0';
  let spanId: string;
  let traceparent: string;
  let w3cId: string;
  if (traceId === undefined) {
    // A new trace, the usual case: the ids are slices of the one traceparent string.
    traceparent = newTraceparent(sampled);
    traceId = w3cId = traceparent.slice(TRACEPARENT_TRACE_ID[0], TRACEPARENT_TRACE_ID[1]);
    spanId = traceparent.slice(TRACEPARENT_SPAN_ID[0], TRACEPARENT_SPAN_ID[1]);
  } else {
    spanId = randomHexId(8);
    w3cId = traceId.padStart(32, '0');
    traceparent = `00-${w3cId}-${spanId}-0${flag}`;
  }

  put(h, iTraceId, 'x-b3-traceid', traceId);
  put(h, iSpanId, 'x-b3-spanid', spanId);
  put(h, iSampled, 'x-b3-sampled', flag);
  if (parentId) put(h, iParent, 'x-b3-parentspanid', parentId);
  put(h, iTraceparent, 'traceparent', traceparent);
  // Removals last (-1: keep), the higher index first, so the other stays valid.
  const dropParent = !parentId ? iParent : -1;
  const dropState = w3cTraceId !== w3cId ? iTracestate : -1;
  const higher = Math.max(dropParent, dropState);
  const lower = Math.min(dropParent, dropState);
  if (higher >= 0) h.splice(higher, 2);
  if (lower >= 0) h.splice(lower, 2);
}
