/**
 * gRPC test client for e2e tests (test.Echo, @grpc/grpc-js), run as the app:
 * `node grpc_client.js --target HOST:PORT [--authority A] [--mode all|unary] [--msg JSON] [--count N]`.
 * `all`: one call of each kind (unary, server-streaming, client-streaming, bidi); `unary`: N
 * unary calls one after another. Prints one JSON line: {results: [{kind, code, details, text}]}.
 */
import * as grpc from '@grpc/grpc-js';
import { EchoClient, type Msg } from '../../../support/grpc_echo.js';
import { option } from './cli_args.js';

const target = option('--target')!;
const authority = option('--authority');
const client = new EchoClient(target, grpc.credentials.createInsecure(), authority ? { 'grpc.default_authority': authority } : {}) as unknown as Record<string, (...a: unknown[]) => unknown> & grpc.Client;
const msg: Msg = JSON.parse(option('--msg') ?? '{"text":"hi"}');
type Result = { kind: string; code: number; details?: string; text?: string };

const unary = (m: Msg) =>
  new Promise<Result>((resolve) =>
    client.unary(m, new grpc.Metadata(), { deadline: Date.now() + 10_000 }, (err: grpc.ServiceError | null, res?: Msg) => resolve({ kind: 'unary', code: err?.code ?? 0, details: err?.details, text: res?.text })),
  );

const serverStream = () =>
  new Promise<Result>((resolve) => {
    const got: string[] = [];
    const call = client.repeat({ text: msg.text, count: 5, pad: msg.pad }) as grpc.ClientReadableStream<Msg>;
    call.on('data', (m: Msg) => got.push(m.text.slice(0, 20)));
    call.on('error', (e: grpc.ServiceError) => resolve({ kind: 'server-streaming', code: e.code, details: e.details }));
    call.on('end', () => resolve({ kind: 'server-streaming', code: 0, text: got.join(',') }));
  });

const clientStream = () =>
  new Promise<Result>((resolve) => {
    const call = client.collect((err: grpc.ServiceError | null, res?: Msg) => resolve({ kind: 'client-streaming', code: err?.code ?? 0, details: err?.details, text: res?.text })) as grpc.ClientWritableStream<Msg>;
    for (const text of ['a', 'b', 'c', 'd']) call.write({ text });
    call.end();
  });

const bidi = () =>
  new Promise<Result>((resolve) => {
    const got: string[] = [];
    const call = client.chat() as grpc.ClientDuplexStream<Msg, Msg>;
    call.on('data', (m: Msg) => {
      got.push(m.text);
      if (got.length < 3) call.write({ text: String(got.length) });
      else call.end();
    });
    call.on('error', (e: grpc.ServiceError) => resolve({ kind: 'bidi', code: e.code, details: e.details }));
    call.on('end', () => resolve({ kind: 'bidi', code: 0, text: got.join(',') }));
    call.write({ text: '0' });
  });

const results: Result[] = [];
if ((option('--mode') ?? 'all') === 'all') results.push(await unary(msg), await serverStream(), await clientStream(), await bidi());
else for (let i = 0; i < Number(option('--count') ?? 1); i++) results.push(await unary({ ...msg, text: `${msg.text}${i}` }));
process.stdout.write(JSON.stringify({ results }) + '\n');
client.close();
process.exit(0);
