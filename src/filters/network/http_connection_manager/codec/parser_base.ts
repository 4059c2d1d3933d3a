import { CR, LF, SP, HTAB, COLON, TOKEN_LOWER, latin1 } from './chars.js';
import { internName, type HeaderList } from './headers.js';
import { CodecErrorCode, HttpCodecError, detailsFor } from './errors.js';
import { resolveLimits, type ParserLimits } from './limits.js';
import { parseChunkSizeLine, NEED_MORE, FAIL } from './chunked.js';

export { NEED_MORE, FAIL };

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
/** A carry buffer grown past this is dropped once its line is parsed. */
const CARRY_KEEP = 8192;

/**
 * Incremental HTTP/1.1 framing shared by both directions. Lines (start line, fields, chunk
 * sizes, trailers) are parsed straight from the caller's buffer; only a line that straddles
 * two buffers is copied into a carry buffer, and each line is parsed exactly once however the
 * input is split (byte-by-byte feeding stays O(n)). Bodies are emitted as subarrays.
 */
export abstract class Http1ParserBase<H extends BodyHandler> {
  state: State = State.StartLine;
  /** Set when the input was rejected; no callback is made after it. */
  error: HttpCodecError | null = null;
  protected handler: H;
  protected readonly limits: ParserLimits;
  private carry: Buffer | null = null;
  private carryLen = 0;
  private done = false;
  private stepOffset = 0;
  // One latin1 conversion per header section (see text()); valid within one execute() call.
  private sBuf: Buffer | null = null;
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

  constructor(handler: H, limits?: Partial<ParserLimits>) {
    this.handler = handler;
    this.limits = resolveLimits(limits);
  }

  /** Parses the start line at b[pos] (not an empty line). Returns the offset after its LF. */
  protected abstract parseStartLine(b: Buffer, pos: number, end: number): number;
  /** The header section ended: validate framing, emit the head, pick the body state. */
  protected abstract headersDone(): boolean;
  /** HTTP status to answer for an error code (request: 400/431/501; response: 502/503). */
  protected abstract statusFor(code: CodecErrorCode): number;

  /**
   * Parses from b[start]. Returns the offset of the first byte not consumed. Parsing stops
   * after each complete message (so a connection manager handles pipelined requests one at a
   * time: call execute(b, returned) again when ready), after a protocol switch (the rest is
   * tunnel data), or on error (`this.error` is set). Handlers must not throw or re-enter.
   */
  execute(b: Buffer, start = 0): number {
    if (this.state >= State.Upgraded) return start;
    this.sBuf = null; // the caller may reuse the same Buffer object for new bytes
    const end = b.length;
    let pos = start;
    const h = this.handler;
    while (pos < end) {
      this.stepOffset = pos;
      switch (this.state) {
        case State.BodyLength:
        case State.ChunkData: {
          const avail = end - pos;
          const n = avail < this.remaining ? avail : this.remaining;
          const chunk = b.subarray(pos, pos + n);
          pos += n;
          this.remaining -= n;
          h.onBody(chunk);
          if (this.remaining === 0) {
            if (this.state === State.BodyLength) this.complete(null);
            else this.state = State.ChunkDataCR;
          }
          break;
        }
        case State.ChunkDataCR:
          if (b[pos] !== CR) return this.failAt(CodecErrorCode.InvalidChunkData, 'chunk data not followed by CRLF');
          pos++;
          this.state = State.ChunkDataLF;
          break;
        case State.ChunkDataLF:
          if (b[pos] !== LF) return this.failAt(CodecErrorCode.InvalidChunkData, 'chunk data not followed by CRLF');
          pos++;
          this.state = State.ChunkSize;
          break;
        case State.BodyUntilEof:
          h.onBody(b.subarray(pos, end));
          pos = end;
          break;
        default: {
          const r = this.lineStep(b, pos, end);
          if (r === FAIL) return this.stepOffset;
          pos = r;
        }
      }
      if (this.done) {
        this.done = false;
        return pos;
      }
      if (this.state >= State.Upgraded) return this.state === State.Error ? this.stepOffset : pos;
    }
    return pos;
  }

