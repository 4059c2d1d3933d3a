import { Buffer } from 'node:buffer';
import { Byte, TOKEN_LOWER as TOKEN_TABLE, equalsIgnoreCase, latin1, lowerEquals } from './chars.js';
import { COMMON_NAMES, internName, type HeaderList } from './headers.js';
import { CodecErrorCode, HttpCodecError, detailsFor } from './errors.js';
import { resolveLimits, type ParserLimits } from './limits.js';
import { Offset } from './chunked.js';
import { SCAN_SLOTS, type FieldScanner } from './native_scan.js';

// Module-local aliases for the byte loops below (docs/http1-codec.md, "Writing the byte loops").
const TOKEN_LOWER = TOKEN_TABLE;

export const enum State {
  StartLine = 0,
  Headers = 1,
  BodyLength = 2,
  ChunkSize = 3,
  ChunkData = 4,
  ChunkDataCR = 5,
  ChunkDataLF = 6,
  Trailers = 7,
  BodyUntilEof = 8,
  /** Protocol switched (101, CONNECT, Upgrade): the bytes after the head are not HTTP. */
  Upgraded = 9,
  Error = 10,
}

/** Callbacks shared by the request and response parsers. */
export interface BodyHandler {
  /** A piece of the message body: a subarray of the buffer given to execute() (no copy). */
  onBody(chunk: Buffer): void;
  /** The message ended. `trailers` is a flat lowercase list, or null when there were none. */
  onMessageComplete(trailers: HeaderList | null): void;
}

const MAX_SAFE = Number.MAX_SAFE_INTEGER;
/** Bytes converted to a string at once by text(). */
const TEXT_WINDOW = 1024;
/** Windows longer than this are cut at the head's end. */
const TEXT_SEARCH_FROM = 256;
const BLANK_LINE = Buffer.from('\r\n\r\n', 'latin1');

/**
 * Field-line parsing shared by headers and trailers, the framing facts gathered from the
 * fields, the header budget, and error reporting. Http1ParserBase adds the execute loop,
 * the line carry and bodies on top.
 */
export abstract class FieldParser<H extends BodyHandler> {
  state: State = State.StartLine;
  /** Set when the input was rejected; no callback is made after it. */
  error: HttpCodecError | null = null;
  protected handler: H;
  protected readonly limits: ParserLimits;
  /** Holds a line that straddles two input buffers (owned by Http1ParserBase). */
  protected carry: Buffer | null = null;
  protected carryLen = 0;
  /** Offset in the caller's buffer of the step being processed (for error reports). */
  protected stepOffset = 0;
  // One latin1 conversion per header section (see text()); valid within one execute() call.
  protected sBuf: Buffer | null = null;
  private sStart = 0;
  private sEnd = 0;
  private s = '';
  /** Bytes of the current header (or trailer) section counted toward maxHeaderBytes. */
  protected headBytes = 0;
  protected fieldCount = 0;
  protected headers: HeaderList = [];
  protected trailers: HeaderList | null = null;
  protected remaining = 0;
  // Framing facts gathered while reading the header section.
  protected contentLength = -1;
  protected teCount = 0;
  protected teValue = '';
  protected connClose = false;
  protected connKeepAlive = false;
  protected connUpgrade = false;
  protected upgradeValue: string | undefined = undefined;
  protected expectValue: string | undefined = undefined;
  protected hostCount = 0;

  constructor(handler: H, limits?: Partial<ParserLimits>) {
    this.handler = handler;
    this.limits = resolveLimits(limits);
  }

  /** The header section ended: validate framing, emit the head, pick the body state. */
  protected abstract headersDone(): boolean;
  /** HTTP status to answer for an error code (request: 400/431/501; response: 502/503). */
  protected abstract statusFor(code: CodecErrorCode): number;
  /** Ends the current message (the trailer section's blank line). */
  protected abstract complete(trailers: HeaderList | null): void;

  protected resetMessage(): void {
    this.headBytes = 0;
    this.fieldCount = 0;
    this.headers = [];
    this.trailers = null;
    this.remaining = 0;
    this.contentLength = -1;
    this.teCount = 0;
    this.teValue = '';
    this.connClose = false;
    this.connKeepAlive = false;
    this.connUpgrade = false;
    this.upgradeValue = undefined;
    this.expectValue = undefined;
    this.hostCount = 0;
  }

  protected fail(code: CodecErrorCode, message: string, details?: string): number {
    this.error = new HttpCodecError(code, this.statusFor(code), details ?? detailsFor(code), message, this.stepOffset);
    this.state = State.Error;
    this.carryLen = 0;
    return Offset.Fail;
  }

