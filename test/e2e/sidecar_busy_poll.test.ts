/**
 * End-to-end: `--busy-poll` (HAProxy's busy-polling) on a captured pod — the worker's loop
 * polls without sleeping, requests are proxied as without it, and SIGTERM still ends the
 * process cleanly (the spinning handle must not keep a worker alive).
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import { httpRequest, meshConfigMap, podWithHttp, serviceEntry, sleep } from './harness/index.js';

const HOST = 'web.example.internal';
const VIP = '240.240.1.20';
const UPSTREAM = 8080;

/** User + system CPU ms of every thread of `pid` so far. */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime, stime in USER_HZ (100)
}

test('--busy-poll: the worker spins while idle, still proxies, and SIGTERM exits 0', async (t) => {
  const { pod } = await podWithHttp(t, {
    servers: { web: UPSTREAM },
    config: (remote) => [
      meshConfigMap({ terminationDrainDuration: '100ms' }),
      serviceEntry({ name: 'web', hosts: [HOST], addresses: [VIP], ports: [{ number: 80, name: 'http', protocol: 'HTTP' }], endpoints: [{ address: remote.ip, ports: { http: UPSTREAM } }] }),
    ],
    proxy: { args: ['--busy-poll'], concurrency: 1 },
  });
  const r = await httpRequest(pod.ns, `http://${HOST}/x`, { args: ['--resolve', `${HOST}:80:${VIP}`] });
  t.is(r.status, 200, r.stderr);

  // Idle: a proxy that sleeps in epoll_wait uses a few ms in 1.5 s (0 in the check without the
  // flag); a spinning worker takes its core, or its fair share of one on a busy 2-core CI machine
  // running other tests (so the bar is a fifth).
  const pid = pod.proxy!.pid;
  const before = cpuMs(pid);
  await sleep(1500);
  const used = cpuMs(pid) - before;
  t.true(used >= 300, `${used} ms of CPU in 1.5 s idle`);

  const again = await httpRequest(pod.ns, `http://${HOST}/y`, { args: ['--resolve', `${HOST}:80:${VIP}`] });
  t.is(again.status, 200, again.stderr);
  const exit = await pod.stopProxy('SIGTERM');
  t.is(exit.code, 0, pod.proxy!.describe());
});
