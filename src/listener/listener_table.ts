import { BlockList, isIP } from 'node:net';
import type { FilterChain, Listener, Snapshot } from '../config/model.js';

export interface Destination {
  address: string;
  port: number;
}

interface CompiledChain {
  chain: FilterChain;
  port?: number;
  ranges?: BlockList;
  /** Needs the TLS SNI, which workers do not inspect yet: such a chain never matches (as in Envoy without tls_inspector). */
  needsSni: boolean;
  /** `application_protocols`: matches only once http_inspector has named one of them. */
  protocols?: ReadonlySet<string>;
}

interface CompiledListener {
  listener: Listener;
  chains: CompiledChain[];
}

/** Envoy's address families for BlockList. */
const family = (ip: string) => (isIP(ip) === 6 ? 'ipv6' : 'ipv4');

function compileRanges(ranges: readonly string[] | undefined): BlockList | undefined {
  if (!ranges || ranges.length === 0) return undefined;
  const list = new BlockList();
  for (const r of ranges) {
    const [ip, bits] = r.split('/');
    if (bits === undefined) list.addAddress(ip, family(ip));
    else list.addSubnet(ip, Number(bits), family(ip));
  }
  return list;
}

function compile(listener: Listener): CompiledListener {
  return {
    listener,
    chains: listener.filterChains.map((chain) => ({
      chain,
      port: chain.match.destinationPort,
      ranges: compileRanges(chain.match.prefixRanges),
      needsSni: (chain.match.serverNames?.length ?? 0) > 0 || chain.match.transportProtocol === 'tls',
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
   */
  select(listenerName: string, dst: Destination, protocol?: string | null): Selection | undefined {
    const own = this.bound.get(listenerName);
    if (!own) return undefined;
    // The capture listener's own chains (the loop guard) come first so no service can shadow them.
    const inspectOwn = protocol === undefined && wantsProtocol(own, dst);
    const ownChain = matchChains(own, dst, protocol);
    if (ownChain) return { listener: own.listener, chain: ownChain, inspect: inspectOwn };
    if (own.listener.useOriginalDst && own.listener.trafficDirection === 'OUTBOUND') {
      const target = this.byAddress.get(`${dst.address}_${dst.port}`) ?? this.byAddress.get(`0.0.0.0_${dst.port}`);
      const chain = target && (matchChains(target, dst, protocol) ?? target.listener.defaultFilterChain);
      if (target && chain) return { listener: target.listener, chain, inspect: protocol === undefined && wantsProtocol(target, dst) };
    }
    const fallback = own.listener.defaultFilterChain;
    return fallback ? { listener: own.listener, chain: fallback, inspect: inspectOwn } : undefined;
  }
}

function portAndRangeMatch(c: CompiledChain, dst: Destination): boolean {
  if (c.port !== undefined && c.port !== dst.port) return false;
  return !c.ranges || c.ranges.check(dst.address, family(dst.address));
}

function wantsProtocol(l: CompiledListener, dst: Destination): boolean {
  return l.chains.some((c) => c.protocols && !c.needsSni && portAndRangeMatch(c, dst));
}

function matchChains(l: CompiledListener, dst: Destination, protocol?: string | null): FilterChain | undefined {
  for (const c of l.chains) {
    if (c.needsSni) continue;
    if (c.protocols && (!protocol || !c.protocols.has(protocol))) continue;
    if (portAndRangeMatch(c, dst)) return c.chain;
  }
  return undefined;
}
