import test from 'ava';
import { COMMON_NAMES } from '../../src/filters/network/http_connection_manager/codec/headers.js';
import { fieldScanner, SCAN_SLOTS, type FieldScanner } from '../../src/filters/network/http_connection_manager/codec/native_scan.js';

/** The native scanner's view of `text`: one entry per line it took, and where it stopped. */
function scan(text: string | Buffer): { lines: { name: string; value: string; upper: boolean; common: string | undefined }[]; stop: number } {
  const s = fieldScanner as FieldScanner;
  const b = typeof text === 'string' ? Buffer.from(text, 'latin1') : text;
  const n = s.scan(b, 0, b.length);
  const lines = [];
  let pos = 0;
  for (let k = 0; k < n; k++) {
    const [nameEnd, vs, ve, next, tag] = s.out.subarray(k * SCAN_SLOTS, (k + 1) * SCAN_SLOTS) as unknown as number[];
    lines.push({
      name: b.toString('latin1', pos, nameEnd),
      value: b.toString('latin1', vs, ve),
      upper: (tag! & 1) === 1,
      common: tag! > 1 ? COMMON_NAMES[(tag! >> 1) - 1] : undefined,
    });
    pos = next!;
  }
  return { lines, stop: pos };
}

test('the addon is built (npm install), so header lines are scanned natively', (t) => {
  t.truthy(fieldScanner, 'build/Release/legate_http1.node did not load');
});

test('valid lines: name and value offsets, OWS trimmed, upper case and common names reported', (t) => {
  const head = 'Content-Length: 12\r\nx-custom:\t padded value \t\r\nETag: "a"\r\nempty:\r\n\r\nbody';
  const r = scan(head);
  t.deepEqual(r.lines, [
    { name: 'Content-Length', value: '12', upper: true, common: 'content-length' },
    { name: 'x-custom', value: 'padded value', upper: false, common: undefined },
    { name: 'ETag', value: '"a"', upper: true, common: 'etag' },
    { name: 'empty', value: '', upper: false, common: undefined },
  ]);
  t.is(r.stop, head.indexOf('\r\n\r\n') + 2, 'stops at the blank line');
});

test('every common name is found whatever its case, and a name one byte off is not', (t) => {
  for (const name of COMMON_NAMES) {
    t.is(scan(`${name}: v\r\n`).lines[0]!.common, name);
    t.is(scan(`${name.toUpperCase()}: v\r\n`).lines[0]!.common, name);
    const last = name.charCodeAt(name.length - 1);
    const off = name.slice(0, -1) + String.fromCharCode(last === 0x7a ? 0x61 : last + 1);
    t.is(scan(`${off}: v\r\n`).lines[0]!.common, undefined, off);
    t.is(scan(`${name}x: v\r\n`).lines[0]!.common, undefined);
  }
});

test('stops, without taking it, at any line the JS parser must judge', (t) => {
  const first = 'a: 1\r\n';
  for (const bad of [
    'b: 2', // incomplete
    'b: 2\r', // CR at the end of the input
    'b: 2\rx\r\n', // bare CR
    'b: 2\nc: 3\r\n', // bare LF
    ' folded\r\n', // obs-fold
    'b : 2\r\n', // whitespace before the colon
    ': 2\r\n', // empty name
    'b(c): 2\r\n', // not a tchar
    'b\r\n', // no colon
    'b: 2\x7f\r\n', // DEL
    'b: 2\x00\r\n', // NUL
    '\r\n', // the blank line
  ]) {
    const r = scan(first + bad);
    t.is(r.lines.length, 1, JSON.stringify(bad));
    t.is(r.stop, first.length, JSON.stringify(bad));
  }
});

test('a control byte anywhere in a value of any length stops it; HTAB and obs-text do not', (t) => {
  for (let len = 1; len <= 24; len++) {
    for (let at = 0; at < len; at++) {
      const value = (bytes: number) => 'v'.repeat(at) + String.fromCharCode(bytes) + 'v'.repeat(len - at - 1);
      for (const c of [0x00, 0x01, 0x0a, 0x0d, 0x1f, 0x7f]) t.is(scan(`n: ${value(c)}\r\n`).lines.length, 0, `${c} at ${at} of ${len}`);
      for (const c of [0x09, 0x20, 0x7e, 0x80, 0xff]) {
        const r = scan(`n: x${value(c)}x\r\n`);
        t.is(r.lines.length, 1, `${c} at ${at} of ${len}`);
        t.is(r.lines[0]!.value, `x${value(c)}x`);
      }
    }
  }
});

test('at most 32 lines a call, and never past the end it is given', (t) => {
  const head = Buffer.from('h: v\r\n'.repeat(40) + '\r\n', 'latin1');
  t.is(scan(head).lines.length, 32);
  const s = fieldScanner as FieldScanner;
  t.is(s.scan(head, 0, 6 * 3 + 5), 3, 'a line cut by `end` is not taken');
  t.is(s.scan(head, 6, 6 * 3), 2, 'starts at `pos`');
  t.is(s.scan(head, 10, 5), 0, 'pos after end');
});
