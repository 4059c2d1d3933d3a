import { Byte, TOKEN_LOWER as TOKEN_TABLE } from './chars.js';
import { CodecErrorCode, requestStatusFor } from './errors.js';
import type { HeaderList } from './headers.js';
import type { ParserLimits } from './limits.js';
import { Http1ParserBase, State, Offset, equalsIgnoreCase, type BodyHandler } from './parser_base.js';

// Module-local aliases for the byte loops below (docs/http1-codec.md, "Writing the byte loops").
const TOKEN_LOWER = TOKEN_TABLE;

/** Which of the four request-target forms (RFC 9112 §3.2) the target is. */
export const enum TargetForm {
  Origin = 0,
  Absolute = 1,
  Authority = 2,
  Asterisk = 3,
}

/** A parsed request head. One object per request; the parser never touches it again. */
export class RequestHead {
  constructor(
    /** Method token, case preserved (common methods are shared constants). */
    public method: string,
    /** Request-target exactly as received. */
    public target: string,
    public targetForm: TargetForm,
    /** 0 for HTTP/1.0, 1 for HTTP/1.1. */
    public versionMinor: number,
    /** Flat `[name, value, …]`, names lowercase. Framing fields are left in; strip them. */
    public headers: HeaderList,
    /** Declared body length; -1 when absent (no body, or chunked). */
    public contentLength: number,
    public chunked: boolean,
    /** Whether the connection may carry another request after this one. */
    public keepAlive: boolean,
    /** `Expect: 100-continue` on HTTP/1.1. */
    public expectContinue: boolean,
    /**
     * CONNECT, or an HTTP/1.1 `Upgrade` (other than h2c) with `Connection: upgrade`. The parser
     * has stopped at the end of the head: everything after it is tunnel data.
     */
    public upgrade: boolean,
    /** The Upgrade field's value (also set for h2c, which is not treated as an upgrade). */
    public upgradeProtocol: string | undefined,
  ) {}
}

export interface RequestHandler extends BodyHandler {
  onRequestHead(head: RequestHead): void;
}

const METHODS = ['GET', 'PUT', 'POST', 'HEAD', 'PATCH', 'TRACE', 'DELETE', 'OPTIONS', 'CONNECT'];
const METHOD_BUCKETS: string[][] = [];
for (const m of METHODS) (METHOD_BUCKETS[m.length] ??= []).push(m);

function internMethod(b: Buffer, s: number, e: number): string | undefined {
  const bucket = METHOD_BUCKETS[e - s];
  if (bucket !== undefined) {
    outer: for (let k = 0; k < bucket.length; k++) {
      const m = bucket[k]!;
      for (let i = 0; i < m.length; i++) if (b[s + i] !== m.charCodeAt(i)) continue outer;
      return m;
    }
  }
  return undefined;
}

/** "HTTP/1." */
const VERSION_PREFIX = [0x48, 0x54, 0x54, 0x50, 0x2f, 0x31, 0x2e];

/** Checks b[s, e) is exactly `HTTP/1.0` or `HTTP/1.1`; returns the minor version or -1. */
export function parseVersion(b: Buffer, s: number, e: number): number {
  if (e - s !== 8) return -1;
  for (let k = 0; k < 7; k++) if (b[s + k] !== VERSION_PREFIX[k]) return -1;
  const m = b[s + 7]!;
  return m === 0x30 ? 0 : m === 0x31 ? 1 : -1;
}

/**
 * Server-side request parser. Drive it with execute(); see Http1ParserBase.execute() for the
 * pause-after-each-message contract.
 */
export class RequestParser extends Http1ParserBase<RequestHandler> {
  private method = '';
  private target = '';
  private targetForm = TargetForm.Origin;
  private versionMinor = 1;

  constructor(handler: RequestHandler, limits?: Partial<ParserLimits>) {
    super(handler, limits);
  }

  protected statusFor(code: CodecErrorCode): number {
    return requestStatusFor(code);
  }

  protected parseStartLine(b: Buffer, pos: number, end: number): number {
    // method SP request-target SP HTTP-version CRLF, single spaces, nothing else.
    let i = pos;
    while (i < end && TOKEN_LOWER[b[i]!] !== 0) i++;
    if (i === end) return Offset.NeedMore;
    if (i === pos) return this.fail(CodecErrorCode.InvalidRequestLine, 'request line does not start with a method');
    if (b[i] !== Byte.SP) return this.fail(CodecErrorCode.InvalidMethod, 'invalid method');
    const methodEnd = i++;
    const ts = i;
    let c = 0;
    while (i < end) {
      c = b[i]!;
      if (c <= 0x20 || c >= 0x7f) break; // VCHAR only
      i++;
    }
    if (i === end) return Offset.NeedMore;
    const te = i;
    if (c !== Byte.SP) {
      if (c === Byte.CR) {
        if (i + 1 === end) return Offset.NeedMore;
        if (b[i + 1] !== Byte.LF) return this.fail(CodecErrorCode.LfExpected, 'bare CR');
        return this.fail(CodecErrorCode.InvalidVersion, 'missing HTTP version');
      }
      if (c === Byte.LF) return this.fail(CodecErrorCode.CrExpected, 'bare LF');
      return this.fail(CodecErrorCode.InvalidUrl, 'invalid character in request-target');
    }
    if (te === ts) return this.fail(CodecErrorCode.InvalidUrl, 'empty request-target');
    const vs = ++i;
    while (i < end && (c = b[i]!) !== Byte.CR && c !== Byte.LF) i++;
    if (i === end) return Offset.NeedMore;
    if (c === Byte.LF) return this.fail(CodecErrorCode.CrExpected, 'bare LF');
    if (i + 1 === end) return Offset.NeedMore;
    if (b[i + 1] !== Byte.LF) return this.fail(CodecErrorCode.LfExpected, 'bare CR');
    const minor = parseVersion(b, vs, i);
    if (minor < 0) return this.fail(CodecErrorCode.InvalidVersion, 'unsupported HTTP version');
    if (!this.countHeadBytes(i - pos)) return Offset.Fail;
    const method = internMethod(b, pos, methodEnd) ?? this.text(b, pos, methodEnd);
    const form = classifyTarget(b, ts, te, method);
    if (form < 0) return this.fail(CodecErrorCode.InvalidUrl, 'request-target form not allowed for method');
    this.method = method;
    this.target = this.text(b, ts, te);
    this.targetForm = form;
    this.versionMinor = minor;
    this.state = State.Headers;
    return i + 2;
  }

