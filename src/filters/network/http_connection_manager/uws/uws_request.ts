import { getHeader, listHasToken, RequestHead, TargetForm, type HeaderList } from '../codec/index.js';
import type { UwsHttpRequest } from './uws_api.js';

/**
 * Copies what Legate needs out of a uWS HttpRequest into a RequestHead: uWS's request object is
 * only valid during its handler's call. uWS has already parsed and judged the request (framing,
 * header size) and answered `Expect: 100-continue` itself. It only hands over HTTP/1.1 requests
 * (HTTP/1.0 ones get no answer from this build), so the head says 1.1.
 */
export function requestHeadFromUws(req: UwsHttpRequest): RequestHead {
  const method = req.getCaseSensitiveMethod();
  const query = req.getQuery();
  const url = req.getUrl();
  const target = query ? `${url}?${query}` : url;
  const h: HeaderList = [];
  // uWS hands header names lowercased, as the HeaderList wants them.
  req.forEach((name, value) => h.push(name, value));
  const lengthField = getHeader(h, 'content-length');
  const transferEncoding = getHeader(h, 'transfer-encoding');
  const chunked = transferEncoding !== undefined && listHasToken(transferEncoding, 'chunked');
  const contentLength = !chunked && lengthField !== undefined ? Number(lengthField) : -1;
  const connection = getHeader(h, 'connection');
  const keepAlive = connection === undefined || !listHasToken(connection, 'close');
  // Answered by uWS already; `true` makes the stream drop the field instead of forwarding it.
  const expectContinue = getHeader(h, 'expect')?.toLowerCase() === '100-continue';
  return new RequestHead(method, target, targetForm(method, target), 1, h, contentLength, chunked, keepAlive, expectContinue, false, undefined);
}

function targetForm(method: string, target: string): TargetForm {
  if (method === 'CONNECT') return TargetForm.Authority;
  if (target.charCodeAt(0) === 47 /* / */) return TargetForm.Origin;
  if (target === '*') return TargetForm.Asterisk;
  return /^https?:\/\//i.test(target) ? TargetForm.Absolute : TargetForm.Origin;
}

/** Whether a body follows the head: uWS delivers it through onData, and its last call ends the request. */
export function requestHasBody(head: RequestHead): boolean {
  return head.chunked || head.contentLength > 0;
}
