/**
 * gRPC test server for e2e tests (test.Echo of test/support/grpc_echo.ts, @grpc/grpc-js):
 * `node grpc_server.js --listen HOST:PORT [--name NAME] [--fail CODE]` (--fail: every unary
 * call fails with that status). Prints {ev: 'listening', port} and {ev: 'call', text} per unary call.
 */
import { startEchoServer } from '../../../support/grpc_echo.js';
import { hostPort, option } from './cli_args.js';

const listen = option('--listen');
if (!listen) throw new Error('usage: grpc_server.js --listen HOST:PORT [--name NAME] [--fail CODE]');
const fail = option('--fail');
const { port } = hostPort(listen);
const s = await startEchoServer(listen, option('--name') ?? 'echo', fail === undefined ? undefined : Number(fail));
process.stdout.write(JSON.stringify({ ev: 'listening', port: s.port === port ? port : s.port }) + '\n');
process.on('SIGTERM', () => process.exit(0));
