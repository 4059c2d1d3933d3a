/**
 * Envoy's normalize_path (RFC 3986 §5.2.4 dot-segment removal), which Istio turns on so that
 * `/a/../admin` cannot slip past a route meant for `/a/`. Segments that climb above the root
 * stop there (`/../a` is `/a`), as URL parsers do. The common case (no dot segment) costs one
 * indexOf. (Undefined is reserved for paths that cannot be normalised.)
 */
export function normalizePath(path: string): string | undefined {
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
