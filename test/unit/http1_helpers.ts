import {
  RequestParser, ResponseParser, State, type RequestHead, type ResponseHead, type ParserLimits,
} from '../../src/filters/network/http_connection_manager/codec/index.js';

/** A parse transcript: plain data, so transcripts of different splits compare with deepEqual. */
export type Ev =
  | ['head', Record<string, unknown>]
  | ['info', Record<string, unknown>]
  | ['body', string]
  | ['done', string[] | null]
  | ['tunnel', string]
  | ['error', string, number]
  | ['eof-error', string, number];

function plain(h: RequestHead | ResponseHead): Record<string, unknown> {
  return { ...h, headers: [...h.headers] };
}

function pushBody(ev: Ev[], s: string): void {
  const last = ev[ev.length - 1];
  if (last !== undefined && last[0] === 'body') last[1] += s;
  else ev.push(['body', s]);
}

function pushTunnel(ev: Ev[], s: string): void {
  if (s.length === 0) return;
  const last = ev[ev.length - 1];
  if (last !== undefined && last[0] === 'tunnel') last[1] += s;
  else ev.push(['tunnel', s]);
}

/** Feeds `chunks` in order, driving execute() the way a connection manager would. */
function drive(p: RequestParser | ResponseParser, chunks: Buffer[], ev: Ev[], eof: boolean): void {
  let errored = false;
  for (const c of chunks) {
    let off = 0;
    while (off < c.length) {
      if (p.state === State.Upgraded) {
        pushTunnel(ev, c.subarray(off).toString('latin1'));
        break;
      }
      const n = p.execute(c, off);
      if (p.error !== null) {
        if (!errored) ev.push(['error', p.error.code, p.error.status]);
        errored = true;
        break;
      }
      if (n === off && (p.state as State) !== State.Upgraded) throw new Error('execute() made no progress');
      off = n;
    }
  }
  if (eof && !errored) {
    const e = p.finish();
    if (e !== null) ev.push(['eof-error', e.code, e.status]);
  }
}

export function runRequest(chunks: Buffer[], limits?: Partial<ParserLimits>, eof = false): Ev[] {
  const ev: Ev[] = [];
  const p = new RequestParser({
    onRequestHead: (h) => ev.push(['head', plain(h)]),
    onBody: (b) => pushBody(ev, b.toString('latin1')),
    onMessageComplete: (t) => ev.push(['done', t === null ? null : [...t]]),
  }, limits);
  drive(p, chunks, ev, eof);
  return ev;
}

/** `methods[i]` is the method of the request answered by the i-th final response. */
export function runResponse(chunks: Buffer[], methods: string[] = [], eof = false, limits?: Partial<ParserLimits>): Ev[] {
  const ev: Ev[] = [];
  let i = 0;
  const p: ResponseParser = new ResponseParser({
    onInformational: (h) => ev.push(['info', plain(h)]),
    onResponseHead: (h) => ev.push(['head', plain(h)]),
    onBody: (b) => pushBody(ev, b.toString('latin1')),
    onMessageComplete: (t) => {
      ev.push(['done', t === null ? null : [...t]]);
      p.expect(methods[++i] ?? 'GET');
    },
  }, limits);
  p.expect(methods[0] ?? 'GET');
  drive(p, chunks, ev, eof);
  return ev;
}

export const bytes = (s: string): Buffer => Buffer.from(s, 'latin1');

/** Every way the tests split an input: whole, byte by byte, and every 2-way split. */
export function* splits(buf: Buffer): Generator<{ label: string; chunks: Buffer[] }> {
  yield { label: 'whole', chunks: [buf] };
  const bb: Buffer[] = [];
  for (let i = 0; i < buf.length; i++) bb.push(buf.subarray(i, i + 1));
  yield { label: 'byte-by-byte', chunks: bb };
  for (let i = 1; i < buf.length; i++) yield { label: `split@${i}`, chunks: [buf.subarray(0, i), buf.subarray(i)] };
}
