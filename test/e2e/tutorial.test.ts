import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireE2eEnvironment } from './harness/index.js';
import { REPO_ROOT } from './harness/programs.js';
import { docSteps, firstMissingLine } from '../support/doc_steps.js';

const PAGE = 'docs/tutorial.md';
const STATE = '/tmp/legate-tutorial';
const STEP_TIMEOUT_MS = 90_000;

/** One step in a fresh bash at the repository root, stderr folded into stdout as a reader's terminal shows it. */
function runStep(commands: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn('bash', ['-c', `exec 2>&1\n${commands}`], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (b: Buffer) => (output += b.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), STEP_TIMEOUT_MS);
    // 'exit', not 'close': a step may leave a proxy running in the background.
    child.once('exit', (code) => {
      clearTimeout(timer);
      setImmediate(() => resolve({ code, output }));
    });
  });
}

function tearDown(): Promise<unknown> {
  return runStep('scripts/tutorial/network.sh down');
}

/** What the page's proxies and servers logged, for a failure message. */
function logs(): string {
  if (!existsSync(STATE)) return '(no logs)';
  return readdirSync(STATE)
    .filter((f) => f.endsWith('.log'))
    .map((f) => `--- ${f}:\n${readFileSync(join(STATE, f), 'utf8').split('\n').slice(-40).join('\n')}`)
    .join('\n');
}

test.serial(`${PAGE}: every tutorial step runs in order and prints what the page says`, async (t) => {
  t.timeout(600_000);
  await requireE2eEnvironment();
  const steps = docSteps(readFileSync(join(REPO_ROOT, PAGE), 'utf8'));
  t.true(steps.length >= 20, `the page has its steps (${steps.length})`);
  // The page uses fixed names (tut-*): clear what an interrupted run left, and always clean up
  // (the exit hook covers a test process that dies without running teardowns).
  await tearDown();
  t.teardown(tearDown);
  process.once('exit', () => spawnSync('scripts/tutorial/network.sh', ['down'], { cwd: REPO_ROOT }));
  for (const step of steps) {
    const { code, output } = await runStep(step.commands);
    const missing = step.expected ? firstMissingLine(step.expected, output) : undefined;
    if (code !== 0 || missing !== undefined) {
      const why = code !== 0 ? `exited with ${code}` : `did not print ${JSON.stringify(missing)}`;
      t.fail(`${PAGE}:${step.line}: the step ${why}\n--- commands:\n${step.commands}\n--- output:\n${output}\n${logs()}`);
      return;
    }
  }
  t.pass();
});
