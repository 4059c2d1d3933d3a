import { Buffer } from 'node:buffer';
import { Byte } from './chars.js';
import type { HeaderList } from './headers.js';
import { CodecErrorCode, type HttpCodecError } from './errors.js';
import type { ParserLimits } from './limits.js';
import { parseChunkSizeLine, Offset } from './chunked.js';
import { FieldParser, State, type BodyHandler } from './field_parser.js';
import { fieldScanner } from './native_scan.js';

export { Offset, State, type BodyHandler };
export { lowerEquals, equalsIgnoreCase } from './chars.js';

const SCANNER = fieldScanner;
/** Bytes left in the buffer below which one call into the addon costs more than it saves. */
const SCAN_FROM = 64;

/** A carry buffer grown past this is dropped once its line is parsed. */
const CARRY_KEEP = 8192;

/**
 * Incremental HTTP/1.1 framing shared by both directions. Lines (start line, fields, chunk
 * sizes, trailers) are parsed straight from the caller's buffer; only a line that straddles
 * two buffers is copied into a carry buffer, and each line is parsed exactly once however the
 * input is split (byte-by-byte feeding stays O(n)). Bodies are emitted as subarrays.
 */
export abstract class Http1ParserBase<H extends BodyHandler> extends FieldParser<H> {
  private done = false;

  constructor(handler: H, limits?: Partial<ParserLimits>) {
    super(handler, limits);
  }

  /** Parses the start line at b[pos] (not an empty line). Returns the offset after its LF. */
  protected abstract parseStartLine(b: Buffer, pos: number, end: number): number;

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
          if (b[pos] !== Byte.CR) return this.failAt(CodecErrorCode.InvalidChunkData, 'chunk data not followed by CRLF');
          pos++;
          this.state = State.ChunkDataLF;
          break;
        case State.ChunkDataLF:
          if (b[pos] !== Byte.LF) return this.failAt(CodecErrorCode.InvalidChunkData, 'chunk data not followed by CRLF');
          pos++;
          this.state = State.ChunkSize;
          break;
        case State.BodyUntilEof:
          h.onBody(b.subarray(pos, end));
          pos = end;
          break;
        default: {
          const r = this.lineStep(b, pos, end);
          if (r === Offset.Fail) return this.stepOffset;
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

  /** Ends the current message: reset, tell the handler, and make execute() return. */
  protected complete(trailers: HeaderList | null): void {
    this.resetMessage();
    this.state = State.StartLine;
    this.done = true;
    this.handler.onMessageComplete(trailers);
  }

  private failAt(code: CodecErrorCode, message: string): number {
    this.fail(code, message);
    return this.stepOffset;
  }

  // ---- lines -------------------------------------------------------------------------------

  private lineStep(b: Buffer, pos: number, end: number): number {
    if (this.carryLen === 0) {
      const st = this.state;
      const r = this.processLine(b, pos, end);
      if (r >= 0) return r;
      if (r === Offset.Fail) {
        // Report a syntax error only once its line is complete, so the outcome never depends
        // on how the input was split (a line cut short is stashed and parsed whole later).
        if (b.indexOf(Byte.LF, pos) !== -1) return Offset.Fail;
        this.state = st;
        this.error = null;
      }
      return this.stash(b, pos, end) ? end : Offset.Fail;
    }
    const lf = b.indexOf(Byte.LF, pos);
    if (lf === -1) return this.stash(b, pos, end) ? end : Offset.Fail;
    if (!this.stash(b, pos, lf + 1)) return Offset.Fail;
    const carry = this.carry!;
    const len = this.carryLen;
    this.carryLen = 0;
    const r = this.processLine(carry, 0, len);
    if (carry.length > CARRY_KEEP) this.carry = null;
    if (r === Offset.Fail) return Offset.Fail;
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
        if (c === Byte.CR) {
          // Empty line(s) before a start line are ignored (RFC 9112 §2.2), within the budget.
          if (pos + 1 === end) return Offset.NeedMore;
          if (b[pos + 1] !== Byte.LF) return this.fail(CodecErrorCode.LfExpected, 'bare CR');
          if ((this.headBytes += 2) > this.limits.maxHeaderBytes) {
            return this.fail(CodecErrorCode.HeaderOverflow, 'header section too large');
          }
          return pos + 2;
        }
        if (c === Byte.LF) return this.fail(CodecErrorCode.CrExpected, 'bare LF');
        return this.parseStartLine(b, pos, end);
      }
      case State.Headers: {
        // Whole runs of ordinary lines natively; the rest (and everything without the addon) in JS.
        if (SCANNER !== null && end - pos >= SCAN_FROM) {
          const r = this.scannedFields(SCANNER, b, pos, end);
          if (r !== pos) {
            // A blank line right after them ends the section in this step: it cannot be cut
            // short. Anything else is the next step's, so a stash never holds taken lines.
            if (r < 0 || r + 1 >= end || b[r] !== Byte.CR || b[r + 1] !== Byte.LF) return r;
            this.stepOffset = r;
            return this.fieldLine(b, r, end, false);
          }
        }
        return this.fieldLine(b, pos, end, false);
      }
      case State.Trailers:
        return this.fieldLine(b, pos, end, true);
      default:
        return this.chunkSizeLine(b, pos, end);
    }
  }

  private chunkSizeLine(b: Buffer, pos: number, end: number): number {
    const r = parseChunkSizeLine(b, pos, end);
    if (r.next === Offset.NeedMore) return Offset.NeedMore;
    if (r.next === Offset.Fail) return this.fail(r.code!, r.message!);
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
