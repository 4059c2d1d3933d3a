import { LRUCache } from 'lru-cache';

/** Bounds of a DNS cache: entry count, and TTLs clamped to [min, max] seconds. */
export interface CacheLimits {
  maxEntries: number;
  minTtlSec: number;
  maxTtlSec: number;
  /** How long NXDOMAIN / NODATA is remembered when the answer carries no SOA minimum. */
  negativeTtlSec: number;
}

export const DEFAULT_CACHE_LIMITS: CacheLimits = { maxEntries: 10_000, minTtlSec: 1, maxTtlSec: 3600, negativeTtlSec: 5 };

export interface CacheEntry<V> {
  value: V;
  /** NXDOMAIN or NODATA: remembered so that repeated misses do not reach the server. */
  negative: boolean;
  /** The clamped TTL the entry was stored with. */
  ttlSec: number;
  storedAt: number;
  expiresAt: number;
}

/**
 * A DNS answer cache: least-recently-used eviction bounded by entries (lru-cache), expiry at
 * the record TTL clamped to the configured bounds. A TTL of 0 after clamping is not stored.
 * Expired entries are dropped when read; `now` is injectable for tests.
 */
export class DnsCache<V> {
  private readonly lru: LRUCache<string, CacheEntry<V>>;

  constructor(
    readonly limits: CacheLimits = DEFAULT_CACHE_LIMITS,
    private readonly now: () => number = Date.now,
  ) {
    this.lru = new LRUCache({ max: Math.max(1, limits.maxEntries) });
  }

  clampTtl(ttlSec: number, negative = false): number {
    const raw = Number.isFinite(ttlSec) && ttlSec >= 0 ? ttlSec : negative ? this.limits.negativeTtlSec : this.limits.minTtlSec;
    return Math.min(this.limits.maxTtlSec, Math.max(this.limits.minTtlSec, Math.floor(raw)));
  }

  /** A live entry, or undefined (an expired one is removed). */
  get(key: string): CacheEntry<V> | undefined {
    const e = this.lru.get(key);
    if (!e) return undefined;
    if (this.now() >= e.expiresAt) {
      this.lru.delete(key);
      return undefined;
    }
    return e;
  }

  /** Stores with the clamped TTL; returns the TTL used (0: not stored). */
  set(key: string, value: V, ttlSec: number, negative = false): number {
    const ttl = this.clampTtl(ttlSec, negative);
    if (ttl <= 0) return 0;
    const storedAt = this.now();
    this.lru.set(key, { value, negative, ttlSec: ttl, storedAt, expiresAt: storedAt + ttl * 1000 });
    return ttl;
  }

  /** Seconds left on an entry (for TTLs handed to clients), at least 0. */
  remainingSec(e: CacheEntry<V>): number {
    return Math.max(0, Math.ceil((e.expiresAt - this.now()) / 1000));
  }

  delete(key: string): void {
    this.lru.delete(key);
  }

  clear(): void {
    this.lru.clear();
  }

  get size(): number {
    return this.lru.size;
  }

  /** Live entries, most recently used first (for /dns). */
  *entries(): IterableIterator<[string, CacheEntry<V>]> {
    const now = this.now();
    for (const [k, e] of this.lru.entries()) if (now < e.expiresAt) yield [k, e];
  }
}
