/**
 * Writers for the Envoy v3 JSON the encoders produce (canonical proto3 JSON, as a config_dump
 * shows it): `proto_json.ts` turns it into protos for the wire. The inverse of convert/values.ts.
 */
import type { Json } from '../convert/values.js';

export type { Json };

/** Milliseconds as a proto3 JSON Duration (`"1.5s"`). */
export function duration(ms: number): string {
  return `${ms / 1000}s`;
}

/** A percentage (0–100, maybe fractional) as Envoy's FractionalPercent, exact where it can be. */
export function fractionalPercent(percent: number): Json {
  if (Number.isInteger(percent)) return { numerator: percent, denominator: 'HUNDRED' };
  return { numerator: Math.round(percent * 10_000), denominator: 'MILLION' };
}

/** A CIDR (or a bare address) as Envoy's CidrRange. */
export function cidrRange(cidr: string): Json {
  const [address, len] = cidr.split('/');
  return { address_prefix: address, prefix_len: len === undefined ? (address!.includes(':') ? 128 : 32) : Number(len) };
}

/** Istio's filter metadata (`metadata.filter_metadata.istio`), left out when empty. */
export function istioMetadata(istio: Record<string, unknown>): Json {
  return Object.keys(istio).length > 0 ? { metadata: { filter_metadata: { istio } } } : {};
}

/** The config source of RDS and EDS: the ADS stream the resource came on. */
export const ADS_SOURCE = { ads: {}, resource_api_version: 'V3' } as const;

/** Adds `key: value` unless the value is undefined (keeps the JSON free of holes). */
export function put(out: Json, key: string, value: unknown): void {
  if (value !== undefined) out[key] = value;
}