  /**
   * The peer closed its side. Completes a read-until-close body; otherwise returns an error
   * when a message was in progress (null for a clean close between messages).
   */
  finish(): HttpCodecError | null {
    switch (this.state) {
      case State.StartLine:
        if (this.carryLen === 0) return null;
        break;
      case State.BodyUntilEof:
        this.complete(null);
        this.done = false;
        return null;
      case State.Upgraded:
        return null;
      case State.Error:
        return this.error;
    }
    this.fail(CodecErrorCode.InvalidEofState, 'connection closed in the middle of a message');
    return this.error;
  }

  /** Makes the parser reusable for a new connection (pooling). */
  reset(handler: H = this.handler): void {
    this.handler = handler;
    this.state = State.StartLine;
    this.error = null;
    this.carryLen = 0;
    this.done = false;
    this.resetMessage();
  }

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
  }

  /** Ends the current message: reset, tell the handler, and make execute() return. */
  protected complete(trailers: HeaderList | null): void {
    this.resetMessage();
    this.state = State.StartLine;
    this.done = true;
    this.handler.onMessageComplete(trailers);
  }

  protected fail(code: CodecErrorCode, message: string, details?: string): number {
    this.error = new HttpCodecError(code, this.statusFor(code), details ?? detailsFor(code), message, this.stepOffset);
    this.state = State.Error;
    this.carryLen = 0;
    return FAIL;
  }

  private failAt(code: CodecErrorCode, message: string): number {
    this.fail(code, message);
    return this.stepOffset;
  }

  /**
   * latin1 text of b[start, end). Crossing into C++ for every name and value costs more than
   * the parse itself, so the first call converts a window of TEXT_WINDOW bytes (about one
   * typical header section) once, and later calls slice that string in JS.
   */
  protected text(b: Buffer, start: number, end: number): string {
    if (b !== this.sBuf || start < this.sStart || end > this.sEnd) {
      if (b === this.carry) return latin1(b, start, end);
      // A window rather than a search for the blank line: converting a few body bytes
      // too is cheaper than a native indexOf per head.
      let he = start + TEXT_WINDOW;
      if (he > b.length) he = b.length;
      if (he < end) he = end;
      this.s = latin1(b, start, he);
      this.sBuf = b;
      this.sStart = start;
      this.sEnd = he;
    }
    return this.s.slice(start - this.sStart, end - this.sStart);
  }

  // ---- lines -------------------------------------------------------------------------------

  private lineStep(b: Buffer, pos: number, end: number): number {
    if (this.carryLen === 0) {
      const st = this.state;
      const r = this.processLine(b, pos, end);
      if (r >= 0) return r;
      if (r === FAIL) {
        // Report a syntax error only once its line is complete, so the outcome never depends
        // on how the input was split (a line cut short is stashed and parsed whole later).
        if (b.indexOf(LF, pos) !== -1) return FAIL;
        this.state = st;
        this.error = null;
      }
      return this.stash(b, pos, end) ? end : FAIL;
    }
    const lf = b.indexOf(LF, pos);
    if (lf === -1) return this.stash(b, pos, end) ? end : FAIL;
    if (!this.stash(b, pos, lf + 1)) return FAIL;
    const carry = this.carry!;
    const len = this.carryLen;
    this.carryLen = 0;
    const r = this.processLine(carry, 0, len);
    if (carry.length > CARRY_KEEP) this.carry = null;
    if (r === FAIL) return FAIL;
    if (r !== len) return this.fail(CodecErrorCode.LfExpected, 'line does not end where expected');
    return lf + 1;
  }

  /** Copies b[s, e) into the carry buffer, enforcing the line budget of the current state. */
  private stash(b: Buffer, s: number, e: number): boolean {
    const need = this.carryLen + (e - s);
    // CR/LF are not counted toward the budget; allow them as slack here, and let the
    // exact per-line accounting in processLine() decide when the line is complete.
    if (this.state === State.ChunkSize) {
      if (need > this.limits.maxChunkLineBytes + 2) {
        this.fail(CodecErrorCode.InvalidChunkExtension, 'chunk-size line too long');
        return false;
      }
    } else if (this.headBytes + need > this.limits.maxHeaderBytes + 2) {
      this.fail(CodecErrorCode.HeaderOverflow, 'header section too large');
      return false;
    }
    let carry = this.carry;
    if (carry === null || carry.length < need) {
      const grown = Buffer.allocUnsafe(Math.max(256, need, carry === null ? 0 : carry.length * 2));
      if (carry !== null && this.carryLen > 0) carry.copy(grown, 0, 0, this.carryLen);
      this.carry = carry = grown;
    }
    b.copy(carry, this.carryLen, s, e);
    this.carryLen = need;
    return true;
  }

  private processLine(b: Buffer, pos: number, end: number): number {
    switch (this.state) {
      case State.StartLine: {
        const c = b[pos];
        if (c === CR) {
          // Empty line(s) before a start line are ignored (RFC 9112 §2.2), within the budget.
          if (pos + 1 === end) return NEED_MORE;
          if (b[pos + 1] !== LF) return this.fail(CodecErrorCode.LfExpected, 'bare CR');
          if ((this.headBytes += 2) > this.limits.maxHeaderBytes) {
            return this.fail(CodecErrorCode.HeaderOverflow, 'header section too large');
          }
          return pos + 2;
        }
        if (c === LF) return this.fail(CodecErrorCode.CrExpected, 'bare LF');
        return this.parseStartLine(b, pos, end);
      }
      case State.Headers:
        return this.fieldLine(b, pos, end, false);
      case State.Trailers:
        return this.fieldLine(b, pos, end, true);
      default:
        return this.chunkSizeLine(b, pos, end);
    }
  }

  /** Adds a start line's length to the header budget. */
  protected countHeadBytes(n: number): boolean {
    if ((this.headBytes += n) > this.limits.maxHeaderBytes) {
      this.fail(CodecErrorCode.HeaderOverflow, 'header section too large');
      return false;
    }
    return true;
  }

  private fieldLine(b: Buffer, pos: number, end: number, trailer: boolean): number {
    let c = b[pos]!;
    if (c === CR) {
      if (pos + 1 === end) return NEED_MORE;
      if (b[pos + 1] !== LF) return this.fail(CodecErrorCode.LfExpected, 'bare CR');
      if (trailer) {
        const t = this.trailers;
        this.complete(t);
      } else if (!this.headersDone()) {
        return FAIL;
      }
      return pos + 2;
    }
    const badField = trailer ? CodecErrorCode.InvalidTrailer : CodecErrorCode.InvalidHeaderToken;
    if (c === LF) return this.fail(CodecErrorCode.CrExpected, 'bare LF');
    if (c === SP || c === HTAB) {
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
    if (i === end) return NEED_MORE;
    if (c !== COLON) {
      if (c === SP || c === HTAB) return this.fail(badField, 'whitespace before colon');
      if (c === CR || c === LF) return this.fail(badField, 'field line without colon');
      return this.fail(badField, 'invalid character in field name');
    }
    if (i === pos) return this.fail(badField, 'empty field name');
    const nameEnd = i++;
    while (i < end && (b[i] === SP || b[i] === HTAB)) i++;
    const vs = i;
    // field-vchar / obs-text / SP / HTAB; comparisons beat a table load in this hot loop.
    while (i < end) {
      c = b[i]!;
      if (c >= 0x20 ? c === 0x7f : c !== HTAB) break;
      i++;
    }
    if (i === end) return NEED_MORE;
    if (c === CR) {
      if (i + 1 === end) return NEED_MORE;
      if (b[i + 1] !== LF) return this.fail(CodecErrorCode.LfExpected, 'bare CR');
    } else if (c === LF) {
      return this.fail(CodecErrorCode.CrExpected, 'bare LF');
    } else {
      return this.fail(trailer ? CodecErrorCode.InvalidTrailer : CodecErrorCode.InvalidHeaderValue,
        'invalid character in field value');
    }
    let ve = i;
    while (ve > vs && (b[ve - 1] === SP || b[ve - 1] === HTAB)) ve--;
    if ((this.headBytes += i - pos) > this.limits.maxHeaderBytes) {
      return this.fail(CodecErrorCode.HeaderOverflow, trailer ? 'trailer section too large' : 'header section too large');
    }
    if (++this.fieldCount > this.limits.maxHeaders) {
      return this.fail(CodecErrorCode.TooManyHeaders, trailer ? 'too many trailers' : 'too many headers');
    }
    const value = ve > vs ? this.text(b, vs, ve) : '';
    let name = internName(b, pos, nameEnd);
    if (name !== undefined) {
      if (!trailer && !this.framingField(name, value, b, vs, ve)) return FAIL;
    } else {
      name = this.text(b, pos, nameEnd);
      if (upper) name = name.toLowerCase();
    }
    if (trailer) (this.trailers ??= []).push(name, value);
    else this.headers.push(name, value);
    return i + 2;
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
        this.connectionTokens(b, vs, ve);
        return true;
      case 'upgrade':
        this.upgradeValue = value;
        return true;
      case 'expect':
        this.expectValue = value;
        return true;
    }
    return true;
  }

  /** Sets the close / keep-alive / upgrade flags from a Connection field's tokens. */
  private connectionTokens(b: Buffer, s: number, e: number): void {
    let i = s;
    while (i < e) {
      while (i < e && (b[i] === SP || b[i] === HTAB || b[i] === 0x2c)) i++;
      const ts = i;
      while (i < e && b[i] !== 0x2c) i++;
      let te = i;
      while (te > ts && (b[te - 1] === SP || b[te - 1] === HTAB)) te--;
      const n = te - ts;
      if (n === 5 && lowerEquals(b, ts, 'close')) this.connClose = true;
      else if (n === 10 && lowerEquals(b, ts, 'keep-alive')) this.connKeepAlive = true;
      else if (n === 7 && lowerEquals(b, ts, 'upgrade')) this.connUpgrade = true;
    }
  }

  private chunkSizeLine(b: Buffer, pos: number, end: number): number {
    const r = parseChunkSizeLine(b, pos, end);
    if (r.next === NEED_MORE) return NEED_MORE;
    if (r.next === FAIL) return this.fail(r.code!, r.message!);
    if (r.next - pos - 2 > this.limits.maxChunkLineBytes) {
      return this.fail(CodecErrorCode.InvalidChunkExtension, 'chunk-size line too long');
    }
    if (r.size === 0) {
      this.state = State.Trailers;
      this.headBytes = 0;
      this.fieldCount = 0;
    } else {
      this.state = State.ChunkData;
      this.remaining = r.size;
    }
    return r.next;
  }
}

/** b[s, s+lower.length) equals `lower` ignoring ASCII case. */
export function lowerEquals(b: Uint8Array, s: number, lower: string): boolean {
  for (let i = 0; i < lower.length; i++) {
    let c = b[s + i]!;
    if (c >= 0x41 && c <= 0x5a) c |= 0x20;
    if (c !== lower.charCodeAt(i)) return false;
  }
  return true;
}

/** String equals `lower` ignoring ASCII case. */
export function equalsIgnoreCase(s: string, lower: string): boolean {
  if (s.length !== lower.length) return false;
  for (let i = 0; i < lower.length; i++) {
    let c = s.charCodeAt(i);
    if (c >= 0x41 && c <= 0x5a) c |= 0x20;
    if (c !== lower.charCodeAt(i)) return false;
  }
  return true;
}
