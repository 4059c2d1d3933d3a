/**
 * Micro-benchmark of the HTTP/1.1 codec against Node's bundled llhttp (the undocumented
 * `process.binding('http_parser')`), in the same process and run. Not a test: prints figures.
 *
 *   node dist/bench/codec.js [--rounds 7] [--iterations 200000] [--json]
 */
import {
  RequestParser, ResponseParser, encodeResponseHead, encodeRequestHead, type RequestHead, type ResponseHead,
} from '../src/filters/network/http_connection_manager/codec/index.js';

const REQUEST = Buffer.from(
  'GET /api/v1/reviews/0?user=jason&sort=desc HTTP/1.1\r\n' +
  'Host: reviews.default.svc.cluster.local:9080\r\n' +
  'User-Agent: Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101\r\n' +
  'Accept: application/json\r\n' +
  'Accept-Encoding: gzip, deflate\r\n' +
  'X-Request-Id: 4a2e9f1c-6b7d-4e3a-9c1f-2d8b7a6e5f40\r\n' +
  'X-B3-TraceId: 463ac35c9f6413ad48485a3953bb6124\r\n' +
  'X-B3-SpanId: a2fb4a1d1a96d312\r\n' +
  'Cookie: session=7d1f0c9a\r\n' +
  '\r\n', 'latin1');

const RESPONSE = Buffer.concat([Buffer.from(
  'HTTP/1.1 200 OK\r\n' +
  'Content-Type: application/json\r\n' +
  'Content-Length: 1024\r\n' +
  'Date: Mon, 23 Nov 2026 02:00:00 GMT\r\n' +
  'Server: envoy\r\n' +
  'X-Envoy-Upstream-Service-Time: 3\r\n' +
  '\r\n', 'latin1'), Buffer.alloc(1024, 0x61)]);

interface Result { name: string; nsPerOp: number; opsPerSec: number }

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : def;
}
const ROUNDS = arg('--rounds', 7);
const ITER = arg('--iterations', 200_000);

let sink = 0;

interface Case { name: string; fn: () => void; samples: number[] }
const cases: Case[] = [];

function bench(name: string, fn: () => void): void {
  cases.push({ name, fn, samples: [] });
}

/** Rounds interleave the cases, so load from other processes spreads over all of them. */
function runAll(): Result[] {
  for (const c of cases) for (let i = 0; i < ITER; i++) c.fn(); // warm-up / JIT
  for (let r = 0; r < ROUNDS; r++) {
    for (const c of cases) {
      const fn = c.fn;
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < ITER; i++) fn();
      c.samples.push(Number(process.hrtime.bigint() - t0) / ITER);
    }
  }
  return cases.map((c) => {
    const s = [...c.samples].sort((a, b) => a - b);
    const ns = s[s.length >> 1]!;
    return { name: c.name, nsPerOp: ns, opsPerSec: 1e9 / ns };
  });
}

// ---- ours -------------------------------------------------------------------------------------

const reqParser = new RequestParser({
  onRequestHead(h: RequestHead) { sink += h.headers.length; },
  onBody(b: Buffer) { sink += b.length; },
  onMessageComplete() { sink++; },
});
const resParser = new ResponseParser({
  onInformational() {},
  onResponseHead(h: ResponseHead) { sink += h.headers.length; },
  onBody(b: Buffer) { sink += b.length; },
  onMessageComplete() { sink++; },
});

// ---- llhttp -------------------------------------------------------------------------------------

interface NativeParser {
  initialize(type: number, resource: object, maxHeaderSize?: number, lenient?: number): void;
  execute(b: Buffer): number | Error;
  [k: number]: unknown;
}
interface NativeParserCtor { new(): NativeParser; REQUEST: number; RESPONSE: number; kOnHeaders: number;
  kOnHeadersComplete: number; kOnBody: number; kOnMessageComplete: number; kOnExecute: number }

