import { Buffer } from 'node:buffer';
import { randomFillSync } from 'node:crypto';

/**
 * Random bytes for per-request ids (x-request-id, trace and span ids), cut from one pooled
 * buffer: one randomFillSync per 4 KiB, not one per request.
 */
export const randomPool: Buffer = Buffer.allocUnsafe(4096);
let offset = randomPool.length;

/** Where `n` fresh random bytes start in `randomPool` (valid until the next call). */
export function takeRandom(n: number): number {
  if (offset + n > randomPool.length) {
    randomFillSync(randomPool);
    offset = 0;
  }
  const at = offset;
  offset += n;
  return at;
}
