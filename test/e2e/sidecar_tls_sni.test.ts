import test from 'ava';
import { DnsTestCa, curl, podWithRemote, serviceEntry, startTlsServer, virtualService } from './harness/index.js';

/**
 * Istio's egress pattern where the app originates TLS itself: ServiceEntries for external
 * hosts on port 443 (protocol TLS, no VIP), and a VirtualService tls route by SNI. The sidecar
 * reads the ClientHello, picks the route by SNI and forwards the still-encrypted bytes; the
 * backend's own certificate reaches the app.
 */
test('sidecar routes outbound TLS by SNI: a tls route sends one SNI elsewhere, other SNIs go to their own service, untouched', async (t) => {
  const ca = await DnsTestCa.create(t);
  const cert = await ca.issue('external', ['edition.example.com', 'mirror.example.com', 'plain.example.com']);
  const ext = (name: string, host: string, port: number) =>
    serviceEntry({ name, hosts: [host], ports: [{ number: 443, name: 'tls', protocol: 'TLS', targetPort: port }], resolution: 'STATIC', endpoints: [{ address: '__REMOTE__' }] });
  const { pod, remote } = await podWithRemote(t, {
    config: (remote) =>
      [
        ext('edition', 'edition.example.com', 9443),
        ext('mirror', 'mirror.example.com', 9444),
        ext('plain', 'plain.example.com', 9445),
        virtualService('edition', {
          hosts: ['edition.example.com'],
          tls: [{ match: [{ port: 443, sniHosts: ['edition.example.com'] }], route: [{ destination: { host: 'mirror.example.com', port: { number: 443 } } }] }],
        }),
      ].map((d) => d.replaceAll('__REMOTE__', remote.ip)),
  });
  await startTlsServer(remote.ns, { 9443: 'edition', 9444: 'mirror', 9445: 'plain' }, cert);
  const get = (host: string) => curl(pod.ns, `https://${host}/`, { args: ['--cacert', ca.caFile, '--resolve', `${host}:443:${remote.ip}`] });
  const edition = await get('edition.example.com');
  t.is(edition.status, 200, JSON.stringify(edition));
  t.like(JSON.parse(edition.body), { name: 'mirror', sni: 'edition.example.com' }, 'the tls route chose the backend; the handshake is the backend’s own');
  const mirror = await get('mirror.example.com');
  t.like(JSON.parse(mirror.body), { name: 'mirror', sni: 'mirror.example.com' });
  const plain = await get('plain.example.com');
  t.like(JSON.parse(plain.body), { name: 'plain', sni: 'plain.example.com' }, 'no tls route: the service of that SNI');
  t.true((await pod.stat('cluster.outbound|443||mirror.example.com.upstream_cx_total')) >= 2);
});
