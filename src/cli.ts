import { parseProxyOptions } from './main/options.js';
import { runProxy } from './main/supervisor.js';
import { runValidate } from './config/validate_command.js';
import { LegateError } from './errors.js';

const USAGE = `usage:
  legate proxy sidecar --config PATH… | --xds HOST:PORT [--xds-delta=false] [--concurrency N] [--outbound-port P] [--inbound-port P] [--admin-port P] …
  legate proxy router --config PATH… [--proxy-labels k=v,…] [--credential-dir DIR] [--concurrency N] [--admin-port P] …   (listeners from the Gateways selecting its labels)
  legate iptables [--dry-run] [--clean] [istio-iptables flags: -p -z -u -g -m -i -x -b -d -o -q --dns-capture]
  legate validate PATH…
  legate xds-server --config PATH… [--port 15010] [--debug-port 8080] [--address 0.0.0.0] [--outbound-port 15001] [--inbound-port 15006]
  legate inject [-f FILE|-] [--meshConfig FILE] [--image IMAGE] [--cni]
  legate wait [--url http://127.0.0.1:15021/healthz/ready] [--timeout 60]
  legate proxy-config clusters|listeners|routes|endpoints|secrets [--admin URL] [-o short|json|yaml]
  legate proxy-status [--admin URL]
  legate ca root|issue --ca-dir DIR [--out DIR --ns NS --sa SA --dns NAME …]   (a local CA: workload certificates in Istio's /etc/certs layout)
`;

/** Entry point of the `legate` command; resolves to the exit code. */
export async function main(argv: string[]): Promise<number | undefined> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'proxy': {
      const [role, ...flags] = rest;
      if (role !== 'sidecar' && role !== 'router') throw new LegateError('EUSAGE', `unknown proxy role ${JSON.stringify(role)} (sidecar or router)\n${USAGE}`);
      await runProxy(parseProxyOptions(flags), role);
      return undefined;
    }
    case 'iptables': {
      const { runIptables } = await import('./iptables/command.js');
      return runIptables(rest);
    }
    case 'validate':
      return runValidate(rest);
    case 'xds-server': {
      const { runXdsServer } = await import('./xds/server/command.js');
      await runXdsServer(rest);
      return undefined;
    }
    case 'inject':
      return (await import('./cli/inject.js')).runInject(rest);
    case 'wait':
      return (await import('./cli/wait.js')).runWait(rest);
    case 'proxy-config':
      return (await import('./cli/proxy_config.js')).runProxyConfig(rest);
    case 'ca':
      return (await import('./cli/ca.js')).runCa(rest);
    case 'proxy-status':
      return (await import('./cli/proxy_status.js')).runProxyStatus(rest);
    case undefined:
    case '-h':
    case '--help':
      process.stdout.write(USAGE);
      return cmd === undefined ? 2 : 0;
    default:
      throw new LegateError('EUSAGE', `unknown command ${JSON.stringify(cmd)}\n${USAGE}`);
  }
}
