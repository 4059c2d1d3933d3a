import { responseHeadString, STATUS_REASONS } from './codec/index.js';
import { httpDate } from './date.js';
import { Flag } from './stream_info.js';

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
} satisfies Record<string, LocalReply>;

export function connectFailure(reason: string): LocalReply {
  return {
    status: 503,
    body: `upstream connect error or disconnect/reset before headers. reset reason: connection failure, transport failure reason: ${reason}`,
    details: 'upstream_reset_before_response_started{connection_failure}',
    flag: Flag.UF,
  };
}

export function upstreamReset(reason: string, protocolError: boolean): LocalReply {
  return {
    status: protocolError ? 502 : 503,
    body: `upstream connect error or disconnect/reset before headers. reset reason: ${reason}`,
    details: `upstream_reset_before_response_started{${reason.replace(/ /g, '_')}}`,
    flag: protocolError ? Flag.UPE : Flag.UC,
  };
}

/** Serialises a local reply as one latin1 string (head and body, for a single write). */
export function encodeLocalReply(reply: LocalReply, close: boolean, extra: string[] = [], head = false): string {
  const headers = [
    ...(reply.body ? ['content-length', String(Buffer.byteLength(reply.body)), 'content-type', 'text/plain'] : ['content-length', '0']),
    ...(reply.headers ?? []),
    ...extra,
    'date',
    httpDate(),
    'server',
    'legate',
  ];
  if (close) headers.push('connection', 'close');
  const h = responseHeadString(reply.status, STATUS_REASONS[reply.status] ?? 'Unknown', headers);
  return reply.body && !head ? h + reply.body : h;
}
