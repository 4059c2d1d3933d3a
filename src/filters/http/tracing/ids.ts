import { randomFillSync } from 'node:crypto';

/** Random ids are cut from one pooled buffer: one randomFillSync per 512 span ids, not one per request. */
const pool = Buffer.allocUnsafe(4096);
let offset = pool.length;

/** `bytes` random bytes as lower-case hex; never all zeros (an invalid id for B3 and W3C). */
export function randomHexId(bytes: 8 | 16): string {
  for (;;) {
    if (offset + bytes > pool.length) {
      randomFillSync(pool);
      offset = 0;
    }
    let nonZero = false;
    for (let i = offset; i < offset + bytes; i++) if (pool[i] !== 0) nonZero = true;
    const id = pool.toString('hex', offset, offset + bytes);
    offset += bytes;
    if (nonZero) return id;
  }
}