  /**
   * latin1 text of b[start, end). Crossing into C++ for every name and value costs more than
   * the parse itself, so the first call converts a window of TEXT_WINDOW bytes (about one
   * typical header section) once, and later calls slice that string in JS.
   */
  protected text(b: Buffer, start: number, end: number): string {
    if (b !== this.sBuf || start < this.sStart || end > this.sEnd) {
      if (b === this.carry) return latin1(b, start, end);
      let he = start + TEXT_WINDOW;
      if (he > b.length) he = b.length;
      // A body in the same read would be converted too: stop at the blank line when the
      // window reaches past one (a native search only when there is that much to convert).
      if (he - start > TEXT_SEARCH_FROM) {
        const blank = b.indexOf(BLANK_LINE, start);
        if (blank >= 0 && blank + 4 < he) he = blank + 4;
      }
      if (he < end) he = end;
      this.s = latin1(b, start, he);
      this.sBuf = b;
      this.sStart = start;
      this.sEnd = he;
    }
    return this.s.slice(start - this.sStart, end - this.sStart);
  }

  /** Adds a start line's length to the header budget. */
  protected countHeadBytes(n: number): boolean {
    if ((this.headBytes += n) > this.limits.maxHeaderBytes) {
      this.fail(CodecErrorCode.HeaderOverflow, 'header section too large');
      return false;
    }
    return true;
  }

  protected fieldLine(b: Buffer, pos: number, end: number, trailer: boolean): number {
    let c = b[pos]!;
    if (c === Byte.CR) {
      if (pos + 1 === end) return Offset.NeedMore;
      if (b[pos + 1] !== Byte.LF) return this.fail(CodecErrorCode.LfExpected, 'bare CR');
      if (trailer) {
        const t = this.trailers;
        this.complete(t);
      } else if (!this.headersDone()) {
        return Offset.Fail;
      }
      return pos + 2;
    }
    const badField = trailer ? CodecErrorCode.InvalidTrailer : CodecErrorCode.InvalidHeaderToken;
    if (c === Byte.LF) return this.fail(CodecErrorCode.CrExpected, 'bare LF');
    if (c === Byte.SP || c === Byte.HTAB) {
      return this.fail(trailer ? CodecErrorCode.InvalidTrailer : CodecErrorCode.ObsFold, 'obsolete line folding');
    }
    // Field name: tchar+ directly followed by ':'.
    let i = pos;
    let upper = false;
    while (i < end) {
      c = b[i]!;
      if ((c >= 0x61 && c <= 0x7a) || c === 0x2d) {
        i++; // lowercase letter or '-': the common case, no table load
        continue;
      }
      const l = TOKEN_LOWER[c]!;
      if (l === 0) break;
      if (l !== c) upper = true;
      i++;
    }
    if (i === end) return Offset.NeedMore;
    if (c !== Byte.COLON) {
      if (c === Byte.SP || c === Byte.HTAB) return this.fail(badField, 'whitespace before colon');
      if (c === Byte.CR || c === Byte.LF) return this.fail(badField, 'field line without colon');
      return this.fail(badField, 'invalid character in field name');
    }
    if (i === pos) return this.fail(badField, 'empty field name');
    const nameEnd = i++;
    while (i < end && (b[i] === Byte.SP || b[i] === Byte.HTAB)) i++;
    const vs = i;
    // field-vchar / obs-text / SP / HTAB; comparisons beat a table load in this hot loop.
    while (i < end) {
      c = b[i]!;
      if (c >= 0x20 ? c === 0x7f : c !== Byte.HTAB) break;
      i++;
    }
    if (i === end) return Offset.NeedMore;
    if (c === Byte.CR) {
      if (i + 1 === end) return Offset.NeedMore;
      if (b[i + 1] !== Byte.LF) return this.fail(CodecErrorCode.LfExpected, 'bare CR');
    } else if (c === Byte.LF) {
      return this.fail(CodecErrorCode.CrExpected, 'bare LF');
    } else {
      return this.fail(trailer ? CodecErrorCode.InvalidTrailer : CodecErrorCode.InvalidHeaderValue,
        'invalid character in field value');
    }
    let ve = i;
    while (ve > vs && (b[ve - 1] === Byte.SP || b[ve - 1] === Byte.HTAB)) ve--;
    return this.addField(b, pos, nameEnd, vs, ve, i, upper, internName(b, pos, nameEnd), trailer) ? i + 2 : Offset.Fail;
  }

