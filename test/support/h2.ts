import type { ClientHttp2Session, IncomingHttpHeaders } from 'node:http2';

/** One h2 request; resolves with the response head, body and trailers. */
export function h2Request(session: ClientHttp2Session, headers: Record<string, string>, body?: string | Buffer) {
  return new Promise<{ headers: IncomingHttpHeaders; body: Buffer; trailers: IncomingHttpHeaders | undefined }>((resolve, reject) => {
    const req = session.request(headers, { endStream: body === undefined });
    let head: IncomingHttpHeaders = {};
    let trailers: IncomingHttpHeaders | undefined;
    const chunks: Buffer[] = [];
    req.on('response', (h) => (head = h));
    req.on('trailers', (h) => (trailers = h));
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', () => resolve({ headers: head, body: Buffer.concat(chunks), trailers }));
    req.on('error', reject);
    if (body !== undefined) req.end(body);
  });
}

