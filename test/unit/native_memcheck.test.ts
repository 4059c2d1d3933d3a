import test from 'ava';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const EXERCISE = fileURLToPath(new URL('../support/native_exercise.js', import.meta.url));

// The addon's SIMD loops read 16 bytes at a time; a read past a buffer's end gives the same
// results and passes every other test (it did once: the head writer's scratch was 16 bytes
// short for joins of 4,081-4,095 chars). Only memcheck sees it.
test('the HTTP/1.1 addon reads and writes only inside its buffers (valgrind memcheck)', async (t) => {
  t.timeout(110_000);
  const run = promisify(execFile);
  const args = ['--tool=memcheck', '--error-exitcode=97', '--leak-check=no', process.execPath, EXERCISE];
  const r = await run('valgrind', args, { maxBuffer: 16 << 20 }).catch((err: NodeJS.ErrnoException & { stdout?: string; stderr?: string }) => {
    if (err.code === 'ENOENT') return { stdout: '', stderr: 'valgrind is not installed (scripts/install-test-deps.sh installs it)' };
    return { stdout: err.stdout ?? '', stderr: err.stderr ?? String(err) };
  });
  t.regex(r.stdout, /scanned \d+ lines, wrote \d+ heads/, r.stderr.slice(-2000));
  t.regex(r.stderr, /ERROR SUMMARY: 0 errors/, r.stderr.split('\n').filter((l) => /Invalid|at 0x|by 0x.*legate/.test(l)).slice(0, 12).join('\n'));
});
