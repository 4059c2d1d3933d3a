/**
 * Drives the HTTP/1.1 addon's two entry points at the edges of their buffers, for
 * test/unit/native_memcheck.test.ts to run under valgrind's memcheck: every input and output
 * is a Buffer of its own allocation (allocUnsafeSlow), sized to the byte, so a read or write past
 * either end lands outside any block and memcheck reports it. The results themselves are checked
 * by http1_scan and http1_serializer; this only has to reach every length class the SIMD loops
 * handle differently (below, at and past 16-byte runs; joins around the 4 KiB scratch).
 */
import { fieldScanner, headWriter } from '../../src/filters/network/http_connection_manager/codec/native_scan.js';

if (!fieldScanner || !headWriter) throw new Error('build/Release/legate_http1.node did not load');

/** A deterministic generator, so a report can be reproduced. */
let seed = 0x2545f491;
const random = (n: number) => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % n);
const TCHAR = 'abcdefghijklmnopqrstuvwxyz-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ!#$%&\'*+.^_`|~';
const VCHAR = 'abcdefghijklmnopqrstuvwxyz 0123456789\t,;=/"()<>@:?[]{}\x80\xa0\xff';
const pick = (chars: string, n: number) => Array.from({ length: n }, () => chars[random(chars.length)]).join('');

function exactBuffer(text: string): Buffer {
  const b = Buffer.allocUnsafeSlow(text.length);
  b.write(text, 'latin1');
  return b;
}

let scanned = 0;
// Field lines that end exactly at the buffer's end, cut anywhere, or hold an invalid byte.
for (let round = 0; round < 400; round++) {
  const lines = Array.from({ length: 1 + random(6) }, () => `${pick(TCHAR, 1 + random(40))}:${random(2) ? ' ' : ''}${pick(VCHAR, random(70))}\r\n`);
  let text = lines.join('') + (random(2) ? '\r\n' : '');
  if (random(3) === 0) text = text.slice(0, random(text.length + 1));
  if (random(5) === 0) text = text.replace(/[a-z]/, random(2) ? '\0' : '\x7f');
  const b = exactBuffer(text);
  for (const start of [0, Math.min(b.length, random(8))]) scanned += fieldScanner.scan(b, start, b.length);
}

let written = 0;
// Heads whose joined text runs from empty to past the writer's 4 KiB scratch, around every boundary.
const sizes = [0, 1, 15, 16, 17, 31, 32, 33, 4064, 4080, 4081, 4089, 4095, 4096, 4097, 4112, 9000];
for (const target of [...sizes, ...Array.from({ length: 60 }, () => random(9001))]) {
  const start = 'GET /x HTTP/1.1\r\n';
  const fields: string[] = [];
  let joined = start.length;
  while (joined < target) {
    const name = pick(TCHAR, 1 + random(Math.min(30, target - joined)));
    const value = pick(VCHAR, random(Math.max(0, Math.min(200, target - joined - name.length)) + 1));
    fields.push(name, value);
    joined += name.length + value.length;
  }
  if (random(4) === 0 && fields.length > 0) fields[fields.length - 1] += '\n';
  if (fields.length > headWriter.lengths.length) continue;
  const text = start + fields.join('');
  for (let i = 0; i < fields.length; i++) headWriter.lengths[i] = fields[i]!.length;
  const length = text.length + 2 * fields.length + 2;
  const out = Buffer.allocUnsafeSlow(length);
  if (headWriter.write(text, out, length, start.length, fields.length >> 1)) written++;
}

process.stdout.write(`scanned ${scanned} lines, wrote ${written} heads\n`);
