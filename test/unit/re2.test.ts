import test from 'ava';
import { compileRe2, foldCase } from '../../src/config/re2.js';
import { re2Error } from '../../src/config/validate/regex.js';

// A pattern V8's backtracking engine needs time exponential in the input for. RE2 (Envoy) is
// linear; before compileRe2 a 27-byte path took 1.5 s here and each byte more doubled it, so
// these cases would not finish within the test timeout.
const EVIL = '/(a+)+b';
const evilInput = '/' + 'a'.repeat(60) + '!';

test('a regex that backtracks exponentially runs in linear time, as RE2 would (route, header and rewrite forms)', (t) => {
  t.false(compileRe2(EVIL, { anchored: true }).test(evilInput));
  t.false(compileRe2(EVIL, { anchored: true, ignoreCase: true }).test(evilInput.toUpperCase()));
  t.false(compileRe2(`(?i)${EVIL}`, { anchored: true }).test(evilInput));
  t.is(evilInput.replace(compileRe2(EVIL, { global: true }), 'x'), evilInput);
  t.true(compileRe2(EVIL, { anchored: true }).test('/aaab'));
});

test('case folding without the i flag: letters, classes and ranges fold; escapes, group names and counts stay', (t) => {
  const folds: [string, string][] = [
    ['/Ab', '/[Aa][bB]'],
    ['[a-cX]', '[a-cXABCx]'],
    ['[^a-z]', '[^a-zABCDEFGHIJKLMNOPQRSTUVWXYZ]'],
    ['\\x41\\d\\w+\\u00e9', '\\x41\\d\\w+\\u00e9'],
    ['(?<name>a){2,3}', '(?<name>[aA]){2,3}'],
    ['a{b}', '[aA]{[bB]}'],
  ];
  for (const [pattern, folded] of folds) t.is(foldCase(pattern), folded, pattern);
  const ci = compileRe2('/api/v[0-9]+/Users', { anchored: true, ignoreCase: true });
  t.true(ci.test('/API/V2/users'));
  t.false(ci.test('/api/vX/users'));
  t.false(compileRe2('[^a-z]+', { anchored: true, ignoreCase: true }).test('ABC'), 'a negated class excludes both cases');
});

test('RE2 syntax V8 reads otherwise: named groups (?P<…>), leading inline flags, POSIX classes, \\A and \\z', (t) => {
  t.true(compileRe2('/(?P<id>[0-9]+)', { anchored: true }).test('/42'));
  t.true(compileRe2('(?i)/abc', { anchored: true }).test('/ABC'));
  t.true(compileRe2('(?s)a.b', { anchored: true }).test('a\nb'));
  const alpha = compileRe2('[[:alpha:]]+', { anchored: true });
  t.true(alpha.test('abcXYZ'));
  t.false(alpha.test('ab1'), '[[:alpha:]] is letters, not "[:alph" followed by "]"');
  t.true(compileRe2('[[:^digit:]]+', { anchored: true }).test('abc'));
  t.false(compileRe2('[[:^digit:]]+', { anchored: true }).test('a1'));
  t.true(compileRe2('[[:digit:]_-]+', { anchored: true }).test('12_-3'));
  t.true(compileRe2('\\A/x\\z', { anchored: true }).test('/x'));
  t.true(compileRe2('a\\\\Ab', { anchored: true }).test('a\\Ab'), 'an escaped backslash before A is not \\A');
});

test('validation compiles what the data path compiles', (t) => {
  t.is(re2Error('(?P<id>[0-9]+)'), undefined);
  t.is(re2Error('(?i)/abc'), undefined);
  t.is(re2Error('[[:alpha:]]+'), undefined);
  t.regex(re2Error('(a') ?? '', /invalid regex/);
  t.regex(re2Error('(?=a)') ?? '', /lookahead/);
});
