/**
 * Envoy's normalize_path, which Istio turns on (mesh `pathNormalization` BASE, its default) so
 * that `/a/../admin` cannot slip past a route meant for `/a/`:
 *  - percent-encoded unreserved characters are decoded (`%2e` → `.`, `%41` → `A`), once, so
 *    `/%2e%2e/admin` is a dot segment too; `%00` is refused (400); every other escape stays as
 *    sent — `%2F` included (Envoy's path_with_escaped_slashes_action KEEP_UNCHANGED);
 *  - a backslash is a slash;
 *  - RFC 3986 §5.2.4 dot segments are removed; segments that climb above the root stop there
 *    (`/../a` is `/a`), as URL parsers do.
 * Slashes are not merged (`//x` stays): that is MERGE_SLASHES, not Istio's default.
 * The common case (no `%`, `\` or dot segment) costs three indexOf calls.
 * Undefined: the path cannot be normalised (answered 400).
 */
export function normalizePath(path: string): string | undefined {
  if (path.indexOf('%') >= 0 || path.indexOf('\\') >= 0) {
    const decoded = decodeUnreserved(path);
    if (decoded === undefined) return undefined;
    path = decoded.replaceAll('\\', '/');
  }
  if (path.indexOf('/.') < 0) return path;
  const out: string[] = [];
  const segments = path.split('/');
  for (let i = 1; i < segments.length; i++) {
    const seg = segments[i];
    if (seg === '.') {
      if (i === segments.length - 1) out.push('');
      continue;
    }
    if (seg === '..') {
      out.pop();
      if (i === segments.length - 1) out.push('');
      continue;
    }
    out.push(seg);
  }
  return '/' + out.join('/');
}

/** RFC 3986 unreserved: ALPHA / DIGIT / "-" / "." / "_" / "~". */
function isUnreserved(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2e || c === 0x5f || c === 0x7e;
}

function decodeUnreserved(path: string): string | undefined {
  let out = '';
  let from = 0;
  for (let i = path.indexOf('%'); i >= 0; i = path.indexOf('%', i + 1)) {
    const c = parseInt(path.slice(i + 1, i + 3), 16);
    if (path.length < i + 3 || !/^[0-9a-fA-F]{2}$/.test(path.slice(i + 1, i + 3))) continue;
    if (c === 0) return undefined;
    if (!isUnreserved(c)) continue;
    out += path.slice(from, i) + String.fromCharCode(c);
    from = i + 3;
    i += 2;
  }
  return out + path.slice(from);
}
