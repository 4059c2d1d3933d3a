import { createRequire } from 'node:module';
import { logger } from '../../../../log.js';
import { COMMON_NAMES } from './headers.js';

/**
 * The HTTP/1.1 addon (codec/native/, built by `npm install`): the parser's field-line scanner
 * and the serializer's head writer. Both are null when the addon is missing or
 * LEGATE_HTTP1_SCAN=js, and the JS code does the same work, with the same results.
 *
 * The field-line scanner (http1_scan.c): for a run of complete, valid field lines it reports
 * where each name and value lie, so the parser does not read those bytes in JS. It only
 * accelerates lines the JS parser would accept the same way; the first line it does not report
 * (blank, incomplete or invalid) is left to the JS parser and its error codes.
 */
export interface FieldScanner {
  /** How many field lines from b[pos] end before `end`; their offsets are in `out`. */
  scan(b: Buffer, pos: number, end: number): number;
  /**
   * Per line: name end, value start, value end (trimmed), next line start, and the name's
   * index in COMMON_NAMES plus one, shifted left by one, or'd with 1 if it has upper case.
   */
  readonly out: Int32Array;
}

/** Int32 slots per line in FieldScanner.out. */
export const SCAN_SLOTS = 5;

/**
 * The serializer's head writer (codec/native/http1_head.c): `text` is the start line (`start`
 * chars) and every name and value of `count` fields joined with nothing between, their lengths
 * in `lengths` (name, value, name, …). It writes the head, `name: value` CR LF per field and the
 * blank line, into the first `headLength` (text.length + 4 * count + 2) bytes of `out` and
 * returns true, or false when a name or value is invalid or a char is above 0xff.
 * `lengths.length / 2` fields at most.
 */
export interface HeadWriter {
  write(text: string, out: Buffer, headLength: number, start: number, count: number): boolean;
  readonly lengths: Int32Array;
}

interface Addon {
  scanFields(b: Buffer, pos: number, end: number): number;
  setCommonNames(names: readonly string[]): void;
  scanOutput: ArrayBuffer;
  writeHead: HeadWriter['write'];
  headFieldLengths: ArrayBuffer;
}

function load(): Addon | null {
  if (process.env.LEGATE_HTTP1_SCAN === 'js') return null;
  try {
    const addon = createRequire(import.meta.url)('../../../../../../build/Release/legate_http1.node') as Addon;
    addon.setCommonNames(COMMON_NAMES);
    return addon;
  } catch (err) {
    // Not fatal: the JS parser and serializer do the same work, only slower. Said once per thread.
    logger('native').warn(`HTTP/1.1 addon unavailable (${(err as Error).message.split('\n')[0]}); header lines are parsed and checked in JS — run "npm install" to build it`);
    return null;
  }
}

const addon = load();

export const fieldScanner: FieldScanner | null = addon && { scan: addon.scanFields, out: new Int32Array(addon.scanOutput) };

export const headWriter: HeadWriter | null = addon && { write: addon.writeHead, lengths: new Int32Array(addon.headFieldLengths) };
