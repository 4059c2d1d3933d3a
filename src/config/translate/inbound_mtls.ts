import type { DownstreamTls, FilterChain, FilterChainMatch, MeshSettings } from '../model.js';
import type { InboundMtls } from './peer_authentication.js';

/** The ALPN Istio's client sidecars send for HTTP over mTLS (its alpn filter), matched by the inbound HTTP chains. */
export const ISTIO_HTTP_ALPN = ['istio-http/1.0', 'istio-http/1.1', 'istio-h2'];
/** The ALPN of TCP over mTLS (with Istio's metadata exchange, or without). */
export const ISTIO_TCP_ALPN = ['istio-peer-exchange', 'istio'];

type Mode = InboundMtls['mode'];

interface ChainMakers {
  /** The inbound HTTP connection manager chain for a match. */
  http(name: string, match: FilterChainMatch): FilterChain;
  /** tcp_proxy to InboundPassthroughCluster. */
  tcp(name: string, match: FilterChainMatch): FilterChain;
}

/**
 * Istio's inbound mTLS termination: the workload certificate, a client certificate required
 * and verified against the root, its SPIFFE SAN in this trust domain; HTTP chains pick
 * `http/1.1` by ALPN (Envoy offers h2 too; Legate's HTTP/1.1 codec does not).
 */
export function inboundTls(mesh: MeshSettings, http: boolean): DownstreamTls {
  return { mode: 'ISTIO_MUTUAL', matchSubjectAltNamePrefix: `spiffe://${mesh.trustDomain}/`, ...(http ? { alpnProtocols: ['h2', 'http/1.1'] } : {}) };
}

/**
 * One mode's chains, for every port (`port` undefined) or one port, as istiod lays out
 * virtualInbound: mTLS chains told apart by Istio's ALPN (HTTP, then TCP), then in PERMISSIVE
 * the plaintext ones (HTTP found by http_inspector, then TCP) and TLS that is not Istio's
 * (the app's own, passed through untouched). STRICT has no plaintext chain: such connections
 * find no chain and are closed. DISABLE is plaintext only (no tls_inspector at all).
 */
function chainsFor(mode: Mode, mesh: MeshSettings, make: ChainMakers, port?: number): FilterChain[] {
  const at: FilterChainMatch = port === undefined ? {} : { destinationPort: port };
  const httpName = port === undefined ? 'virtualInbound-catchall-http' : `0.0.0.0_${port}`;
  const tcpName = port === undefined ? 'virtualInbound' : `0.0.0.0_${port}`;
  const plaintext = [make.http(httpName, { ...at, transportProtocol: 'raw_buffer', applicationProtocols: ['http/1.1', 'h2c'] }), make.tcp(tcpName, { ...at, transportProtocol: 'raw_buffer' })];
  if (mode === 'DISABLE') return plaintext;
  const mtls = [
    { ...make.http(httpName, { ...at, transportProtocol: 'tls', applicationProtocols: ISTIO_HTTP_ALPN }), tls: inboundTls(mesh, true) },
    { ...make.tcp(tcpName, { ...at, transportProtocol: 'tls', applicationProtocols: ISTIO_TCP_ALPN }), tls: inboundTls(mesh, false) },
  ];
  if (mode === 'STRICT') return mtls;
  return [...mtls, ...plaintext, make.tcp(tcpName, { ...at, transportProtocol: 'tls' })];
}

/**
 * virtualInbound's chains for the proxy's PeerAuthentication: port-level modes first (a port
 * with chains of its own never falls back to the catch-all ones, as Envoy matches the
 * destination port first), then the workload-wide mode. The default chain (plaintext TCP) is
 * kept only when every port is DISABLE, the one layout where nothing needs tls_inspector.
 */
export function inboundMtlsChains(mtls: InboundMtls, mesh: MeshSettings, make: ChainMakers): { chains: FilterChain[]; defaultChain?: FilterChain } {
  const chains: FilterChain[] = [];
  for (const [port, mode] of [...mtls.ports].sort((a, b) => a[0] - b[0])) chains.push(...chainsFor(mode, mesh, make, port));
  if (mtls.mode === 'DISABLE') {
    chains.push(make.http('virtualInbound-catchall-http', { transportProtocol: 'raw_buffer', applicationProtocols: ['http/1.1', 'h2c'] }));
    return { chains, defaultChain: make.tcp('virtualInbound-catchall-tcp', {}) };
  }
  chains.push(...chainsFor(mtls.mode, mesh, make));
  return { chains };
}