function loadLlhttp(): NativeParserCtor | undefined {
  try {
    const p = process as unknown as { binding(name: string): { HTTPParser: NativeParserCtor }; noDeprecation: boolean };
    const prev = p.noDeprecation;
    p.noDeprecation = true;
    const { HTTPParser } = p.binding('http_parser');
    p.noDeprecation = prev;
    return HTTPParser;
  } catch {
    return undefined;
  }
}

function llhttpParser(P: NativeParserCtor, type: number, lowercase: boolean): NativeParser {
  const p = new P();
  p.initialize(type, {});
  p[P.kOnHeaders] = () => {};
  p[P.kOnHeadersComplete] = (_maj: number, _min: number, headers: string[]) => {
    if (lowercase) for (let i = 0; i < headers.length; i += 2) headers[i] = headers[i]!.toLowerCase();
    sink += headers.length;
    return 0;
  };
  p[P.kOnBody] = (b: Buffer) => { sink += b.length; };
  p[P.kOnMessageComplete] = () => { sink++; };
  p[P.kOnExecute] = () => {};
  return p;
}

function main(): void {
  bench('legate RequestParser   (376 B request, 8 fields)', () => { reqParser.execute(REQUEST, 0); });
  const llhttp = loadLlhttp();
  if (llhttp !== undefined) {
    const raw = llhttpParser(llhttp, llhttp.REQUEST, false);
    const lower = llhttpParser(llhttp, llhttp.REQUEST, true);
    bench('llhttp (binding)        request, names as received', () => { raw.execute(REQUEST); });
    bench('llhttp (binding)        request, + lowercase names', () => { lower.execute(REQUEST); });
  }
  bench('legate ResponseParser  (1 KB body, 5 fields)', () => { resParser.execute(RESPONSE, 0); });
  if (llhttp !== undefined) {
    const raw = llhttpParser(llhttp, llhttp.RESPONSE, false);
    const lower = llhttpParser(llhttp, llhttp.RESPONSE, true);
    bench('llhttp (binding)        response, names as received', () => { raw.execute(RESPONSE); });
    bench('llhttp (binding)        response, + lowercase names', () => { lower.execute(RESPONSE); });
  }
  const respHeaders = ['content-type', 'application/json', 'content-length', '1024', 'date',
    'Mon, 23 Nov 2026 02:00:00 GMT', 'server', 'legate', 'x-envoy-upstream-service-time', '3'];
  bench('legate encodeResponseHead (5 fields → 1 Buffer)', () => {
    sink += encodeResponseHead(200, undefined, respHeaders).length;
  });
  const reqHeaders = ['host', 'reviews.default.svc.cluster.local:9080', 'user-agent', 'Mozilla/5.0 (X11; Linux x86_64)',
    'accept', 'application/json', 'accept-encoding', 'gzip, deflate', 'x-request-id', '4a2e9f1c-6b7d-4e3a-9c1f-2d8b7a6e5f40',
    'x-b3-traceid', '463ac35c9f6413ad48485a3953bb6124', 'x-b3-spanid', 'a2fb4a1d1a96d312', 'x-forwarded-proto', 'http'];
  bench('legate encodeRequestHead  (8 fields → 1 Buffer)', () => {
    sink += encodeRequestHead('GET', '/api/v1/reviews/0?user=jason&sort=desc', reqHeaders).length;
  });

  const results = runAll();
  if (process.argv.includes('--json')) {
    console.log(JSON.stringify({ node: process.version, rounds: ROUNDS, iterations: ITER, results }, null, 2));
  } else {
    console.log(`node ${process.version}, ${ROUNDS} rounds × ${ITER} iterations, median per op\n`);
    console.log('| case | ns/op | ops/s |\n|---|---:|---:|');
    for (const r of results) console.log(`| ${r.name.replace(/ +/g, ' ')} | ${r.nsPerOp.toFixed(0)} | ${Math.round(r.opsPerSec).toLocaleString('en-US')} |`);
    if (llhttp === undefined) console.log('\nllhttp binding not available on this Node version');
  }
  if (sink === 42) console.log('');
}

main();
