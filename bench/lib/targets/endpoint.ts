import { addPeerRedirect, PEER_VIP } from '../netns.js';
import type { Endpoint, UpstreamKind } from '../types.js';

/** Where peers listen (loopback) before the VIP redirect. */
export const PEER_PORT = 18100;
/** The VIP port a scenario's clients use, per upstream kind (Legate's ServiceEntries use the same). */
export const VIP_PORTS: Record<UpstreamKind, number> = { http: 80, 'tcp-source': 9000, grpc: 50051 };

/** Reaches `toPort` through PEER_VIP:<vip port> so that every target pays the same NAT cost. */
export function redirectedEndpoint(kind: UpstreamKind, toPort: number): { endpoint: Endpoint; remove: () => void } {
  const vipPort = VIP_PORTS[kind];
  return { endpoint: { host: PEER_VIP, port: vipPort }, remove: addPeerRedirect(vipPort, toPort) };
}