  protected headersDone(): boolean {
    const v11 = this.versionMinor === 1;
    const isConnect = this.method === 'CONNECT';
    const cl = this.contentLength;
    // Same order of checks as Envoy's codec.
    if (isConnect && cl > 0) {
      this.fail(CodecErrorCode.ConnectWithBody, 'CONNECT request with a body');
      return false;
    }
    // RFC 9112 §3.2: the proxy would route by one Host and the upstream might read the other.
    if (this.hostCount > 1) {
      this.fail(CodecErrorCode.DuplicateHost, 'more than one Host');
      return false;
    }
    let chunked = false;
    if (this.teCount > 0) {
      if (cl !== -1) {
        this.fail(CodecErrorCode.ContentLengthAndTransferEncoding, 'both Content-Length and Transfer-Encoding');
        return false;
      }
      if (!v11) {
        this.fail(CodecErrorCode.TransferEncodingHttp10, 'Transfer-Encoding in an HTTP/1.0 request');
        return false;
      }
      if (this.teCount > 1 || isConnect || !equalsIgnoreCase(this.teValue, 'chunked')) {
        this.fail(CodecErrorCode.InvalidTransferEncoding, 'unsupported Transfer-Encoding');
        return false;
      }
      chunked = true;
    }
    const up = this.upgradeValue;
    const upgrade = isConnect || (v11 && this.connUpgrade && up !== undefined && !equalsIgnoreCase(up, 'h2c'));
    const keepAlive = v11 ? !this.connClose : this.connKeepAlive && !this.connClose;
    const expectContinue = v11 && this.expectValue !== undefined && equalsIgnoreCase(this.expectValue, '100-continue');
    const head = new RequestHead(this.method, this.target, this.targetForm, this.versionMinor, this.headers,
      cl, chunked, keepAlive, expectContinue, upgrade, up);
    let bodyless = false;
    if (upgrade) {
      this.state = State.Upgraded;
    } else if (chunked) {
      this.state = State.ChunkSize;
    } else if (cl > 0) {
      this.state = State.BodyLength;
      this.remaining = cl;
    } else {
      bodyless = true;
    }
    this.handler.onRequestHead(head);
    if (bodyless) this.complete(null);
    return true;
  }
}

/**
 * Classifies b[s, e) (already checked to be VCHARs). Returns -1 when the form is not allowed:
 * CONNECT takes authority-form only, `*` is for OPTIONS only, authority-form for CONNECT only.
 */
function classifyTarget(b: Buffer, s: number, e: number, method: string): number {
  const first = b[s]!;
  if (method === 'CONNECT') return isAuthority(b, s, e) ? TargetForm.Authority : -1;
  if (first === 0x2f) return TargetForm.Origin;
  if (first === 0x2a) return e - s === 1 && method === 'OPTIONS' ? TargetForm.Asterisk : -1;
  // absolute-form: scheme "://" authority … with scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
  if (!isAlpha(first)) return -1;
  let i = s + 1;
  while (i < e) {
    const c = b[i]!;
    if (isAlpha(c) || (c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2d || c === 0x2e) i++;
    else break;
  }
  // Proxies only deal in hierarchical URIs: require "://" and a non-empty authority.
  return e - i > 3 && b[i] === 0x3a && b[i + 1] === 0x2f && b[i + 2] === 0x2f && b[i + 3] !== 0x2f
    ? TargetForm.Absolute
    : -1;
}

function isAlpha(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

/** authority-form: host ":" port, with a non-empty host and a 1–5 digit port. */
function isAuthority(b: Buffer, s: number, e: number): boolean {
  let colon = -1;
  for (let i = e - 1; i >= s; i--) {
    if (b[i] === 0x3a) {
      colon = i;
      break;
    }
  }
  if (colon <= s || e - colon - 1 < 1 || e - colon - 1 > 5) return false;
  for (let i = colon + 1; i < e; i++) if (b[i]! < 0x30 || b[i]! > 0x39) return false;
  for (let i = s; i < colon; i++) {
    const c = b[i]!;
    if (c === 0x2f || c === 0x3f || c === 0x23 || c === 0x40) return false; // no path, query, fragment, userinfo
  }
  return true;
}
