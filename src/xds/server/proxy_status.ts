import type { TypeKey } from '../type_urls.js';

/** What a proxy was sent of one type and what it said back (Istio's `istioctl proxy-status` view). */
export interface TypeStatus {
  /** SotW: `'*'` (wildcard) or the names asked for; Delta: the same, from subscribe/unsubscribe. */
  subscribed: '*' | Set<string>;
  /** Delta: name → version the proxy has (from initial_resource_versions and what it ACKed or was sent). */
  has: Map<string, string>;
  versionSent?: string;
  nonceSent?: string;
  versionAcked?: string;
  nonceAcked?: string;
  lastNack?: { version: string; nonce: string; detail: string; at: string };
  /** Delta: what `has` said before the last response, restored when the proxy NACKs it (it kept its old versions). */
  beforeLastSend?: { nonce: string; previous: Map<string, string | undefined> };
  /** Whether a response of this type was ever sent on the stream (the first one goes out even when empty). */
  responded: boolean;
}

/** One ADS stream: the proxy behind it and its per-type state. */
export interface ProxyStatus {
  nodeId: string;
  scopeKey: string;
  protocol: 'sotw' | 'delta';
  connectedAt: string;
  types: Map<TypeKey, TypeStatus>;
}

/** The JSON of `/debug/syncz`: one entry per connected proxy and type. */
export function statusJson(proxies: Iterable<ProxyStatus>): object[] {
  return [...proxies].map((p) => ({
    node_id: p.nodeId,
    protocol: p.protocol,
    connected_at: p.connectedAt,
    types: Object.fromEntries(
      [...p.types].map(([type, s]) => [
        type,
        {
          subscribed: s.subscribed === '*' ? '*' : [...s.subscribed].sort(),
          version_sent: s.versionSent ?? null,
          nonce_sent: s.nonceSent ?? null,
          version_acked: s.versionAcked ?? null,
          nonce_acked: s.nonceAcked ?? null,
          synced: s.nonceSent !== undefined && s.nonceAcked === s.nonceSent,
          last_nack: s.lastNack ?? null,
        },
      ]),
    ),
  }));
}
