import { compileRe2 } from '../re2.js';

/**
 * Istio and Envoy take RE2 regexes. JavaScript's engine accepts more (lookaround,
 * backreferences) and a little less (`(?P<name>…)`, inline flags), so a pattern is checked
 * against RE2's rules first and then compiled in a JS form for syntax errors.
 */
const UNSUPPORTED: [RegExp, string][] = [
  [/\(\?<?[=!]/, 'lookahead/lookbehind assertions are not supported by RE2'],
  [/\(\?>/, 'atomic groups are not supported by RE2'],
  [/\\[1-9]/, 'backreferences are not supported by RE2'],
  [/\\k<[^>]*>/, 'named backreferences are not supported by RE2'],
  [/[*+?}]\+/, 'possessive quantifiers are not supported by RE2'],
];

/** Returns undefined when valid, else a message. */
export function re2Error(pattern: string): string | undefined {
  // Ignore escaped characters and character-class contents when looking for constructs.
  const bare = stripEscapesAndClasses(pattern);
  for (const [re, msg] of UNSUPPORTED) {
    const probe = msg.startsWith('backreferences') || msg.startsWith('named back') ? pattern.replace(/\\\\/g, '') : bare;
    if (re.test(probe)) return msg;
  }
  if (pattern.length > 10_000) return 'regex longer than 10000 characters';
  try {
    // What the data path compiles (src/config/re2.ts), with case folding spelled out too.
    compileRe2(pattern, { anchored: true });
    compileRe2(pattern, { anchored: true, ignoreCase: true });
  } catch (err) {
    return `invalid regex: ${(err as Error).message.replace(/^Invalid regular expression: /, '')}`;
  }
  return undefined;
}

function stripEscapesAndClasses(p: string): string {
  let out = '';
  let inClass = false;
  for (let i = 0; i < p.length; i++) {
    const c = p[i];
    if (c === '\\') {
      i++;
      out += '_';
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    if (c === '[') {
      inClass = true;
      // `[]abc]` and `[^]abc]`: a leading ] is literal.
      if (p[i + 1] === '^') i++;
      if (p[i + 1] === ']') i++;
      out += '_';
      continue;
    }
    out += c;
  }
  return out;
}
