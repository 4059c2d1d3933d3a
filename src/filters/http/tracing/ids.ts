import { hex } from '../../network/http_connection_manager/codec/chars.js';
import { randomPool, takeRandom } from '../../network/http_connection_manager/random_pool.js';

/** `bytes` random bytes as lower-case hex; never all zeros (an invalid id for B3 and W3C). */
export function randomHexId(bytes: 8 | 16): string {
  for (;;) {
    const at = takeRandom(bytes);
    let nonZero = false;
    for (let i = at; i < at + bytes; i++) if (randomPool[i] !== 0) nonZero = true;
    if (nonZero) return hex(randomPool, at, at + bytes);
  }
}
