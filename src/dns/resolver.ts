import { promises as dnsPromises } from 'node:dns';
import type { DnsLookupFamily } from '../config/model.js';
import { LegateError } from '../errors.js';
import { DEFAULT_CACHE_LIMITS, DnsCache, type CacheLimits } from './cache.js';
import { NO_STATS, type DnsCounters } from './stats.js';

export interface ResolverOptions {
  /** `ip:port` servers; empty: c-ares reads /etc/resolv.conf. */
  servers: string[];
  /** Per-try timeout (c-ares `timeout`; it doubles on each retry round). */
  timeoutMs: number;
  /** Tries per server (c-ares `tries`). */
  tries: number;
  cache: CacheLimits;
}

export const DEFAULT_RESOLVER_OPTIONS: ResolverOptions = { servers: [], timeoutMs: 2000, tries: 2, cache: DEFAULT_CACHE_LIMITS };

type RrType = 'A' | 'AAAA';

/** One record type's answer for one name. */
interface RecordAnswer {
  addresses: string[];
  ttlSec: number;
  /** NXDOMAIN or NODATA: the server answered, with nothing. */
  negative: boolean;
  fromCache: boolean;
}

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

export interface Resolution {
  addresses: ResolvedAddress[];
  /** Smallest TTL among the records used (the negative TTL for an empty answer). */
  ttlSec: number;
  /** Every record type asked was answered from the cache. */
  fromCache: boolean;
}

/** c-ares codes for "the name has no such records": an answer, not a failure (Envoy treats them alike). */
const NEGATIVE = new Set(['ENOTFOUND', 'ENODATA']);

/**
 * The proxy's resolver: c-ares (`dns.promises.Resolver`, never getaddrinfo) against
 * /etc/resolv.conf's servers or configured ones, with an LRU cache honouring record TTLs,
 * negative caching, and concurrent identical queries collapsed into one. Lives on the main
 * thread; workers never resolve.
 */
export class CachingResolver {
  readonly cache: DnsCache<string[]>;
  private readonly ares: dnsPromises.Resolver;
  private readonly inflight = new Map<string, Promise<RecordAnswer>>();

  constructor(
    readonly options: ResolverOptions = DEFAULT_RESOLVER_OPTIONS,
    private readonly stats: DnsCounters = NO_STATS,
    now: () => number = Date.now,
  ) {
    this.ares = new dnsPromises.Resolver({ timeout: options.timeoutMs, tries: options.tries });
    if (options.servers.length > 0) this.ares.setServers(options.servers);
    this.cache = new DnsCache(options.cache, now);
  }

  servers(): string[] {
    return this.ares.getServers();
  }

  /**
   * Addresses of `name` by Envoy's lookup family: V4_ONLY / V6_ONLY ask one type; V4_PREFERRED
   * asks A and falls back to AAAA when A gives nothing; AUTO is the reverse; ALL asks both and
   * returns both (IPv4 first). `fresh` skips the cache read (the answer is still stored).
   * Rejects (code ETIMEOUT, ESERVFAIL, ECONNREFUSED, …) only when no usable answer came back.
   */
  async resolve(name: string, family: DnsLookupFamily = 'V4_ONLY', opts: { fresh?: boolean } = {}): Promise<Resolution> {
    const host = normalize(name);
    const fresh = opts.fresh ?? false;
    switch (family) {
      case 'V4_ONLY':
        return combine([await this.query(host, 'A', fresh)], ['A']);
      case 'V6_ONLY':
        return combine([await this.query(host, 'AAAA', fresh)], ['AAAA']);
      case 'V4_PREFERRED':
        return this.preferring(host, 'A', 'AAAA', fresh);
      case 'AUTO':
        return this.preferring(host, 'AAAA', 'A', fresh);
      case 'ALL': {
        const [a, aaaa] = await Promise.allSettled([this.query(host, 'A', fresh), this.query(host, 'AAAA', fresh)]);
        const ok = [a, aaaa].filter((r): r is PromiseFulfilledResult<RecordAnswer> => r.status === 'fulfilled');
        const failed = [a, aaaa].find((r): r is PromiseRejectedResult => r.status === 'rejected');
        // One type failing is tolerable only when the other produced addresses.
        if (failed && !ok.some((r) => r.value.addresses.length > 0)) throw failed.reason;
        return combine(
          ok.map((r) => r.value),
          [a, aaaa].flatMap((r, i) => (r.status === 'fulfilled' ? [i === 0 ? 'A' : 'AAAA'] : [])) as RrType[],
        );
      }
    }
  }

