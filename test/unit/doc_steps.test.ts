import test from 'ava';
import { docSteps, firstMissingLine } from '../support/doc_steps.js';

const page = [
  'Intro.',
  '```sh',
  'npm ci   # shown, not run',
  '```',
  '```sh tutorial',
  'echo one',
  'echo two',
  '```',
  'Prose between a step and its output is fine.',
  '```text output',
  'one',
  '… two',
  '```',
  '```sh tutorial',
  'true',
  '```',
].join('\n');

test('doc steps: only `sh tutorial` blocks run, each with the `text output` block after it', (t) => {
  t.deepEqual(docSteps(page), [
    { line: 5, commands: 'echo one\necho two', expected: ['one', '… two'] },
    { line: 14, commands: 'true' },
  ]);
});

test('doc steps: an output block with no step before it is an error in the page', (t) => {
  t.throws(() => docSteps('```text output\nx\n```\n'), { message: /line 1: an output block must follow a tutorial block/ });
  t.throws(() => docSteps('```sh tutorial\na\n```\n```sh\nb\n```\n```text output\nx\n```\n'), { message: /line 7/ });
});

test('doc steps: expected lines appear in order, … is any text, whitespace runs are one space', (t) => {
  const out = '     30 reviews-v1\nNAME     VHOST NAME    DOMAINS\nlocation: https://x/y\n';
  t.is(firstMissingLine(['… reviews-v1', 'NAME … VHOST NAME … DOMAINS', 'location: https://x/y'], out), undefined);
  t.is(firstMissingLine(['location: https://x/y', '… reviews-v1'], out), '… reviews-v1', 'order matters');
  t.is(firstMissingLine(['reviews-v2'], out), 'reviews-v2');
  t.is(firstMissingLine(['30 reviews-v1 (extra)'], out), '30 reviews-v1 (extra)', 'a line must match whole');
  t.is(firstMissingLine(['a.b'], 'axb'), 'a.b', 'regex characters are literal');
});
