/**
 * xxHash64 (Yann Collet's XXH64), the hash Envoy uses for ring hash, Maglev and hash
 * policies. JavaScript has no cheap 64-bit integers (BigInt allocates on every operation),
 * so values are carried as two unsigned 32-bit halves; helpers leave their result in
 * `rh`/`rl` instead of allocating. Strings are hashed as their UTF-8 bytes.
 */
import { Buffer } from 'node:buffer';
export interface Hash64 {
  /** Upper 32 bits, unsigned. */
  hi: number;
  /** Lower 32 bits, unsigned. */
  lo: number;
}

const P1H = 0x9e3779b1, P1L = 0x85ebca87;
const P2H = 0xc2b2ae3d, P2L = 0x27d4eb4f;
const P3H = 0x165667b1, P3L = 0x9e3779f9;
const P4H = 0x85ebca77, P4L = 0xc2b2ae63;
const P5H = 0x27d4eb2f, P5L = 0x165667c5;
const TWO32 = 4294967296;

let rh = 0;
let rl = 0;

function add(ah: number, al: number, bh: number, bl: number): void {
  const lo = al + bl;
  rl = lo >>> 0;
  rh = (ah + bh + (lo >= TWO32 ? 1 : 0)) >>> 0;
}

/** Low 64 bits of a 64×64 product, in 16-bit limbs so that no partial product loses bits. */
function mul(ah: number, al: number, bh: number, bl: number): void {
  const a48 = ah >>> 16, a32 = ah & 0xffff, a16 = al >>> 16, a00 = al & 0xffff;
  const b48 = bh >>> 16, b32 = bh & 0xffff, b16 = bl >>> 16, b00 = bl & 0xffff;
  let c00 = a00 * b00;
  let c16 = c00 >>> 16;
  c00 &= 0xffff;
  c16 += a16 * b00;
  let c32 = c16 >>> 16;
  c16 &= 0xffff;
  c16 += a00 * b16;
  c32 += c16 >>> 16;
  c16 &= 0xffff;
  c32 += a32 * b00;
  let c48 = c32 >>> 16;
  c32 &= 0xffff;
  c32 += a16 * b16;
  c48 += c32 >>> 16;
  c32 &= 0xffff;
  c32 += a00 * b32;
  c48 += c32 >>> 16;
  c32 &= 0xffff;
  c48 += a48 * b00 + a32 * b16 + a16 * b32 + a00 * b48;
  c48 &= 0xffff;
  rh = ((c48 << 16) | c32) >>> 0;
  rl = ((c16 << 16) | c00) >>> 0;
}

/** Rotate left by 1–31 bits. */
function rotl(h: number, l: number, r: number): void {
  rh = ((h << r) | (l >>> (32 - r))) >>> 0;
  rl = ((l << r) | (h >>> (32 - r))) >>> 0;
}

/** XXH64_round: acc = rotl(acc + lane * P2, 31) * P1. */
function round(ah: number, al: number, lh: number, ll: number): void {
  mul(lh, ll, P2H, P2L);
  add(ah, al, rh, rl);
  rotl(rh, rl, 31);
  mul(rh, rl, P1H, P1L);
}

function mergeRound(ah: number, al: number, vh: number, vl: number): void {
  round(0, 0, vh, vl);
  const xh = (ah ^ rh) >>> 0, xl = (al ^ rl) >>> 0;
  mul(xh, xl, P1H, P1L);
  add(rh, rl, P4H, P4L);
}

const u32 = (b: Uint8Array, i: number): number => (b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24)) >>> 0;

