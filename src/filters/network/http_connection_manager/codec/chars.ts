/**
 * Byte classification tables (RFC 9110 §5.6.2, RFC 9112). Lookups in a Uint8Array are the
 * cheapest per-byte test V8 offers; no regex on the hot path.
 */
import { Buffer } from 'node:buffer';

/** tchar → its lowercase byte; 0 for every non-tchar byte. */
export const TOKEN_LOWER = new Uint8Array(256);
/** field-vchar / SP / HTAB / obs-text → 1 (what may appear inside a field value). */
export const FIELD_VALUE = new Uint8Array(256);
/** Bytes allowed in a request-target: VCHAR (0x21–0x7e). No CTL, SP, DEL or non-ASCII. */
export const TARGET = new Uint8Array(256);
/** Hex digit → value + 1; 0 for non-hex. */
export const HEX = new Uint8Array(256);

const TCHAR_SYMBOLS = "!#$%&'*+-.^_`|~";

for (let c = 0; c < 256; c++) {
  const isAlpha = (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
  const isDigit = c >= 0x30 && c <= 0x39;
  if (isAlpha || isDigit || TCHAR_SYMBOLS.includes(String.fromCharCode(c))) {
    TOKEN_LOWER[c] = c >= 0x41 && c <= 0x5a ? c | 0x20 : c;
  }
  if (c === 0x09 || (c >= 0x20 && c !== 0x7f)) FIELD_VALUE[c] = 1;
  if (c >= 0x21 && c <= 0x7e) TARGET[c] = 1;
  if (isDigit) HEX[c] = c - 0x30 + 1;
  else if (c >= 0x41 && c <= 0x46) HEX[c] = c - 0x41 + 11;
  else if (c >= 0x61 && c <= 0x66) HEX[c] = c - 0x61 + 11;
}

/**
 * Bytes the codec compares against. A const enum, so every use compiles to a literal: an
 * imported `const` is a module cell that optimized code re-loads and hole-checks on each read.
 */
export const enum Byte {
  HTAB = 0x09,
  LF = 0x0a,
  CR = 0x0d,
  SP = 0x20,
  COMMA = 0x2c,
  COLON = 0x3a,
}

/** True when every char of `s` is a tchar (and `s` is non-empty). */
export function isToken(s: string): boolean {
  const n = s.length;
  if (n === 0) return false;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff || TOKEN_LOWER[c] === 0) return false;
  }
  return true;
}

/** True when `s` may be sent as a field value: no CR, LF, NUL or other CTL, nothing above 0xff. */
export function isFieldValue(s: string): boolean {
  for (let i = 0, n = s.length; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff || FIELD_VALUE[c] === 0) return false;
  }
  return true;
}

/** Buffer → latin1 string without the encoding switch of toString() (Node-internal fast path). */
type Latin1Sliceable = Buffer & { latin1Slice(start: number, end: number): string };
const hasLatin1Slice = typeof (Buffer.prototype as Partial<Latin1Sliceable>).latin1Slice === 'function';

export const latin1: (b: Buffer, start: number, end: number) => string = hasLatin1Slice
  ? (b, start, end) => (b as Latin1Sliceable).latin1Slice(start, end)
  : (b, start, end) => b.toString('latin1', start, end);

/** Buffer → lower-case hex string, without toString()'s encoding switch (Node-internal fast path). */
type HexSliceable = Buffer & { hexSlice(start: number, end: number): string };
const hasHexSlice = typeof (Buffer.prototype as Partial<HexSliceable>).hexSlice === 'function';

export const hex: (b: Buffer, start: number, end: number) => string = hasHexSlice
  ? (b, start, end) => (b as HexSliceable).hexSlice(start, end)
  : (b, start, end) => b.toString('hex', start, end);

/** Writes `text` into b at `offset` as latin1, without the encoding switch of write() (Node-internal fast path). */
type Latin1Writable = Buffer & { latin1Write(text: string, offset: number, length: number): number };
const hasLatin1Write = typeof (Buffer.prototype as Partial<Latin1Writable>).latin1Write === 'function';

export const writeLatin1: (b: Buffer, text: string, offset: number) => number = hasLatin1Write
  ? (b, text, offset) => (b as Latin1Writable).latin1Write(text, offset, text.length)
  : (b, text, offset) => b.write(text, offset, 'latin1');

/** b[s, s+lower.length) equals `lower` ignoring ASCII case. */
export function lowerEquals(b: Uint8Array, s: number, lower: string): boolean {
  for (let i = 0; i < lower.length; i++) {
    let c = b[s + i]!;
    if (c >= 0x41 && c <= 0x5a) c |= 0x20;
    if (c !== lower.charCodeAt(i)) return false;
  }
  return true;
}

/**
 * Index of the last ':' in `s`, or -1 (the port separator of an authority or address). V8 runs
 * String.prototype.lastIndexOf in its C++ runtime, about 300 instructions a call; these strings
 * are short and the colon is near their end.
 */
export function lastColon(s: string): number {
  let i = s.length - 1;
  while (i >= 0 && s.charCodeAt(i) !== 0x3a) i--;
  return i;
}

/**
 * String equals `lower` ignoring ASCII case. The exact match is tried first: one native
 * comparison, where reading chars costs about 40 instructions each.
 */
export function equalsIgnoreCase(s: string, lower: string): boolean {
  if (s.length !== lower.length) return false;
  if (s === lower) return true;
  for (let i = 0; i < lower.length; i++) {
    let c = s.charCodeAt(i);
    if (c >= 0x41 && c <= 0x5a) c |= 0x20;
    if (c !== lower.charCodeAt(i)) return false;
  }
  return true;
}
