/**
 * Fuzzing the HTTP/1.1 request parser against the strict rules (issue 10, item 5): a valid
 * request with one violation planted at a random place — a control byte in a value, a
 * character a field name may not have, a bare LF line end, Content-Length together with
 * Transfer-Encoding, a Content-Length or chunk size that is not plain digits/hex — is never
 * accepted: the parser reports an error instead of a head (or, for a bad chunk size, instead of
 * completing the message), whatever the split of the bytes. `npm run fuzz` runs longer.
 */
import test from 'ava';
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { fuzzParams } from '../support/fuzz.js';
import { runRequest, type Ev } from './http1_helpers.js';

const TCHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyz".split('');
const name = fc.string({ unit: fc.constantFrom(...TCHARS), minLength: 1, maxLength: 12 })
  .filter((n) => !['content-length', 'transfer-encoding', 'connection', 'upgrade', 'expect', 'te', 'trailer', 'host'].includes(n));
const value = fc.string({ unit: fc.constantFrom(...'abcdefxyz0129 -_/=;,.'.split('')), maxLength: 20 }).map((v) => v.trim());
const fields = fc.array(fc.tuple(name, value), { minLength: 1, maxLength: 8 });

/** Bytes a field value may never hold (CTLs except HTAB, and DEL). */
const BAD_VALUE_BYTES = [...Array.from({ length: 32 }, (_, i) => i).filter((b) => b !== 9), 0x7f];
/** Characters a field name (a token) may never hold; ':' would just end the name. */
const BAD_NAME_CHARS = ' \t"(),/;<=>?@[\\]{}\x01\x7f'.split('');

type Violation =
  | { kind: 'ctl-in-value'; at: number; byte: number }
  | { kind: 'bad-name-char'; at: number; ch: string }
  | { kind: 'bare-lf'; at: number }
  | { kind: 'cl-and-te' }
  | { kind: 'bad-content-length'; cl: string }
  | { kind: 'bad-chunk-size'; size: string };

const violation: fc.Arbitrary<Violation> = fc.oneof(
  fc.record({ kind: fc.constant('ctl-in-value' as const), at: fc.nat(), byte: fc.constantFrom(...BAD_VALUE_BYTES) }),
  fc.record({ kind: fc.constant('bad-name-char' as const), at: fc.nat(), ch: fc.constantFrom(...BAD_NAME_CHARS) }),
  fc.record({ kind: fc.constant('bare-lf' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('cl-and-te' as const) }),
  fc.record({ kind: fc.constant('bad-content-length' as const), cl: fc.constantFrom('+1', '0x10', '1 2', '', '-1', '1,2', '१') }),
  fc.record({ kind: fc.constant('bad-chunk-size' as const), size: fc.constantFrom('Z', '0x1', '-0', '+5', ' 5', '5 5', '') }),
);

/** The request's head lines and body with `v` planted; `inHead` says whether the error must come before any head event. */
function plant(f: Array<[string, string]>, v: Violation): { wire: Buffer; inHead: boolean } {
  const lines = ['POST /upload HTTP/1.1', 'host: svc', ...f.map(([n, val]) => `${n}: ${val}`)];
  let body = '';
  const i = 1 + (('at' in v ? v.at : 0) % f.length) + 1;
  switch (v.kind) {
    case 'ctl-in-value': {
      const line = lines[i]!;
      const colon = line.indexOf(':') + 2;
      const p = colon + (v.at % (line.length - colon + 1));
      lines[i] = line.slice(0, p) + String.fromCharCode(v.byte) + line.slice(p);
      lines.push('content-length: 0');
      break;
    }
    case 'bad-name-char': {
      const line = lines[i]!;
      const p = v.at % line.indexOf(':');
      lines[i] = line.slice(0, p) + v.ch + line.slice(p);
      lines.push('content-length: 0');
      break;
    }
    case 'bare-lf': {
      lines.push('content-length: 0');
      const head = lines.join('\r\n').split('\r\n');
      // Join one random line break (not the last) with a bare LF.
      const k = v.at % (head.length - 1);
      const text = head.slice(0, k + 1).join('\r\n') + '\n' + head.slice(k + 1).join('\r\n') + '\r\n\r\n';
      return { wire: Buffer.from(text, 'latin1'), inHead: true };
    }
    case 'cl-and-te':
      lines.push('content-length: 5', 'transfer-encoding: chunked');
      body = '5\r\nhello\r\n0\r\n\r\n';
      break;
    case 'bad-content-length':
      lines.push(`content-length: ${v.cl}`);
      body = 'x';
      break;
    case 'bad-chunk-size':
      lines.push('transfer-encoding: chunked');
      body = `3\r\nabc\r\n${v.size}\r\nhello\r\n0\r\n\r\n`;
      return { wire: Buffer.from(lines.join('\r\n') + '\r\n\r\n' + body, 'latin1'), inHead: false };
  }
  return { wire: Buffer.from(lines.join('\r\n') + '\r\n\r\n' + body, 'latin1'), inHead: true };
}

function cut(buf: Buffer, points: number[]): Buffer[] {
  const at = [...new Set(points.map((p) => p % (buf.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of [...at, buf.length]) {
    if (p > prev) out.push(buf.subarray(prev, p));
    prev = p;
  }
  return out;
}

const kinds = (ev: Ev[]) => ev.map((e) => e[0]);

test('fuzz: a request with one planted violation of the strict rules is never accepted, under any split', (t) => {
  const seen = new Set<string>();
  fc.assert(fc.property(fields, violation, fc.array(fc.nat(), { maxLength: 5 }), (f, v, points) => {
    const { wire, inHead } = plant(f, v);
    const ev = runRequest(cut(wire, points), undefined, true);
    const last = ev[ev.length - 1]!;
    assert.ok(last[0] === 'error' || last[0] === 'eof-error', `${v.kind} accepted: ${JSON.stringify(kinds(ev))} for ${JSON.stringify(wire.toString('latin1'))}`);
    assert.ok([400, 413, 431, 501].includes(last[2]), `status ${last[2]}`);
    if (inHead) assert.ok(!ev.some((e) => e[0] === 'head'), `${v.kind}: a head was delivered before the error`);
    assert.ok(!ev.some((e) => e[0] === 'done'), `${v.kind}: the message completed`);
    seen.add(v.kind);
  }), fuzzParams(600));
  t.is(seen.size, 6, `violations tried: ${[...seen].join(', ')}`);
});

test('fuzz: the same requests without the violation are accepted (the generator itself is valid)', (t) => {
  fc.assert(fc.property(fields, fc.array(fc.nat(), { maxLength: 5 }), (f, points) => {
    const text = ['POST /upload HTTP/1.1', 'host: svc', ...f.map(([n, v]) => `${n}: ${v}`), 'content-length: 1'].join('\r\n') + '\r\n\r\nx';
    const ev = runRequest(cut(Buffer.from(text, 'latin1'), points), undefined, true);
    assert.deepEqual(kinds(ev), ['head', 'body', 'done']);
  }), fuzzParams(200));
  t.pass();
});