function hashBytes(b: Uint8Array, len: number, seed: number): void {
  let i = 0;
  let hh: number, hl: number;
  if (len >= 32) {
    add(0, seed, P1H, P1L); add(rh, rl, P2H, P2L);
    let v1h = rh, v1l = rl;
    add(0, seed, P2H, P2L);
    let v2h = rh, v2l = rl;
    let v3h = 0, v3l = seed;
    // seed - P1 == seed + (2^64 - P1)
    add(0, seed, ~P1H >>> 0, (~P1L + 1) >>> 0);
    let v4h = rh, v4l = rl;
    for (; i + 32 <= len; i += 32) {
      round(v1h, v1l, u32(b, i + 4), u32(b, i)); v1h = rh; v1l = rl;
      round(v2h, v2l, u32(b, i + 12), u32(b, i + 8)); v2h = rh; v2l = rl;
      round(v3h, v3l, u32(b, i + 20), u32(b, i + 16)); v3h = rh; v3l = rl;
      round(v4h, v4l, u32(b, i + 28), u32(b, i + 24)); v4h = rh; v4l = rl;
    }
    rotl(v1h, v1l, 1); hh = rh; hl = rl;
    rotl(v2h, v2l, 7); add(hh, hl, rh, rl); hh = rh; hl = rl;
    rotl(v3h, v3l, 12); add(hh, hl, rh, rl); hh = rh; hl = rl;
    rotl(v4h, v4l, 18); add(hh, hl, rh, rl); hh = rh; hl = rl;
    mergeRound(hh, hl, v1h, v1l); mergeRound(rh, rl, v2h, v2l);
    mergeRound(rh, rl, v3h, v3l); mergeRound(rh, rl, v4h, v4l);
    hh = rh; hl = rl;
  } else {
    add(0, seed, P5H, P5L);
    hh = rh; hl = rl;
  }
  add(hh, hl, 0, len);
  hh = rh; hl = rl;
  for (; i + 8 <= len; i += 8) {
    round(0, 0, u32(b, i + 4), u32(b, i));
    rotl((hh ^ rh) >>> 0, (hl ^ rl) >>> 0, 27);
    mul(rh, rl, P1H, P1L);
    add(rh, rl, P4H, P4L);
    hh = rh; hl = rl;
  }
  if (i + 4 <= len) {
    mul(0, u32(b, i), P1H, P1L);
    rotl((hh ^ rh) >>> 0, (hl ^ rl) >>> 0, 23);
    mul(rh, rl, P2H, P2L);
    add(rh, rl, P3H, P3L);
    hh = rh; hl = rl;
    i += 4;
  }
  for (; i < len; i++) {
    mul(0, b[i], P5H, P5L);
    rotl((hh ^ rh) >>> 0, (hl ^ rl) >>> 0, 11);
    mul(rh, rl, P1H, P1L);
    hh = rh; hl = rl;
  }
  // Avalanche.
  hl = (hl ^ (hh >>> 1)) >>> 0;
  mul(hh, hl, P2H, P2L);
  hh = rh; hl = rl;
  hl = (hl ^ ((hl >>> 29) | (hh << 3))) >>> 0;
  hh = (hh ^ (hh >>> 29)) >>> 0;
  mul(hh, hl, P3H, P3L);
  rl = (rl ^ rh) >>> 0;
}

/** Reused for string input: request keys are short, so hashing one allocates only the result. */
let scratch = Buffer.allocUnsafe(256);

/** xxHash64 of a string's UTF-8 bytes (or of raw bytes) with a 32-bit seed (Envoy uses 0, and 1 for Maglev's skip). */
export function xxHash64(input: string | Uint8Array, seed = 0): Hash64 {
  if (typeof input === 'string') {
    if (input.length * 3 > scratch.length) scratch = Buffer.allocUnsafe(input.length * 3);
    const len = scratch.write(input, 0, 'utf8');
    hashBytes(scratch, len, seed >>> 0);
  } else hashBytes(input, input.length, seed >>> 0);
  return { hi: rh, lo: rl };
}

export const hashToBigInt = (h: Hash64): bigint => (BigInt(h.hi) << 32n) | BigInt(h.lo);

/** 16 lower-case hex digits, as Envoy's Hex::uint64ToHex writes a generated cookie. */
export const hashToHex = (h: Hash64): string => h.hi.toString(16).padStart(8, '0') + h.lo.toString(16).padStart(8, '0');

/** `h mod m` for m ≤ 2^26 without losing precision (Maglev's table index and permutation). */
export function hashMod(h: Hash64, m: number): number {
  return ((h.hi % m) * (TWO32 % m) + (h.lo % m)) % m;
}

/** Envoy's combination of several hash policies: rotate the running hash left by one, then xor. */
export function combineHashes(acc: Hash64, next: Hash64): Hash64 {
  const hi = ((acc.hi << 1) | (acc.lo >>> 31)) >>> 0;
  const lo = ((acc.lo << 1) | (acc.hi >>> 31)) >>> 0;
  return { hi: (hi ^ next.hi) >>> 0, lo: (lo ^ next.lo) >>> 0 };
}