  /**
   * The header lines the native scanner finds complete and valid from b[pos], taken in one
   * call; returns the offset after the last (pos when it found none: fieldLine decides).
   */
  protected scannedFields(scanner: FieldScanner, b: Buffer, pos: number, end: number): number {
    const n = scanner.scan(b, pos, end);
    const o = scanner.out;
    for (let k = 0, q = 0; k < n; k++, q += SCAN_SLOTS) {
      const next = o[q + 3]!;
      const tag = o[q + 4]!;
      this.stepOffset = pos;
      const common = tag > 1 ? COMMON_NAMES[(tag >> 1) - 1] : undefined;
      if (!this.addField(b, pos, o[q]!, o[q + 1]!, o[q + 2]!, next - 2, (tag & 1) !== 0, common, false)) return Offset.Fail;
      pos = next;
    }
    return pos;
  }

  /**
   * A valid field line b[pos, lineEnd) with its name ending at nameEnd (`common` when it is
   * one of COMMON_NAMES) and its value at [vs, ve): counted against the limits, framing
   * fields noted, added to the list.
   */
  private addField(b: Buffer, pos: number, nameEnd: number, vs: number, ve: number, lineEnd: number, upper: boolean, common: string | undefined, trailer: boolean): boolean {
    if ((this.headBytes += lineEnd - pos) > this.limits.maxHeaderBytes) {
      this.fail(CodecErrorCode.HeaderOverflow, trailer ? 'trailer section too large' : 'header section too large');
      return false;
    }
    if (++this.fieldCount > this.limits.maxHeaders) {
      this.fail(CodecErrorCode.TooManyHeaders, trailer ? 'too many trailers' : 'too many headers');
      return false;
    }
    const value = ve > vs ? this.text(b, vs, ve) : '';
    let name = common;
    if (name !== undefined) {
      if (!trailer && !this.framingField(name, value, b, vs, ve)) return false;
    } else {
      name = this.text(b, pos, nameEnd);
      if (upper) name = name.toLowerCase();
    }
    if (trailer) {
      (this.trailers ??= []).push(name, value);
    } else {
      // Two keyed stores: in some runs TurboFan left `push(name, value)` a call into a builtin.
      const h = this.headers;
      const n = h.length;
      h[n] = name;
      h[n + 1] = value;
    }
    return true;
  }

  /** Records the fields that decide framing and connection handling. */
  private framingField(name: string, value: string, b: Buffer, vs: number, ve: number): boolean {
    switch (name) {
      case 'content-length': {
        if (this.contentLength !== -1) {
          this.fail(CodecErrorCode.DuplicateContentLength, 'more than one Content-Length');
          return false;
        }
        let v = 0;
        if (ve === vs || ve - vs > 16) {
          this.fail(CodecErrorCode.InvalidContentLength, 'invalid Content-Length');
          return false;
        }
        for (let i = vs; i < ve; i++) {
          const d = b[i]! - 0x30;
          if (d < 0 || d > 9) {
            this.fail(CodecErrorCode.InvalidContentLength, 'invalid Content-Length');
            return false;
          }
          v = v * 10 + d;
        }
        if (v > MAX_SAFE) {
          this.fail(CodecErrorCode.InvalidContentLength, 'Content-Length overflow');
          return false;
        }
        this.contentLength = v;
        return true;
      }
      case 'transfer-encoding':
        this.teCount++;
        this.teValue = value;
        return true;
      case 'connection':
        // The usual single values without tokenizing by bytes.
        if (equalsIgnoreCase(value, 'keep-alive')) this.connKeepAlive = true;
        else if (equalsIgnoreCase(value, 'close')) this.connClose = true;
        else this.connectionTokens(b, vs, ve);
        return true;
      case 'upgrade':
        this.upgradeValue = value;
        return true;
      case 'expect':
        this.expectValue = value;
        return true;
      case 'host':
        this.hostCount++;
        return true;
    }
    return true;
  }

  /** Sets the close / keep-alive / upgrade flags from a Connection field's tokens. */
  private connectionTokens(b: Buffer, s: number, e: number): void {
    let i = s;
    while (i < e) {
      while (i < e && (b[i] === Byte.SP || b[i] === Byte.HTAB || b[i] === Byte.COMMA)) i++;
      const ts = i;
      while (i < e && b[i] !== Byte.COMMA) i++;
      let te = i;
      while (te > ts && (b[te - 1] === Byte.SP || b[te - 1] === Byte.HTAB)) te--;
      const n = te - ts;
      if (n === 5 && lowerEquals(b, ts, 'close')) this.connClose = true;
      else if (n === 10 && lowerEquals(b, ts, 'keep-alive')) this.connKeepAlive = true;
      else if (n === 7 && lowerEquals(b, ts, 'upgrade')) this.connUpgrade = true;
    }
  }
}
