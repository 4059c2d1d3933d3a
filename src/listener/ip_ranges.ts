/**
 * A set of CIDR ranges (`10.0.0.0/8`, `fd00::/8`; a bare address is a /32 or /128), built once
 * from config and checked per connection or per request: filter chain `prefix_ranges`, RBAC
 * `ipBlocks`, Envoy's internal-address rule. Addresses are read from their text in JS — Node's
 * BlockList.check() builds a native SocketAddress for every string it is given. An address and
 * a range match only within one family (an IPv4-mapped IPv6 address is IPv6 here).
 */
export class IpRanges {
  private readonly v4: { base: number; mask: number }[] = [];
  private readonly v6: { groups: Uint16Array; bits: number }[] = [];

  /** Throws on a range that is not an address with an optional in-range prefix length. */
  constructor(ranges: readonly string[]) {
    for (const r of ranges) {
      const slash = r.indexOf('/');
      const ip = slash < 0 ? r : r.slice(0, slash);
      const v4 = ipv4Value(ip);
      const groups = v4 < 0 ? ipv6Groups(ip) : undefined;
      if (v4 < 0 && groups === undefined) throw new Error(`invalid IP range ${JSON.stringify(r)}`);
      const max = v4 < 0 ? 128 : 32;
      const bitsText = slash < 0 ? undefined : r.slice(slash + 1);
      const bits = bitsText === undefined ? max : /^\d{1,3}$/.test(bitsText) ? Number(bitsText) : -1;
      if (bits < 0 || bits > max) throw new Error(`invalid prefix length in IP range ${JSON.stringify(r)}`);
      if (groups) this.v6.push({ groups, bits });
      else {
        const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
        this.v4.push({ base: (v4 & mask) >>> 0, mask });
      }
    }
  }

  /**
   * The last address asked about: one client's requests ask about the same one, and a string
   * comparison costs less than reading the address again.
   */
  private lastIp: string | undefined;
  private lastHas = false;

  /** `ip` (text, no port) lies in one of the ranges; anything that is not an address does not. */
  has(ip: string): boolean {
    if (ip === this.lastIp) return this.lastHas;
    const has = this.lookup(ip);
    this.lastIp = ip;
    this.lastHas = has;
    return has;
  }

  private lookup(ip: string): boolean {
    const v4 = ipv4Value(ip);
    if (v4 >= 0) {
      for (const r of this.v4) if (((v4 & r.mask) >>> 0) === r.base) return true;
      return false;
    }
    if (this.v6.length === 0) return false;
    const groups = ipv6Groups(ip);
    if (groups === undefined) return false;
    for (const r of this.v6) if (samePrefix(groups, r.groups, r.bits)) return true;
    return false;
  }
}

/** The 32-bit value of a dotted-quad IPv4 address, or -1. */
function ipv4Value(ip: string): number {
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < ip.length; i++) {
    const c = ip.charCodeAt(i);
    if (c === 0x2e) {
      if (digits === 0 || ++dots > 3) return -1;
      value = value * 256 + octet;
      octet = 0;
      digits = 0;
    } else if (c >= 0x30 && c <= 0x39 && digits < 3) {
      octet = octet * 10 + (c - 0x30);
      if (octet > 255) return -1;
      digits++;
    } else {
      return -1;
    }
  }
  return dots === 3 && digits > 0 ? value * 256 + octet : -1;
}

/** The eight 16-bit groups of an IPv6 address (`::` compression, a dotted IPv4 tail, a `%zone` ignored), or undefined. */
function ipv6Groups(text: string): Uint16Array | undefined {
  const zone = text.indexOf('%');
  const ip = zone < 0 ? text : text.slice(0, zone);
  const gap = ip.indexOf('::');
  if (gap !== ip.lastIndexOf('::')) return undefined;
  if (gap < 0) {
    const all = words(ip, true);
    return all?.length === 8 ? Uint16Array.from(all) : undefined;
  }
  const right = words(ip.slice(gap + 2), true);
  const left = words(ip.slice(0, gap), false);
  if (left === undefined || right === undefined || left.length + right.length > 7) return undefined;
  const groups = new Uint16Array(8);
  groups.set(left, 0);
  groups.set(right, 8 - right.length);
  return groups;
}

/** 16-bit words of colon-separated hex groups (`''`: none); a dotted IPv4 last part gives two when `v4Tail`. */
function words(part: string, v4Tail: boolean): number[] | undefined {
  if (part === '') return [];
  const items = part.split(':');
  const out: number[] = [];
  for (let i = 0; i < items.length; i++) {
    const p = items[i]!;
    if (v4Tail && i === items.length - 1 && p.includes('.')) {
      const v4 = ipv4Value(p);
      if (v4 < 0) return undefined;
      out.push(v4 >>> 16, v4 & 0xffff);
    } else if (HEX_GROUP.test(p)) {
      out.push(parseInt(p, 16));
    } else {
      return undefined;
    }
  }
  return out;
}

const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

function samePrefix(a: Uint16Array, b: Uint16Array, bits: number): boolean {
  let i = 0;
  for (; bits >= 16; bits -= 16, i++) if (a[i] !== b[i]) return false;
  if (bits === 0) return true;
  const mask = (0xffff << (16 - bits)) & 0xffff;
  return (a[i]! & mask) === (b[i]! & mask);
}
