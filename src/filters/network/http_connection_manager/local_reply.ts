import { Buffer } from 'node:buffer';
import { responseHeadString, STATUS_REASONS } from './codec/index.js';
import { Flag } from './stream_info.js';
import type { HttpConnectionManagerFilter } from '../../../config/model.js';
import { applyBaseResponseHeaders } from './base_response_headers.js';

/**
 * Responses the proxy makes itself, with Envoy's bodies, details and flags, so operators'
 * runbooks (and their greps for "no healthy upstream") keep working.
 */
export interface LocalReply {
  status: number;
  body: string;
  details: string;
  flag: number;
  headers?: string[];
}

export const LOCAL_REPLIES = {
  noRoute: { status: 404, body: '', details: 'route_not_found', flag: Flag.NR },
  clusterNotFound: { status: 503, body: '', details: 'cluster_not_found', flag: Flag.NC },
  noHealthyUpstream: { status: 503, body: 'no healthy upstream', details: 'no_healthy_upstream', flag: Flag.UH },
  overflow: { status: 503, body: 'upstream connect error or disconnect/reset before headers. reset reason: overflow', details: 'upstream_reset_before_response_started{overflow}', flag: Flag.UO, headers: ['x-envoy-overloaded', 'true'] },
  timeout: { status: 504, body: 'upstream request timeout', details: 'upstream_response_timeout', flag: Flag.UT },
  http10: { status: 426, body: '', details: 'http1.codec_error', flag: Flag.DPE },
  missingHost: { status: 400, body: '', details: 'missing_host_header', flag: Flag.DPE },
  invalidAuthority: { status: 400, body: '', details: 'http.invalid_authority', flag: Flag.DPE },
  invalidUrl: { status: 400, body: 'Bad Request', details: 'http1.invalid_url', flag: Flag.DPE },
  invalidScheme: { status: 400, body: 'Bad Request', details: 'http1.invalid_scheme', flag: Flag.DPE },
  httpsInPlaintext: { status: 400, body: 'Bad Request', details: 'http1.https_url_on_plaintext_connection', flag: Flag.DPE },
  pathWithFragment: { status: 400, body: '', details: 'path_normalization_failed', flag: Flag.DPE },
  streamIdleTimeout: { status: 408, body: 'stream timeout', details: 'stream_idle_timeout', flag: Flag.SI },
  requestHeaderTimeout: { status: 408, body: 'request header timeout', details: 'request_header_timeout', flag: 0 },
} satisfies Record<string, LocalReply>;

/** Envoy's `require_tls` answer on a plaintext connection: the same authority and path over https. */
export function httpsRedirectReply(authority: string, path: string): LocalReply {
  return { status: 301, body: '', details: 'direct_response', flag: 0, headers: ['location', `https://${authority}${path}`] };
}

/** Node's connect error codes as the strerror(3) text Envoy's transport failure reason carries. */
const STRERROR: Record<string, string> = {
  ECONNREFUSED: 'Connection refused',
  ECONNRESET: 'Connection reset by peer',
  EHOSTUNREACH: 'No route to host',
  ENETUNREACH: 'Network is unreachable',
  ETIMEDOUT: 'Connection timed out',
  EADDRNOTAVAIL: 'Cannot assign requested address',
  EADDRINUSE: 'Address already in use',
  EACCES: 'Permission denied',
  EPERM: 'Operation not permitted',
};

/**
 * Envoy's router answer to an upstream reset before any response byte: the body names the
 * reset reason (and the transport failure reason), prefixed "retried and the latest" once the
 * request was retried; the details are the same words with spaces as underscores.
 */
function resetBeforeResponse(status: number, flag: number, reason: string, transportFailure: string | undefined, retried: boolean): LocalReply {
  const tfr = transportFailure ? `, transport failure reason: ${transportFailure}` : '';
  return {
    status,
    body: `upstream connect error or disconnect/reset before headers. ${retried ? 'retried and the latest ' : ''}reset reason: ${reason}${tfr}`,
    details: `upstream_reset_before_response_started{${reason}${transportFailure ? `,${transportFailure}` : ''}}`.replace(/\s/g, '_'),
    flag,
  };
}

/**
 * No upstream connection: a refused (or otherwise failed) connect is Envoy's "remote connection
 * failure" with "delayed connect error: <strerror>" as transport failure reason; a connect
 * timeout is "connection timeout". `code` is Node's error code.
 */
export function connectFailure(code: string, timeout: boolean, retried: boolean): LocalReply & { transportFailureReason?: string } {
  if (timeout) return resetBeforeResponse(503, Flag.UF, 'connection timeout', undefined, retried);
  // A failed TLS handshake reads as Envoy's `TLS_error:|…:TLS_error_end`; a TCP one as the errno text.
  const transportFailureReason = code.startsWith('TLS_error:') ? code : `delayed connect error: ${STRERROR[code] ?? code}`;
  return { ...resetBeforeResponse(503, Flag.UF, 'remote connection failure', transportFailureReason, retried), transportFailureReason };
}

export function upstreamReset(reason: string, protocolError: boolean, retried: boolean): LocalReply {
  return resetBeforeResponse(protocolError ? 502 : 503, protocolError ? Flag.UPE : Flag.UC, reason, undefined, retried);
}

/** Serialises a local reply as one latin1 string (head and body, for a single write). */
export function encodeLocalReply(reply: LocalReply, close: boolean, filter: HttpConnectionManagerFilter, head = false): string {
  const headers = [
    ...(reply.body ? ['content-length', String(Buffer.byteLength(reply.body)), 'content-type', 'text/plain'] : ['content-length', '0']),
    ...(reply.headers ?? []),
  ];
  applyBaseResponseHeaders(headers, filter);
  if (close) headers.push('connection', 'close');
  const h = responseHeadString(reply.status, STATUS_REASONS[reply.status] ?? 'Unknown', headers);
  return reply.body && !head ? h + reply.body : h;
}
