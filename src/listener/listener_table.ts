import { IpRanges } from './ip_ranges.js';
import type { FilterChain, Listener, Snapshot } from '../config/model.js';
import type { ClientHello } from '../tls/client_hello.js';

export interface Destination {
  address: string;
  port: number;
}

interface CompiledChain {
  chain: FilterChain;
  port?: number;
  ranges?: IpRanges;
  /** `transport_protocol: tls` or `server_names`: matches only TLS connections, once tls_inspector has read the ClientHello. */
  needsTls: boolean;
  /** `transport_protocol: raw_buffer`: never a TLS connection. */
  rawOnly: boolean;
  /** Lower-case SNI names, `*.example.com` wildcards allowed. */
  serverNames?: readonly string[];
  /** `application_protocols`: the ClientHello's ALPN on TLS connections, else what http_inspector named. */
  protocols?: ReadonlySet<string>;
}

interface CompiledListener {
  listener: Listener;
  chains: CompiledChain[];
  /** Ports some chain names: for them, chains without a port are not tried (Envoy matches the destination port first). */
  ports: ReadonlySet<number>;
}

function compileRanges(ranges: readonly string[] | undefined): IpRanges | undefined {
  return ranges && ranges.length > 0 ? new IpRanges(ranges) : undefined;
}

function compile(listener: Listener): CompiledListener {
  return {
    listener,
    ports: new Set(listener.filterChains.flatMap((c) => (c.match.destinationPort === undefined ? [] : [c.match.destinationPort]))),
    chains: listener.filterChains.map((chain) => ({
      chain,
      port: chain.match.destinationPort,
      ranges: compileRanges(chain.match.prefixRanges),
      needsTls: (chain.match.serverNames?.length ?? 0) > 0 || chain.match.transportProtocol === 'tls',
      rawOnly: chain.match.transportProtocol === 'raw_buffer',
      serverNames: chain.match.serverNames?.length ? chain.match.serverNames.map((n) => n.toLowerCase()) : undefined,
      protocols: chain.match.applicationProtocols?.length ? new Set(chain.match.applicationProtocols) : undefined,
    })),
  };
}

export interface Selection {
  /** The listener whose chain was chosen (a per-service listener when the capture listener handed off). */
  listener: Listener;
  chain: FilterChain;
  /** A chain of this listener needs the application protocol: inspect the first bytes, then select again. */
  inspect?: boolean;
  /** A chain of this listener needs to know whether this is TLS (SNI, ALPN): read the ClientHello first, then select again. */
  inspectTls?: boolean;
}

/**
 * Per-worker, per-snapshot lookup from (capture listener, original destination) to a filter
 * chain, built once when a snapshot arrives so that a connection costs two Map lookups.
 * Follows Istio's sidecar: virtualOutbound hands a connection to the `<ip>_<port>` listener,
 * else to `0.0.0.0_<port>`, else uses its own chains (loop guard, passthrough/blackhole).
 */
export class ListenerTable {
  private readonly bound = new Map<string, CompiledListener>();
  private readonly byAddress = new Map<string, CompiledListener>();

  constructor(snapshot: Snapshot) {
    for (const l of snapshot.listeners) {
      const compiled = compile(l);
      if (l.bindToPort) this.bound.set(l.name, compiled);
      else this.byAddress.set(`${l.address.address}_${l.address.port}`, compiled);
    }
  }

  /** Is `name` one of this snapshot's bound (accepting) listeners? */
  hasBound(name: string): boolean {
    return this.bound.has(name);
  }

  /** Names of the bound listeners. */
  boundNames(): string[] {
    return [...this.bound.keys()];
  }

