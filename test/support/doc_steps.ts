/**
 * Runnable documentation: a Markdown page's ```` ```sh tutorial ```` blocks are steps to run
 * in order, and a ```` ```text output ```` block right after one says what it prints. The
 * page's own words are the test, so the page cannot silently go stale.
 */

export interface DocStep {
  /** 1-based line of the opening fence, for messages (`docs/tutorial.md:<line>`). */
  line: number;
  commands: string;
  /** The expected output block's lines, when the page shows one. */
  expected?: string[];
}

const FENCE = /^```([\w-]*)(?:\s+(.*))?$/;

/** The runnable steps of a Markdown page, each with the output block that follows it. */
export function docSteps(markdown: string): DocStep[] {
  const lines = markdown.split('\n');
  const steps: DocStep[] = [];
  let last: DocStep | undefined;
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i]);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    while (++i < lines.length && !lines[i].startsWith('```')) body.push(lines[i]);
    const [, lang, info] = open;
    const words = (info ?? '').split(/\s+/);
    if (lang === 'sh' && words.includes('tutorial')) {
      last = { line: start + 1, commands: body.join('\n') };
      steps.push(last);
    } else if (lang === 'text' && words.includes('output')) {
      if (!last || last.expected) throw new Error(`line ${start + 1}: an output block must follow a tutorial block`);
      last.expected = body;
    } else last = undefined; // any other fenced block in between detaches what follows
  }
  return steps;
}

/** Whitespace runs count as one space, so column widths and `uniq -c` padding do not matter. */
function normalise(line: string): string {
  return line.replace(/\s+/g, ' ').trim();
}

function lineMatcher(expected: string): RegExp {
  const escaped = normalise(expected).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^${escaped.replace(/\s*…\s*/g, '.*')}$`);
}

/**
 * The first expected line that does not appear in `output` (in order: each expected line
 * must match a later output line than the one before; `…` matches any text), or undefined.
 */
export function firstMissingLine(expected: readonly string[], output: string): string | undefined {
  const actual = output.split('\n').map(normalise);
  let from = 0;
  for (const want of expected) {
    if (normalise(want) === '') continue;
    const re = lineMatcher(want);
    const at = actual.findIndex((line, i) => i >= from && re.test(line));
    if (at < 0) return want;
    from = at + 1;
  }
  return undefined;
}
