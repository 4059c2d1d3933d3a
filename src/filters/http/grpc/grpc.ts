import { Buffer } from 'node:buffer';
import { getHeader, type HeaderList } from '../../network/http_connection_manager/codec/index.js';
import type { LocalReply } from '../../network/http_connection_manager/local_reply.js';

/** gRPC status codes the proxy itself produces. */
export const GrpcStatus = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  DEADLINE_EXCEEDED: 4,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;

/** A gRPC request (gRPC and gRPC-Web): `content-type: application/grpc…`. */
export function isGrpcRequest(h: HeaderList): boolean {
  const ct = getHeader(h, 'content-type');
  return ct !== undefined && ct.startsWith('application/grpc');
}

/** Envoy's Grpc::Utility::httpToGrpcStatus (gRPC's http-grpc-status-mapping). */
export function httpToGrpcStatus(http: number): number {
  switch (http) {
    case 400:
      return GrpcStatus.INTERNAL;
    case 401:
      return GrpcStatus.UNAUTHENTICATED;
    case 403:
      return GrpcStatus.PERMISSION_DENIED;
    case 404:
      return GrpcStatus.UNIMPLEMENTED;
    case 429:
    case 502:
    case 503:
    case 504:
      return GrpcStatus.UNAVAILABLE;
    default:
      return GrpcStatus.UNKNOWN;
  }
}

/**
 * A local reply to a gRPC request, as Envoy sends it: HTTP 200, a trailers-only response whose
 * `grpc-status` maps the HTTP status (or is given, as for router timeouts: DEADLINE_EXCEEDED,
 * Envoy ≥ 1.38) and whose `grpc-message` is the body. The HTTP status stays what the reply
 * meant for logs and stats (Envoy logs the mapped 200; see docs/grpc.md).
 */
export function grpcLocalReply(reply: LocalReply, grpcStatus = httpToGrpcStatus(reply.status)): LocalReply {
  const headers = ['content-type', 'application/grpc', 'grpc-status', String(grpcStatus)];
  if (reply.body) headers.push('grpc-message', encodeGrpcMessage(reply.body));
  if (reply.headers) headers.push(...reply.headers);
  return { status: 200, body: '', details: reply.details, flag: reply.flag, headers };
}

/** grpc-message is percent-encoded (gRPC over HTTP/2 spec): unreserved printable ASCII stays. */
export function encodeGrpcMessage(s: string): string {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) out += b >= 0x20 && b <= 0x7e && b !== 0x25 ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  return out;
}

const TIMEOUT_UNIT_MS: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 0.001, n: 0.000001 };

/** `grpc-timeout` (1–8 digits and a unit) in milliseconds; undefined when absent or malformed. */
export function parseGrpcTimeout(value: string | undefined): number | undefined {
  if (value === undefined || value.length < 2 || value.length > 9) return undefined;
  const unit = TIMEOUT_UNIT_MS[value[value.length - 1]!];
  const digits = value.slice(0, -1);
  if (unit === undefined || !/^\d+$/.test(digits)) return undefined;
  return Math.ceil(Number(digits) * unit);
}

/**
 * Envoy's route timeout for a gRPC request: with max_grpc_timeout set (Istio sets it to the
 * route's timeout), grpc-timeout is honoured, capped by it when it is not 0 (0: uncapped).
 * Without max_grpc_timeout, the route timeout stands.
 */
export function grpcRouteTimeoutMs(routeTimeoutMs: number, maxGrpcTimeoutMs: number | undefined, grpcTimeout: string | undefined): number {
  if (maxGrpcTimeoutMs === undefined) return routeTimeoutMs;
  const asked = parseGrpcTimeout(grpcTimeout);
  if (asked === undefined || asked === 0) return maxGrpcTimeoutMs > 0 ? maxGrpcTimeoutMs : routeTimeoutMs;
  return maxGrpcTimeoutMs > 0 ? Math.min(asked, maxGrpcTimeoutMs) : asked;
}
