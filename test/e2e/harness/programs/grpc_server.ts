/**
 * gRPC test server for e2e tests (test.Echo of test/support/grpc_echo.ts, @grpc/grpc-js):
 * `node grpc_server.js --listen HOST:PORT [--name NAME] [--fail CODE]` (--fail: every unary
 * call fails with that status). Prints {ev: 'listening', port} and {ev: 'call', text} per unary call.
 */
import { startEchoServer } from '../../../support/grpc_echo.js';

const args = process.argv.slice(2);
const opt = (flag: string) => {
  const i = args.indexOf(flag);
  return i >= 0 ? args[i + 1] : undefined;
};
const listen = opt('--listen');
if (!listen) throw new Error('usage: grpc_server.js --listen HOST:PORT [--name NAME] [--fail CODE]');
const fail = opt('--fail');
const port = Number(listen.split(/:(?=\d+$)/)[1]);
const s = await startEchoServer(listen, opt('--name') ?? 'echo', fail === undefined ? undefined : Number(fail));
process.stdout.write(JSON.stringify({ ev: 'listening', port: s.port === port ? port : s.port }) + '\n');
process.on('SIGTERM', () => process.exit(0));
