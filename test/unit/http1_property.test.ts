import test from 'ava';
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import {
  encodeRequestHead, encodeResponseHead, chunkHeader, lastChunk, CRLF,
} from '../../src/filters/network/http_connection_manager/codec/index.js';
import { runRequest, runResponse, splits, type Ev } from './http1_helpers.js';
import { fuzzParams } from '../support/fuzz.js';

const FIXTURES = new URL('../../../test/fixtures/http1/', import.meta.url);

// ---- arbitraries ----------------------------------------------------------------------------

const TCHARS = "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".split('');
const VCHARS: string[] = [];
for (let c = 0x21; c <= 0x7e; c++) VCHARS.push(String.fromCharCode(c));
const VALUE_CHARS = [...VCHARS, ' ', '\t', '\x80', '\xa0', '\xe9', '\xff'];
/** Fields that change framing or connection handling; generated separately. */
const RESERVED = new Set(['content-length', 'transfer-encoding', 'connection', 'upgrade', 'expect', 'te', 'trailer']);

const token = fc.string({ unit: fc.constantFrom(...TCHARS), minLength: 1, maxLength: 20 });
const fieldName = token.filter((n) => !RESERVED.has(n.toLowerCase()));
/** Values as the parser returns them: no leading or trailing OWS. */
const fieldValue = fc.string({ unit: fc.constantFrom(...VALUE_CHARS), maxLength: 40 }).map((v) => v.replace(/^[ \t]+|[ \t]+$/g, ''));
const fields = fc.array(fc.tuple(fieldName, fieldValue), { maxLength: 12 });
const method = fc.oneof(fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'), token.filter((m) => m !== 'CONNECT'));
const target = fc.string({ unit: fc.constantFrom(...VCHARS), maxLength: 60 }).map((p) => '/' + p);
const body = fc.uint8Array({ maxLength: 200 });
const framing = fc.constantFrom('none', 'length', 'chunked');
const chunkSizes = fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 8 });

interface Msg {
  method: string; target: string; minor: number; fields: Array<[string, string]>; body: Uint8Array;
  framing: string; sizes: number[]; trailers: Array<[string, string]>;
}

const request: fc.Arbitrary<Msg> = fc.record({
  method, target, minor: fc.constantFrom(0, 1), fields, body, framing, sizes: chunkSizes,
  trailers: fc.array(fc.tuple(fieldName, fieldValue), { maxLength: 3 }),
}).map((m) => ({ ...m, framing: m.minor === 0 && m.framing === 'chunked' ? 'length' : m.framing }));

function flat(f: Array<[string, string]>): string[] {
  return f.flatMap(([n, v]) => [n, v]);
}

function encodeBody(m: Msg): Buffer[] {
  const b = Buffer.from(m.body);
  if (m.framing === 'length') return [b];
  if (m.framing !== 'chunked') return [];
  const out: Buffer[] = [];
  let off = 0;
  for (let k = 0; off < b.length; k = (k + 1) % m.sizes.length) {
    const n = Math.min(m.sizes[k]!, b.length - off);
    out.push(chunkHeader(n), b.subarray(off, off + n), CRLF);
    off += n;
  }
  out.push(lastChunk(flat(m.trailers)));
  return out;
}

function framingFields(m: Msg): string[] {
  if (m.framing === 'length') return ['Content-Length', String(m.body.length)];
  if (m.framing === 'chunked') return ['Transfer-Encoding', 'chunked'];
  return [];
}

function encodeRequest(m: Msg): Buffer {
  const bodyParts = encodeBody(m);
  return Buffer.concat([encodeRequestHead(m.method, m.target, [...flat(m.fields), ...framingFields(m)], m.minor), ...bodyParts]);
}

function expectedEvents(m: Msg): Array<[string, unknown]> {
  const ev: Array<[string, unknown]> = [];
  const lower = m.fields.flatMap(([n, v]) => [n.toLowerCase(), v]);
  const ff = framingFields(m);
  ev.push(['head', { method: m.method, target: m.target, headers: [...lower, ...ff.map((x, i) => (i % 2 === 0 ? x.toLowerCase() : x))] }]);
  const hasBody = m.framing !== 'none' && m.body.length > 0;
  if (hasBody) ev.push(['body', Buffer.from(m.body).toString('latin1')]);
  const tr = m.framing === 'chunked' && m.trailers.length > 0 ? m.trailers.flatMap(([n, v]) => [n.toLowerCase(), v]) : null;
  ev.push(['done', tr]);
  return ev;
}

function summarize(ev: Ev[]): Array<[string, unknown]> {
  return ev.map((e) => (e[0] === 'head'
    ? ['head', { method: e[1].method, target: e[1].target, headers: e[1].headers }]
    : [e[0], e[1]]) as [string, unknown]);
}