  private async preferring(host: string, first: RrType, second: RrType, fresh: boolean): Promise<Resolution> {
    let firstError: unknown;
    try {
      const r = await this.query(host, first, fresh);
      if (r.addresses.length > 0) return combine([r], [first]);
    } catch (err) {
      firstError = err;
    }
    try {
      return combine([await this.query(host, second, fresh)], [second]);
    } catch (err) {
      throw firstError ?? err;
    }
  }

  /** A cached answer without any I/O, or undefined (the path measured in bench/dns). */
  peek(name: string, type: RrType): readonly string[] | undefined {
    const e = this.cache.get(`${type}:${normalize(name)}`);
    return e?.value;
  }

  private query(host: string, type: RrType, fresh: boolean): Promise<RecordAnswer> {
    const key = `${type}:${host}`;
    if (!fresh) {
      const e = this.cache.get(key);
      if (e) {
        this.stats.inc(e.negative ? 'cacheNegativeHits' : 'cacheHits');
        return Promise.resolve({ addresses: e.value, ttlSec: this.cache.remainingSec(e), negative: e.negative, fromCache: true });
      }
      this.stats.inc('cacheMisses');
    }
    const pending = this.inflight.get(key);
    if (pending) {
      this.stats.inc('resolverCollapsed');
      return pending;
    }
    const p = this.ask(host, type).finally(() => this.inflight.delete(key));
    this.inflight.set(key, p);
    return p;
  }

  private async ask(host: string, type: RrType): Promise<RecordAnswer> {
    const key = `${type}:${host}`;
    this.stats.inc('resolverQueries');
    try {
      const records = type === 'A' ? await this.ares.resolve4(host, { ttl: true }) : await this.ares.resolve6(host, { ttl: true });
      const addresses = records.map((r) => r.address);
      const ttl = records.reduce((m, r) => Math.min(m, r.ttl), Number.POSITIVE_INFINITY);
      const ttlSec = this.cache.set(key, addresses, Number.isFinite(ttl) ? ttl : this.cache.limits.minTtlSec);
      return { addresses, ttlSec, negative: false, fromCache: false };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'EUNKNOWN';
      if (NEGATIVE.has(code)) {
        // c-ares does not hand over the SOA, so the negative TTL is the configured one.
        const ttlSec = this.cache.set(key, [], this.cache.limits.negativeTtlSec, true);
        return { addresses: [], ttlSec, negative: true, fromCache: false };
      }
      this.stats.inc('resolverFailures');
      throw new LegateError(code, `DNS ${type} query for ${host} failed: ${code}`, { cause: err });
    }
  }

  /** Cancels outstanding queries (they reject with ECANCELLED). */
  close(): void {
    this.ares.cancel();
  }
}

function normalize(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

function combine(parts: RecordAnswer[], types: RrType[]): Resolution {
  const addresses: ResolvedAddress[] = [];
  parts.forEach((p, i) => {
    for (const a of p.addresses) addresses.push({ address: a, family: types[i] === 'A' ? 4 : 6 });
  });
  const used = addresses.length > 0 ? parts.filter((p) => p.addresses.length > 0) : parts;
  const ttlSec = used.reduce((m, p) => Math.min(m, p.ttlSec), Number.POSITIVE_INFINITY);
  return { addresses, ttlSec: Number.isFinite(ttlSec) ? ttlSec : 0, fromCache: parts.every((p) => p.fromCache) };
}