  /**
   * `protocol`: what http_inspector found (`null`: inspected, nothing found); undefined before
   * inspection, when chains that need a protocol are skipped and `inspect` says to look.
   * `hello`: the ClientHello tls_inspector read (`null`: not TLS); undefined before, when
   * chains that need TLS are skipped and `inspectTls` says to look. Chains are tried in order
   * (the translator puts the more specific first), not by Envoy's most-specific-match tree.
   */
  select(listenerName: string, dst: Destination, protocol?: string | null, hello?: ClientHello | null): Selection | undefined {
    const own = this.bound.get(listenerName);
    if (!own) return undefined;
    // The capture listener's own chains (the loop guard) come first so no service can shadow them.
    const ownChain = matchChains(own, dst, protocol, hello);
    if (ownChain) return selection(own, ownChain, dst, protocol, hello);
    if (own.listener.useOriginalDst && own.listener.trafficDirection === 'OUTBOUND') {
      const target = this.byAddress.get(`${dst.address}_${dst.port}`) ?? this.byAddress.get(`0.0.0.0_${dst.port}`);
      const chain = target && (matchChains(target, dst, protocol, hello) ?? target.listener.defaultFilterChain);
      if (target && chain) return selection(target, chain, dst, protocol, hello);
      if (target) return awaitingInspection(target, dst, protocol, hello);
    }
    const fallback = own.listener.defaultFilterChain;
    return fallback ? selection(own, fallback, dst, protocol, hello) : awaitingInspection(own, dst, protocol, hello);
  }
}

/**
 * No chain matches yet, but one may once the first bytes are inspected (a STRICT inbound port
 * has only TLS chains): the caller inspects and selects again; never run as a chain.
 */
export const AWAITING_INSPECTION: FilterChain = { name: 'awaiting-inspection', match: {}, filters: [] };

function awaitingInspection(l: CompiledListener, dst: Destination, protocol: string | null | undefined, hello: ClientHello | null | undefined): Selection | undefined {
  const s = selection(l, AWAITING_INSPECTION, dst, protocol, hello);
  return s.inspect || s.inspectTls ? s : undefined;
}

function selection(l: CompiledListener, chain: FilterChain, dst: Destination, protocol: string | null | undefined, hello: ClientHello | null | undefined): Selection {
  const inspectTls = hello === undefined && wantsTls(l, dst);
  // A TLS connection's application protocol is its ALPN: http_inspector only looks at plaintext.
  const inspect = protocol === undefined && !hello && wantsProtocol(l, dst);
  return inspectTls || inspect ? { listener: l.listener, chain, inspect, inspectTls } : { listener: l.listener, chain };
}

function portAndRangeMatch(c: CompiledChain, dst: Destination, ports: ReadonlySet<number>): boolean {
  if (c.port !== undefined ? c.port !== dst.port : ports.has(dst.port)) return false;
  return !c.ranges || c.ranges.has(dst.address);
}

function wantsProtocol(l: CompiledListener, dst: Destination): boolean {
  return l.chains.some((c) => c.protocols && !c.needsTls && portAndRangeMatch(c, dst, l.ports));
}

function wantsTls(l: CompiledListener, dst: Destination): boolean {
  return l.chains.some((c) => c.needsTls && portAndRangeMatch(c, dst, l.ports));
}

/** Envoy's server_names: exact, or `*.example.com` for any name below example.com. */
export function sniMatches(names: readonly string[], sni: string | undefined): boolean {
  return sniScore(names, sni) >= 0;
}

/** How well `names` match the SNI, as Envoy ranks server_names: exact, then the longest wildcard, then none (-1: no match). */
function sniScore(names: readonly string[] | undefined, sni: string | undefined): number {
  if (!names) return 0;
  if (!sni) return -1;
  let best = -1;
  for (const n of names) {
    if (n === sni) return Number.MAX_SAFE_INTEGER;
    if (n.length > best && n.startsWith('*.') && sni.length > n.length - 1 && sni.endsWith(n.slice(1))) best = n.length;
  }
  return best;
}

function matchChains(l: CompiledListener, dst: Destination, protocol?: string | null, hello?: ClientHello | null): FilterChain | undefined {
  // Among chains that match, the most specific server name wins (several certificates on one port); otherwise the first.
  let best: CompiledChain | undefined;
  let bestScore = -1;
  for (const c of l.chains) {
    if (hello ? c.rawOnly : c.needsTls) continue;
    const score = sniScore(c.serverNames, hello?.sni);
    if (score <= bestScore) continue;
    if (c.protocols) {
      if (hello) {
        if (!hello.alpn.some((p) => c.protocols!.has(p))) continue;
      } else if (!protocol || !c.protocols.has(protocol)) continue;
    }
    if (!portAndRangeMatch(c, dst, l.ports)) continue;
    if (!hello?.sni) return c.chain;
    best = c;
    bestScore = score;
  }
  return best?.chain;
}