function cut(buf: Buffer, points: number[]): Buffer[] {
  const at = [...new Set(points.map((p) => p % (buf.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of at) {
    out.push(buf.subarray(prev, p));
    prev = p;
  }
  out.push(buf.subarray(prev));
  return out.filter((b) => b.length > 0);
}

const RUNS = fuzzParams(300);

test('property: serialize → parse round-trips pipelined requests under any split', (t) => {
  fc.assert(fc.property(fc.array(request, { minLength: 1, maxLength: 3 }), fc.array(fc.nat(), { maxLength: 6 }), (msgs, points) => {
    const wire = Buffer.concat(msgs.map(encodeRequest));
    const expected = msgs.flatMap(expectedEvents);
    const whole = summarize(runRequest([wire]));
    assert.deepEqual(whole, expected);
    assert.deepEqual(summarize(runRequest(cut(wire, points))), expected);
  }), RUNS);
  t.pass();
});

test('property: serialize → parse round-trips responses', (t) => {
  const response = fc.record({
    status: fc.integer({ min: 200, max: 599 }).filter((s) => s !== 204 && s !== 304),
    reason: fc.string({ unit: fc.constantFrom(...VALUE_CHARS), maxLength: 20 }),
    fields, body, framing: fc.constantFrom('length', 'chunked', 'close'), sizes: chunkSizes,
    trailers: fc.array(fc.tuple(fieldName, fieldValue), { maxLength: 3 }),
  });
  fc.assert(fc.property(response, fc.array(fc.nat(), { maxLength: 6 }), (r, points) => {
    const m: Msg = { method: 'GET', target: '/', minor: 1, fields: r.fields, body: r.body, framing: r.framing, sizes: r.sizes, trailers: r.trailers };
    const headFields = [...flat(r.fields), ...framingFields(m)];
    const wire = Buffer.concat([encodeResponseHead(r.status, r.reason, headFields),
      ...(r.framing === 'close' ? [Buffer.from(r.body)] : encodeBody(m))]);
    const ev = runResponse(cut(wire, points), [], r.framing === 'close');
    const h = ev[0]![1] as { status: number; reason: string; headers: string[] };
    assert.equal(h.status, r.status);
    assert.equal(h.reason, r.reason);
    assert.deepEqual(h.headers, headFields.map((x, i) => (i % 2 === 0 ? x.toLowerCase() : x)));
    const got = ev.filter((e) => e[0] === 'body').map((e) => e[1]).join('');
    assert.equal(got, Buffer.from(r.body).toString('latin1'));
    assert.equal(ev[ev.length - 1]![0], 'done');
  }), RUNS);
  t.pass();
});

// ---- seed corpus ----------------------------------------------------------------------------

interface Expectation { kind: 'request'; messages?: number; error?: string; status?: number }
const manifest = JSON.parse(readFileSync(new URL('manifest.json', FIXTURES), 'utf8')) as Record<string, Expectation>;
const corpus = readdirSync(FIXTURES).filter((f) => f.endsWith('.http')).sort();

test('every corpus file is listed in the manifest', (t) => {
  t.deepEqual(corpus, Object.keys(manifest).sort());
});

for (const file of corpus) {
  test(`corpus: ${file}`, (t) => {
    const raw = readFileSync(new URL(file, FIXTURES));
    const exp = manifest[file]!;
    const whole = runRequest([raw], undefined, true);
    if (exp.error !== undefined) {
      t.deepEqual(whole[whole.length - 1], ['error', exp.error, exp.status]);
    } else {
      t.false(whole.some((e) => e[0] === 'error' || e[0] === 'eof-error'), JSON.stringify(whole));
      t.is(whole.filter((e) => e[0] === 'head').length, exp.messages!);
    }
    if (raw.length > 4096) return;
    for (const { label, chunks } of splits(raw)) {
      const ev = runRequest(chunks, undefined, true);
      if (JSON.stringify(ev) !== JSON.stringify(whole)) {
        t.deepEqual(ev, whole, label);
        return;
      }
    }
  });
}

// ---- fuzz: mutated corpus ---------------------------------------------------------------------

const seeds = corpus.map((f) => readFileSync(new URL(f, FIXTURES))).filter((b) => b.length < 4096);

const mutated = fc.tuple(fc.nat({ max: seeds.length - 1 }),
  fc.array(fc.tuple(fc.constantFrom('set', 'insert', 'delete'), fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }))
  .map(([i, muts]) => {
    let b = Buffer.from(seeds[i]!);
    for (const [op, at, byte] of muts) {
      const p = at % (b.length + 1);
      if (op === 'set' && p < b.length) b[p] = byte;
      else if (op === 'insert') b = Buffer.concat([b.subarray(0, p), Buffer.from([byte]), b.subarray(p)]);
      else if (op === 'delete' && p < b.length) b = Buffer.concat([b.subarray(0, p), b.subarray(p + 1)]);
    }
    return b;
  });

test('fuzz: mutated corpus never throws, is split-invariant, and stops at the first error', (t) => {
  fc.assert(fc.property(mutated, fc.array(fc.nat(), { maxLength: 5 }), (input, points) => {
    const whole = runRequest([input], undefined, true);
    const split = runRequest(cut(input, points), undefined, true);
    assert.deepEqual(split, whole);
    const errAt = whole.findIndex((e) => e[0] === 'error' || e[0] === 'eof-error');
    assert.ok(errAt === -1 || errAt === whole.length - 1);
    const rWhole = runResponse([input], [], true);
    assert.deepEqual(runResponse(cut(input, points), [], true), rWhole);
  }), fuzzParams(2000));
  t.pass();
});

test('fuzz: random bytes after a valid request line never throw', (t) => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), fc.array(fc.nat(), { maxLength: 4 }), (tail, points) => {
    const input = Buffer.concat([Buffer.from('POST / HTTP/1.1\r\n'), Buffer.from(tail)]);
    assert.deepEqual(runRequest(cut(input, points)), runRequest([input]));
  }), fuzzParams(1000));
  t.pass();
});
