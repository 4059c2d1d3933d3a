/**
 * Path normalisation as Istio configures Envoy by default (pathNormalization BASE: normalize_path
 * on, merge_slashes off, escaped slashes kept): what reaches routing and the upstream.
 */
import test from 'ava';
import { normalizePath } from '../../src/filters/network/http_connection_manager/path.js';

const cases: [string, string | undefined][] = [
  ['/a/../b', '/b'],
  ['/a/./b', '/a/b'],
  ['/../../etc/passwd', '/etc/passwd'],
  ['//x', '//x'], // not merged (MERGE_SLASHES is not Istio's default)
  ['/a//b/../c', '/a//c'],
  ['/a%2Fb', '/a%2Fb'], // KEEP_UNCHANGED
  ['/a%2fb/..', '/'], // one segment: a%2fb
  ['/a/%2e%2e/admin', '/admin'],
  ['/a/%2E%2e/admin', '/admin'],
  ['/%61dmin', '/admin'],
  ['/a%5Cb', '/a%5Cb'], // an escaped backslash is kept too
  ['/a\\..\\admin', '/admin'],
  ['/a%20b', '/a%20b'],
  ['/a%zz', '/a%zz'],
  ['/a%2', '/a%2'],
  ['/a%00b', undefined],
  ['/a%0D%0Ab', '/a%0D%0Ab'], // CR/LF stay encoded: never decoded into the request line
];

for (const [input, want] of cases) {
  test(`normalize_path ${JSON.stringify(input)} → ${JSON.stringify(want)}`, (t) => {
    t.is(normalizePath(input), want);
  });
}
