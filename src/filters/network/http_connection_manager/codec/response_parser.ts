import { Byte, FIELD_VALUE as FIELD_VALUE_TABLE } from './chars.js';
import { CodecErrorCode, Details } from './errors.js';
import type { HeaderList } from './headers.js';
import type { ParserLimits } from './limits.js';
import { Http1ParserBase, State, Offset, equalsIgnoreCase, type BodyHandler } from './parser_base.js';
import { parseVersion } from './request_parser.js';

// Module-local aliases for the byte loops below (docs/http1-codec.md, "Writing the byte loops").
const FIELD_VALUE = FIELD_VALUE_TABLE;

/** A parsed response head (status line + fields). */
export class ResponseHead {
  constructor(
    public status: number,
    /** Reason phrase as received ('' when absent). */
    public reason: string,
    public versionMinor: number,
    public headers: HeaderList,
    /** Declared body length; -1 when absent. */
    public contentLength: number,
    public chunked: boolean,
    /** Whether the upstream connection can be reused after this response. */
    public keepAlive: boolean,
    /**
     * 101 Switching Protocols, or a 2xx to CONNECT: the parser stopped at the end of the head
     * and the rest of the stream is tunnel data.
     */
    public upgrade: boolean,
    /** No framing: the body runs until the upstream closes (call finish() on EOF). */
    public bodyUntilClose: boolean,
  ) {}
}

export interface ResponseHandler extends BodyHandler {
  /** 100 Continue, 102, 103: the final response for the same request follows. */
  onInformational(head: ResponseHead): void;
  onResponseHead(head: ResponseHead): void;
}

/**
 * Client-side (upstream) response parser. Before each response, tell it the request's method
 * with expect() — HEAD and CONNECT change how the response is framed. Errors carry status
 * 502 (503 for a connection closed mid-response), for the proxy to answer downstream.
 */
export class ResponseParser extends Http1ParserBase<ResponseHandler> {
  private status = 0;
  private reason = '';
  private versionMinor = 1;
  private requestWasHead = false;
  private requestWasConnect = false;

  constructor(handler: ResponseHandler, limits?: Partial<ParserLimits>) {
    super(handler, limits);
  }

  /** Declares the method of the request whose response comes next. */
  expect(method: string): void {
    this.requestWasHead = method === 'HEAD';
    this.requestWasConnect = method === 'CONNECT';
  }

  protected statusFor(code: CodecErrorCode): number {
    return code === CodecErrorCode.InvalidEofState ? 503 : 502;
  }

  protected parseStartLine(b: Buffer, pos: number, end: number): number {
    // HTTP-version SP 3DIGIT [ SP reason-phrase ] CRLF. A missing reason (with or without
    // its SP) is tolerated: many servers send "HTTP/1.1 200\r\n".
    let i = pos;
    let c = 0;
    while (i < end && (c = b[i]!) !== Byte.CR && c !== Byte.LF) i++;
    if (i === end) return Offset.NeedMore;
    if (c === Byte.LF) return this.fail(CodecErrorCode.CrExpected, 'bare LF');
    if (i + 1 === end) return Offset.NeedMore;
    if (b[i + 1] !== Byte.LF) return this.fail(CodecErrorCode.LfExpected, 'bare CR');
    // Only read inside the line: a carry buffer holds stale bytes past its end.
    const minor = i - pos >= 8 ? parseVersion(b, pos, pos + 8) : -1;
    if (minor < 0) return this.fail(CodecErrorCode.InvalidVersion, 'invalid HTTP version in status line');
    if (i - pos < 12 || b[pos + 8] !== Byte.SP) return this.fail(CodecErrorCode.InvalidStatusLine, 'invalid status line');
    let status = 0;
    for (let k = pos + 9; k < pos + 12; k++) {
      const d = b[k]! - 0x30;
      if (d < 0 || d > 9) return this.fail(CodecErrorCode.InvalidStatusLine, 'invalid status code');
      status = status * 10 + d;
    }
    if (status < 100) return this.fail(CodecErrorCode.InvalidStatusLine, 'invalid status code');
    let reason = '';
    if (i > pos + 12) {
      if (b[pos + 12] !== Byte.SP) return this.fail(CodecErrorCode.InvalidStatusLine, 'invalid status line');
      for (let k = pos + 13; k < i; k++) {
        if (FIELD_VALUE[b[k]!] !== 1) return this.fail(CodecErrorCode.InvalidStatusLine, 'invalid reason phrase');
      }
      if (i > pos + 13) reason = this.text(b, pos + 13, i);
    }
    if (!this.countHeadBytes(i - pos)) return Offset.Fail;
    this.status = status;
    this.reason = reason;
    this.versionMinor = minor;
    this.state = State.Headers;
    return i + 2;
  }

  protected headersDone(): boolean {
    const status = this.status;
    const v11 = this.versionMinor === 1;
    const cl = this.contentLength;
    if (status < 200 || status === 204) {
      if (this.teCount > 0) {
        this.fail(CodecErrorCode.BodyNotAllowed, `Transfer-Encoding in a ${status} response`,
          Details.transferEncodingNotAllowed);
        return false;
      }
      if (cl > 0) {
        this.fail(CodecErrorCode.BodyNotAllowed, `Content-Length in a ${status} response`, Details.contentLengthNotAllowed);
        return false;
      }
    }
    let chunked = false;
    if (this.teCount > 0) {
      if (cl !== -1) {
        this.fail(CodecErrorCode.ContentLengthAndTransferEncoding, 'both Content-Length and Transfer-Encoding');
        return false;
      }
      if (!v11) {
        this.fail(CodecErrorCode.TransferEncodingHttp10, 'Transfer-Encoding in an HTTP/1.0 response');
        return false;
      }
      if (this.teCount > 1 || !equalsIgnoreCase(this.teValue, 'chunked')) {
        this.fail(CodecErrorCode.InvalidTransferEncoding, 'unsupported Transfer-Encoding');
        return false;
      }
      chunked = true;
    }
    let keepAlive = v11 ? !this.connClose : this.connKeepAlive && !this.connClose;
    if (status < 200 && status !== 101) {
      const info = new ResponseHead(status, this.reason, this.versionMinor, this.headers, cl, false, keepAlive,
        false, false);
      // Same request, another (final) response follows.
      this.resetMessage();
      this.state = State.StartLine;
      this.handler.onInformational(info);
      return true;
    }
    const upgrade = status === 101 || (this.requestWasConnect && status < 300);
    const bodyless = this.requestWasHead || status === 204 || status === 304;
    const untilClose = !upgrade && !bodyless && !chunked && cl === -1;
    if (untilClose) keepAlive = false;
    const head = new ResponseHead(status, this.reason, this.versionMinor, this.headers, cl, chunked, keepAlive,
      upgrade, untilClose);
    this.requestWasHead = false;
    this.requestWasConnect = false;
    if (upgrade) this.state = State.Upgraded;
    else if (bodyless || cl === 0) this.state = State.StartLine;
    else if (chunked) this.state = State.ChunkSize;
    else if (cl > 0) {
      this.state = State.BodyLength;
      this.remaining = cl;
    } else this.state = State.BodyUntilEof;
    const complete = this.state === State.StartLine;
    this.handler.onResponseHead(head);
    if (complete) this.complete(null);
    return true;
  }
}
