import test from 'ava';
import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import { promisify } from 'node:util';
import { BIN } from '../support/proxy.js';
import { freePort } from '../support/servers.js';

const run = promisify(execFile);

test('legate wait returns 0 once readiness answers 200, and 1 when it never does', async (t) => {
  let ready = false;
  const server = createServer((_req, res) => res.writeHead(ready ? 200 : 503).end());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => server.close());
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/healthz/ready`;
  setTimeout(() => (ready = true), 600);
  const started = Date.now();
  const ok = await run(process.execPath, [BIN, 'wait', '--url', url, '--timeout', '20']);
  t.is(ok.stderr, '');
  t.true(ready && Date.now() - started >= 500, 'it waited for the 200');

  const closed = await freePort();
  const err = await t.throwsAsync(run(process.execPath, [BIN, 'wait', '--url', `http://127.0.0.1:${closed}/healthz/ready`, '--timeout', '1']));
  t.is((err as any).code, 1);
  t.regex((err as any).stderr, /not ready after 1s/);
});
