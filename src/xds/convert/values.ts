/**
 * Readers for fields of Envoy resources in either of the two shapes they reach us in:
 * decoded by protobufjs (protos.ts DECODE_OPTIONS: Duration `{seconds, nanos}`, wrappers
 * `{value}`, Struct `{fields}`, unknown Any `{type_url, value}`) or Envoy's canonical JSON as
 * in a config_dump (`"1.5s"`, bare numbers, plain objects, `{'@type', …}`). Absent fields read
 * as undefined, so callers apply Envoy's defaults.
 */

// Decoded resources are untyped trees; the converters check what they read.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

/** The type URL of an Any (expanded or not). */
export function typeUrl(any: Json): string | undefined {
  return any?.['@type'] ?? any?.type_url;
}

/** The message name of an Any's type URL: `envoy.config.cluster.v3.Cluster`. */
export function typeName(any: Json): string | undefined {
  const url = typeUrl(any);
  return url?.slice(url.lastIndexOf('/') + 1);
}

export function durationMs(v: Json): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') {
    const m = /^(-?\d+(?:\.\d+)?)s$/.exec(v);
    if (!m) throw new Error(`invalid duration ${JSON.stringify(v)}`);
    return Math.round(Number(m[1]) * 1000);
  }
  return Math.round(Number(v.seconds ?? 0) * 1000 + Number(v.nanos ?? 0) / 1e6);
}

/** A number from a bare value, a 64-bit string or a wrapper (`UInt32Value`). */
export function num(v: Json): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'object') return num(v.value);
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`invalid number ${JSON.stringify(v)}`);
  return n;
}

export function bool(v: Json): boolean | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'object') return bool(v.value);
  return Boolean(v);
}

function isProtoStruct(v: Json): boolean {
  if (!v || typeof v !== 'object' || !v.fields || typeof v.fields !== 'object' || Object.keys(v).length !== 1) return false;
  return Object.values(v.fields).every((x: Json) => x && typeof x === 'object' && Object.keys(x).every((k) => k.endsWith('Value') || k === 'kind'));
}

// protobufjs bundles struct.proto with camelCase field names (stringValue, …), whatever keepCase says.
function fromProtoValue(v: Json): unknown {
  if ('structValue' in v) return structToPlain(v.structValue);
  if ('listValue' in v) return (v.listValue.values ?? []).map(fromProtoValue);
  if ('nullValue' in v) return null;
  return v.stringValue ?? v.numberValue ?? v.boolValue;
}

/** A google.protobuf.Struct as a plain object. */
export function structToPlain(v: Json): Record<string, unknown> {
  if (!v) return {};
  if (!isProtoStruct(v)) return v;
  return Object.fromEntries(Object.entries(v.fields).map(([k, x]) => [k, fromProtoValue(x)]));
}

/** A plain object as a google.protobuf.Struct (protobufjs object form), e.g. for the node metadata. */
export function plainToStruct(o: Record<string, unknown>): Json {
  const value = (x: unknown): Json => {
    if (x === null || x === undefined) return { nullValue: 'NULL_VALUE' };
    if (typeof x === 'string') return { stringValue: x };
    if (typeof x === 'number') return { numberValue: x };
    if (typeof x === 'boolean') return { boolValue: x };
    if (Array.isArray(x)) return { listValue: { values: x.map(value) } };
    return { structValue: plainToStruct(x as Record<string, unknown>) };
  };
  return { fields: Object.fromEntries(Object.entries(o).map(([k, x]) => [k, value(x)])) };
}

/** Istio's filter metadata: `metadata.filter_metadata.istio` as a plain object. */
export function istioMetadata(resource: Json): Record<string, unknown> {
  return structToPlain(resource?.metadata?.filter_metadata?.istio);
}

/** Envoy's FractionalPercent as a percentage (0–100). */
export function fractionPercent(v: Json, dflt = 100): number {
  if (!v) return dflt;
  const denom = ({ HUNDRED: 100, TEN_THOUSAND: 10_000, MILLION: 1_000_000 } as Record<string, number>)[v.denominator ?? 'HUNDRED'] ?? 100;
  return ((num(v.numerator) ?? 0) * 100) / denom;
}

/** An address_prefix / prefix_len pair as a CIDR. */
export function cidr(r: Json): string {
  // proto3 leaves a zero prefix_len out: absent is /0, never an exact address.
  return `${r.address_prefix}/${num(r.prefix_len) ?? 0}`;
}
