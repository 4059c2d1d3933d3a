import * as grpc from '@grpc/grpc-js';

/** JSON messages over gRPC framing: no .proto needed for tests. */
const json = {
  requestSerialize: (v: unknown) => Buffer.from(JSON.stringify(v)),
  requestDeserialize: (b: Buffer) => JSON.parse(b.toString()) as Msg,
  responseSerialize: (v: unknown) => Buffer.from(JSON.stringify(v)),
  responseDeserialize: (b: Buffer) => JSON.parse(b.toString()) as Msg,
};

export interface Msg {
  text: string;
  /** Asks the server to fail with this gRPC status. */
  fail?: number;
  /** Asks the server to wait this long before answering. */
  delayMs?: number;
  /** Server streaming: how many answers. */
  count?: number;
  /** Answers carry this much padding (flow-control tests). */
  pad?: number;
}

const method = (path: string, requestStream: boolean, responseStream: boolean) => ({ path: `/test.Echo/${path}`, requestStream, responseStream, originalName: path, ...json });

/** test.Echo: unary, server-streaming, client-streaming and bidi methods. */
export const ECHO_SERVICE = {
  unary: method('Unary', false, false),
  repeat: method('Repeat', false, true),
  collect: method('Collect', true, false),
  chat: method('Chat', true, true),
} as unknown as grpc.ServiceDefinition;

export const EchoClient = grpc.makeGenericClientConstructor(ECHO_SERVICE, 'Echo');

/** A gRPC Echo server on a loopback or given address; `calls` counts unary calls; `failWith`: every unary call fails so. */
export async function startEchoServer(address = '127.0.0.1:0', name = 'echo', failWith?: number): Promise<{ port: number; calls: number; server: grpc.Server }> {
  const state = { port: 0, calls: 0, server: new grpc.Server() };
  state.server.addService(ECHO_SERVICE, {
    unary(call: grpc.ServerUnaryCall<Msg, Msg>, cb: grpc.sendUnaryData<Msg>) {
      state.calls++;
      const m = failWith === undefined ? call.request : { ...call.request, fail: failWith };
      const answer = () => {
        if (m.fail !== undefined) return cb({ code: m.fail, details: `failed as asked (${m.fail})` });
        call.sendMetadata(new grpc.Metadata());
        cb(null, { text: `${name}:${m.text}${'x'.repeat(m.pad ?? 0)}` });
      };
      if (m.delayMs) setTimeout(answer, m.delayMs);
      else answer();
    },
    repeat(call: grpc.ServerWritableStream<Msg, Msg>) {
      for (let i = 0; i < (call.request.count ?? 3); i++) call.write({ text: `${call.request.text}#${i}${'x'.repeat(call.request.pad ?? 0)}` });
      call.end();
    },
    collect(call: grpc.ServerReadableStream<Msg, Msg>, cb: grpc.sendUnaryData<Msg>) {
      const got: string[] = [];
      call.on('data', (m: Msg) => got.push(m.text));
      call.on('end', () => cb(null, { text: got.join(',') }));
    },
    chat(call: grpc.ServerDuplexStream<Msg, Msg>) {
      call.on('data', (m: Msg) => call.write({ text: `re:${m.text}` }));
      call.on('end', () => call.end());
    },
  });
  state.port = await new Promise<number>((resolve, reject) =>
    state.server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port))),
  );
  return state;
}

export type EchoClientT = grpc.Client & Record<string, (...args: unknown[]) => unknown>;

export function echoClient(target: string): EchoClientT {
  return new EchoClient(target, grpc.credentials.createInsecure()) as unknown as EchoClientT;
}

export function unary(client: EchoClientT, msg: Msg, options: grpc.CallOptions = {}): Promise<{ err: grpc.ServiceError | null; res?: Msg }> {
  return new Promise((resolve) => client.unary(msg, new grpc.Metadata(), options, (err: grpc.ServiceError | null, res?: Msg) => resolve({ err, res })));
}
