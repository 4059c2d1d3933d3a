import test from 'ava';
import { combineHashes, hashMod, hashToBigInt, hashToHex, xxHash64 } from '../../src/cluster/lb/xxhash64.js';

// Published XXH64 test vectors (seed 0 unless given), including one past the 32-byte stripe loop.
const VECTORS: [string, number, bigint][] = [
  ['', 0, 0xef46db3751d8e999n],
  ['a', 0, 0xd24ec4f1a98c6e5bn],
  ['abc', 0, 0x44bc2cf5ad770999n],
  ['Nobody inspects the spammish repetition', 0, 0xfbcea83c8a378bf1n],
];

test('xxHash64 matches the published test vectors', (t) => {
  for (const [input, seed, want] of VECTORS) t.is(hashToBigInt(xxHash64(input, seed)), want, JSON.stringify(input));
});

test('xxHash64 hashes strings as UTF-8 and bytes alike, every length from 0 to 100 agreeing with a BigInt reference', (t) => {
  t.is(hashToBigInt(xxHash64('é')), hashToBigInt(xxHash64(Buffer.from('é', 'utf8'))));
  for (let n = 0; n <= 100; n++) {
    const bytes = Buffer.from(Array.from({ length: n }, (_, i) => (i * 131 + n) & 0xff));
    for (const seed of [0, 1, 0x9e3779b1]) t.is(hashToBigInt(xxHash64(bytes, seed)), reference(bytes, BigInt(seed)), `len ${n} seed ${seed}`);
  }
});

test('hex, modulo and combination helpers work on the full 64 bits', (t) => {
  const h = xxHash64('abc');
  t.is(hashToHex(h), '44bc2cf5ad770999');
  t.is(hashToHex({ hi: 0, lo: 1 }), '0000000000000001');
  for (const m of [100, 65537, 5000011]) t.is(hashMod(h, m), Number(hashToBigInt(h) % BigInt(m)));
  const a = xxHash64('x');
  const b = xxHash64('y');
  const A = hashToBigInt(a);
  const rotated = ((A << 1n) | (A >> 63n)) & 0xffffffffffffffffn;
  t.is(hashToBigInt(combineHashes(a, b)), rotated ^ hashToBigInt(b));
});

/** A straightforward BigInt XXH64, independent of the 32-bit-halves implementation. */
function reference(b: Uint8Array, seed: bigint): bigint {
  const M = (1n << 64n) - 1n;
  const P1 = 0x9e3779b185ebca87n, P2 = 0xc2b2ae3d27d4eb4fn, P3 = 0x165667b19e3779f9n, P4 = 0x85ebca77c2b2ae63n, P5 = 0x27d4eb2f165667c5n;
  const rotl = (x: bigint, r: bigint) => ((x << r) | (x >> (64n - r))) & M;
  const round = (acc: bigint, lane: bigint) => (rotl((acc + lane * P2) & M, 31n) * P1) & M;
  const merge = (acc: bigint, v: bigint) => (((acc ^ round(0n, v)) * P1) + P4) & M;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const u64 = (i: number) => dv.getBigUint64(i, true);
  let i = 0;
  let h: bigint;
  if (b.length >= 32) {
    let v1 = (seed + P1 + P2) & M, v2 = (seed + P2) & M, v3 = seed, v4 = (seed - P1) & M;
    for (; i + 32 <= b.length; i += 32) {
      v1 = round(v1, u64(i)); v2 = round(v2, u64(i + 8)); v3 = round(v3, u64(i + 16)); v4 = round(v4, u64(i + 24));
    }
    h = (rotl(v1, 1n) + rotl(v2, 7n) + rotl(v3, 12n) + rotl(v4, 18n)) & M;
    h = merge(merge(merge(merge(h, v1), v2), v3), v4);
  } else h = (seed + P5) & M;
  h = (h + BigInt(b.length)) & M;
  for (; i + 8 <= b.length; i += 8) h = ((rotl(h ^ round(0n, u64(i)), 27n) * P1) + P4) & M;
  if (i + 4 <= b.length) {
    h = ((rotl(h ^ ((BigInt(dv.getUint32(i, true)) * P1) & M), 23n) * P2) + P3) & M;
    i += 4;
  }
  for (; i < b.length; i++) h = (rotl(h ^ ((BigInt(b[i]) * P5) & M), 11n) * P1) & M;
  h ^= h >> 33n; h = (h * P2) & M; h ^= h >> 29n; h = (h * P3) & M; h ^= h >> 32n;
  return h;
}
