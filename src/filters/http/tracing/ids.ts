import { Buffer } from 'node:buffer';
import { hex, latin1 } from '../../network/http_connection_manager/codec/chars.js';
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

const HEX_DIGITS = Buffer.from('0123456789abcdef', 'latin1');
/** `00-{trace id}-{span id}-0{flag}`: 3 + 32 + 1 + 16 + 2 + 1 bytes. */
const traceparent = Buffer.from('00-' + '0'.repeat(32) + '-' + '0'.repeat(16) + '-00', 'latin1');
const TRACE_ID_AT = 3;
const SPAN_ID_AT = 36;

/**
 * A new trace's W3C `traceparent`, with a random 128-bit trace id and 64-bit span id (neither all
 * zeros), written once into a scratch buffer: callers take the ids as slices of it
 * (TRACEPARENT_TRACE_ID, TRACEPARENT_SPAN_ID), one string made where there would be three.
 */
export function newTraceparent(sampled: boolean): string {
  let at: number;
  do at = takeRandom(24);
  while (allZero(at, at + 16) || allZero(at + 16, at + 24));
  let p = TRACE_ID_AT;
  for (let i = at; i < at + 24; i++) {
    if (i === at + 16) p = SPAN_ID_AT;
    const b = randomPool[i]!;
    traceparent[p++] = HEX_DIGITS[b >> 4]!;
    traceparent[p++] = HEX_DIGITS[b & 15]!;
  }
  traceparent[traceparent.length - 1] = sampled ? 0x31 : 0x30;
  return latin1(traceparent, 0, traceparent.length);
}

/** [start, end) of newTraceparent()'s result: the trace id, then the span id. */
export const TRACEPARENT_TRACE_ID = [TRACE_ID_AT, TRACE_ID_AT + 32] as const;
export const TRACEPARENT_SPAN_ID = [SPAN_ID_AT, SPAN_ID_AT + 16] as const;

function allZero(start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (randomPool[i] !== 0) return false;
  return true;
}
