import { Buffer } from 'node:buffer';
import { latin1 } from './codec/chars.js';
import { randomPool, takeRandom } from './random_pool.js';

const text = Buffer.allocUnsafe(36);
const HEX = Buffer.from('0123456789abcdef', 'latin1');

/**
 * A random (version 4) UUID for `x-request-id`, as Envoy generates when a request has none.
 * Node's crypto.randomUUID() builds its string from 20 concatenated pieces; this formats the
 * bytes once into a scratch buffer and makes one flat 36-character string, from the pooled
 * random bytes (random_pool.ts).
 */
export function newRequestId(): string {
  const base = takeRandom(16);
  let p = 0;
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) text[p++] = 0x2d;
    let b = randomPool[base + i]!;
    if (i === 6) b = (b & 0x0f) | 0x40; // version 4
    else if (i === 8) b = (b & 0x3f) | 0x80; // RFC 4122 variant
    text[p++] = HEX[b >> 4]!;
    text[p++] = HEX[b & 15]!;
  }
  return latin1(text, 0, 36);
}
