import { Byte, HEX as HEX_TABLE, TOKEN_LOWER as TOKEN_TABLE } from './chars.js';
import { CodecErrorCode } from './errors.js';

// Module-local aliases for the byte loops below (docs/http1-codec.md, "Writing the byte loops").
const HEX = HEX_TABLE;
const TOKEN_LOWER = TOKEN_TABLE;

/** Line parsers return an offset, or one of these (a const enum: literals, not module cells). */
export const enum Offset {
  NeedMore = -1,
  Fail = -2,
}

/**
 * Result of parseChunkSizeLine(). One shared instance (the parser is synchronous and
 * single-threaded), so parsing a chunk header allocates nothing.
 */
export interface ChunkLineResult {
  /** Offset after the line's LF, NEED_MORE or FAIL. */
  next: number;
  size: number;
  code: CodecErrorCode | undefined;
  message: string | undefined;
}

const result: ChunkLineResult = { next: 0, size: 0, code: undefined, message: undefined };
const MAX_HEX_DIGITS = 16;
const MAX_SAFE = Number.MAX_SAFE_INTEGER;

function bad(code: CodecErrorCode, message: string): ChunkLineResult {
  result.next = Offset.Fail;
  result.code = code;
  result.message = message;
  return result;
}

function more(): ChunkLineResult {
  result.next = Offset.NeedMore;
  return result;
}

function isQdtext(c: number): boolean {
  return c === Byte.HTAB || c === Byte.SP || c === 0x21 || (c >= 0x23 && c <= 0x5b) || (c >= 0x5d && c <= 0x7e) || c >= 0x80;
}

/**
 * chunk-size [ chunk-ext ] CRLF (RFC 9112 §7.1). The size is 1–16 hex digits and at most
 * 2^53−1; extensions are checked against the grammar and ignored:
 *   chunk-ext = *( BWS ";" BWS ext-name [ BWS "=" BWS ( token / quoted-string ) ] )
 */
export function parseChunkSizeLine(b: Buffer, pos: number, end: number): ChunkLineResult {
  let i = pos;
  let size = 0;
  while (i < end) {
    const h = HEX[b[i]!]!;
    if (h === 0) break;
    if (i - pos === MAX_HEX_DIGITS) return bad(CodecErrorCode.InvalidChunkSize, 'chunk size too long');
    size = size * 16 + (h - 1);
    i++;
  }
  if (i === end) return more();
  if (i === pos) return bad(CodecErrorCode.InvalidChunkSize, 'invalid chunk size');
  if (size > MAX_SAFE) return bad(CodecErrorCode.InvalidChunkSize, 'chunk size overflow');
  let c = b[i]!;
  if (c !== Byte.CR && c !== Byte.LF && c !== 0x3b && c !== Byte.SP && c !== Byte.HTAB) {
    return bad(CodecErrorCode.InvalidChunkSize, 'invalid chunk size');
  }
  // Extensions.
  for (;;) {
    if (i === end) return more();
    c = b[i]!;
    if (c === Byte.CR || c === Byte.LF) break;
    while (i < end && (b[i] === Byte.SP || b[i] === Byte.HTAB)) i++;
    if (i === end) return more();
    if (b[i] !== 0x3b) return bad(CodecErrorCode.InvalidChunkExtension, 'invalid chunk extension');
    i++;
    while (i < end && (b[i] === Byte.SP || b[i] === Byte.HTAB)) i++;
    const ns = i;
    while (i < end && TOKEN_LOWER[b[i]!] !== 0) i++;
    if (i === end) return more();
    if (i === ns) return bad(CodecErrorCode.InvalidChunkExtension, 'empty chunk extension name');
    let j = i;
    while (j < end && (b[j] === Byte.SP || b[j] === Byte.HTAB)) j++;
    if (j === end) return more();
    if (b[j] !== 0x3d) continue; // no value: i stays before any BWS, the loop re-checks
    i = j + 1;
    while (i < end && (b[i] === Byte.SP || b[i] === Byte.HTAB)) i++;
    if (i === end) return more();
    if (b[i] === 0x22) {
      i++;
      for (;;) {
        if (i === end) return more();
        c = b[i]!;
        if (c === 0x22) {
          i++;
          break;
        }
        if (c === 0x5c) {
          if (++i === end) return more();
          c = b[i]!;
          if (!(c === Byte.HTAB || (c >= 0x20 && c !== 0x7f))) {
            return bad(CodecErrorCode.InvalidChunkExtension, 'invalid quoted-pair in chunk extension');
          }
          i++;
          continue;
        }
        if (!isQdtext(c)) return bad(CodecErrorCode.InvalidChunkExtension, 'invalid character in chunk extension');
        i++;
      }
    } else {
      const vs = i;
      while (i < end && TOKEN_LOWER[b[i]!] !== 0) i++;
      if (i === end) return more();
      if (i === vs) return bad(CodecErrorCode.InvalidChunkExtension, 'empty chunk extension value');
    }
  }
  if (c === Byte.LF) return bad(CodecErrorCode.CrExpected, 'bare LF');
  if (i + 1 === end) return more();
  if (b[i + 1] !== Byte.LF) return bad(CodecErrorCode.LfExpected, 'bare CR');
  result.next = i + 2;
  result.size = size;
  result.code = undefined;
  result.message = undefined;
  return result;
}
