import { setFlagsFromString } from 'node:v8';
import { isMainThread } from 'node:worker_threads';

/**
 * Istio and Envoy take RE2 patterns and RE2 runs in time linear in the input. V8's engine
 * backtracks: a route regex such as `/(a+)+b` took 1.5 s on a 27-byte path (twice as long per
 * byte more), so one request could stall a worker. V8 can move a regex that backtracks too much
 * to its linear-time engine; the flag is process-wide (worker isolates too) and read when a
 * regex runs. That engine takes no `i` or `u` flag, so case folding is spelled out in the
 * pattern instead.
 */
// Set by the main thread only, before the proxy's workers start (src/main/supervisor.ts imports
// this module first): changing V8's flags while other isolates load code is not safe.
if (isMainThread) setFlagsFromString('--enable-experimental-regexp-engine-on-excessive-backtracks');

export interface Re2Options {
  /** Match the whole input (Envoy's safe_regex FullMatch). */
  anchored?: boolean;
  ignoreCase?: boolean;
  /** Every match (regex rewrites). */
  global?: boolean;
}

/** An RE2 pattern compiled for V8; throws SyntaxError as `new RegExp` does. */
export function compileRe2(pattern: string, o: Re2Options = {}): RegExp {
  const js = re2ToJs(pattern);
  let source = js.source;
  if (o.ignoreCase || js.flags.includes('i')) source = foldCase(source);
  if (o.anchored) source = `^(?:${source})$`;
  return new RegExp(source, (o.global ? 'g' : '') + js.flags.replace('i', ''));
}

/**
 * RE2 syntax V8 reads differently: `(?P<name>…)`, leading inline flags `(?ims)`, POSIX classes
 * (`[[:alpha:]]`), `\A` and `\z`. Returns the JS source and flags (`i`, `m`, `s`).
 */
function re2ToJs(pattern: string): { source: string; flags: string } {
  let source = pattern.replace(/\(\?P</g, '(?<');
  let flags = '';
  const inline = /^\(\?([imsU]+)\)/.exec(source);
  if (inline) {
    source = source.slice(inline[0].length);
    for (const f of inline[1]!) if (f !== 'U' && !flags.includes(f)) flags += f;
  }
  source = source
    .replace(/\[\[:(\^?)([a-z]+):\]\]/g, (all, neg: string, name: string) => (POSIX[name] === undefined ? all : `[${neg}${POSIX[name]}]`))
    .replace(/\[:([a-z]+):\]/g, (all, name: string) => POSIX[name] ?? all);
  if (!flags.includes('m')) source = source.replace(/(^|[^\\])((?:\\\\)*)\\([Az])/g, (_m, pre: string, slashes: string, c: string) => `${pre}${slashes}${c === 'A' ? '^' : '$'}`);
  return { source, flags };
}

const POSIX: Record<string, string> = {
  alnum: '0-9A-Za-z',
  alpha: 'A-Za-z',
  ascii: '\\x00-\\x7f',
  blank: '\\t ',
  cntrl: '\\x00-\\x1f\\x7f',
  digit: '0-9',
  graph: '!-~',
  lower: 'a-z',
  print: ' -~',
  punct: '!-\\/:-@\\[-`{-~',
  space: '\\t\\n\\v\\f\\r ',
  upper: 'A-Z',
  word: '0-9A-Za-z_',
  xdigit: '0-9A-Fa-f',
};

const REPEAT = /^\{\d+(,\d*)?\}/;
const isLetter = (c: string) => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
const swapCase = (c: string) => (c >= 'a' ? c.toUpperCase() : c.toLowerCase());

/** Escapes whose following characters are part of them (`\x41`, `\u00e9`, `\p{L}`, `\cJ`). */
function escapeEnd(p: string, i: number): number {
  const c = p[i + 1];
  if (c === 'x') return i + 4;
  if (c === 'u') return p[i + 2] === '{' ? p.indexOf('}', i) + 1 || p.length : i + 6;
  if (c === 'p' || c === 'P') return p[i + 2] === '{' ? p.indexOf('}', i) + 1 || p.length : i + 3;
  if (c === 'c') return i + 3;
  return i + 2;
}

/** The pattern matching as with the `i` flag, for ASCII letters: `a` becomes `[aA]`, `[a-c]` `[a-cABC]`. */
export function foldCase(p: string): string {
  let out = '';
  let i = 0;
  while (i < p.length) {
    const c = p[i]!;
    if (c === '\\') {
      const end = Math.min(escapeEnd(p, i), p.length);
      out += p.slice(i, end);
      i = end;
    } else if (c === '[') {
      const end = classEnd(p, i);
      out += foldClass(p.slice(i, end));
      i = end;
    } else if (c === '(' && p.startsWith('(?<', i) && p[i + 3] !== '=' && p[i + 3] !== '!') {
      const end = p.indexOf('>', i) + 1 || p.length; // a group name stays as written
      out += p.slice(i, end);
      i = end;
    } else if (c === '{' && REPEAT.test(p.slice(i, i + 24))) {
      const end = p.indexOf('}', i) + 1; // a repetition count
      out += p.slice(i, end);
      i = end;
    } else {
      out += isLetter(c) ? `[${c}${swapCase(c)}]` : c;
      i++;
    }
  }
  return out;
}

/** The index after the `]` closing the class that opens at p[start]. */
function classEnd(p: string, start: number): number {
  let i = start + 1;
  if (p[i] === '^') i++;
  if (p[i] === ']') i++; // a leading ] is literal
  while (i < p.length && p[i] !== ']') i += p[i] === '\\' ? 2 : 1;
  return Math.min(i + 1, p.length);
}

/** A class with the other case of its letters and letter ranges added. */
function foldClass(cls: string): string {
  const close = cls.endsWith(']') ? cls.length - 1 : cls.length;
  let extra = '';
  let i = cls[1] === '^' ? 2 : 1;
  while (i < close) {
    if (cls[i] === '\\') {
      i = escapeEnd(cls, i);
      continue;
    }
    const lo = cls[i]!;
    if (cls[i + 1] === '-' && i + 2 < close && cls[i + 2] !== '\\') {
      const hi = cls[i + 2]!;
      for (let k = lo.charCodeAt(0); k <= hi.charCodeAt(0); k++) {
        const ch = String.fromCharCode(k);
        if (isLetter(ch)) extra += swapCase(ch);
      }
      i += 3;
      continue;
    }
    if (isLetter(lo)) extra += swapCase(lo);
    i++;
  }
  return cls.slice(0, close) + extra + cls.slice(close);
}
