/**
 * Istio's automatic VIP allocation (ISTIO_META_DNS_AUTO_ALLOCATE) for ServiceEntries that
 * have no `addresses`: an IPv4 address from the reserved class-E range 240.240.0.0/16 (and a
 * matching IPv6 one in the benchmarking range 2001:2::/48), never routed outside the pod.
 *
 * Deterministic without state: a host's home slot is FNV-1a(host) modulo the slot count; on
 * a collision it takes the next free slot (linear probing). Hosts are placed in the order
 * given, which the translator makes the resources' age order (creationTimestamp, then
 * namespace/name), so:
 *   - the same configuration always gives the same VIPs, across restarts and reloads;
 *   - adding a ServiceEntry never moves an existing one's VIP (older hosts are placed first);
 *   - a VIP moves only when its host had collided and the older host it probed past is
 *     removed, or when resources without creationTimestamp are renamed so their order flips.
 * Addresses ending in .0 or .255 are never handed out, nor any address a ServiceEntry
 * already claims explicitly.
 */

export const VIP_V4_PREFIX = '240.240';
export const VIP_V6_PREFIX = '2001:2::f0f0';
/** 256 values of the third octet × 254 of the fourth (1–254). */
export const VIP_SLOTS = 256 * 254;

export interface Vip {
  v4: string;
  v6: string;
}

export function fnv1a32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i) & 0xff;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

export function slotVip(slot: number): Vip {
  const third = Math.floor(slot / 254);
  const fourth = (slot % 254) + 1;
  return { v4: `${VIP_V4_PREFIX}.${third}.${fourth}`, v6: `${VIP_V6_PREFIX}:${third.toString(16)}:${fourth.toString(16)}` };
}

/** The slot of an address inside the range, or -1. */
export function vipSlot(ip: string): number {
  const m = /^240\.240\.(\d+)\.(\d+)$/.exec(ip);
  if (!m) return -1;
  const third = Number(m[1]);
  const fourth = Number(m[2]);
  if (third > 255 || fourth < 1 || fourth > 254) return -1;
  return third * 254 + (fourth - 1);
}

/**
 * VIPs for `hosts`, placed in the given order. `reserved` are addresses already configured
 * explicitly (they are skipped). A host listed twice keeps its first VIP. Throws when the
 * range is exhausted (65 024 hosts).
 */
export function allocateVips(hosts: Iterable<string>, reserved: Iterable<string> = []): Map<string, Vip> {
  const taken = new Set<number>();
  for (const ip of reserved) {
    const s = vipSlot(ip);
    if (s >= 0) taken.add(s);
  }
  const out = new Map<string, Vip>();
  for (const host of hosts) {
    if (out.has(host)) continue;
    if (taken.size >= VIP_SLOTS) throw new Error(`auto-allocation range ${VIP_V4_PREFIX}.0.0/16 exhausted at ${host}`);
    let slot = fnv1a32(host) % VIP_SLOTS;
    while (taken.has(slot)) slot = (slot + 1) % VIP_SLOTS;
    taken.add(slot);
    out.set(host, slotVip(slot));
  }
  return out;
}
