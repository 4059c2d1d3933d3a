/** What the helper programs share: `--flag value` options, `HOST:PORT` addresses, JSON lines out. */

/** The value after `flag` on the command line, if given. */
export function option(flag: string): string | undefined {
  const args = process.argv.slice(2);
  const i = args.indexOf(flag);
  return i >= 0 ? args[i + 1] : undefined;
}

/** `HOST:PORT` (the host may be an IPv6 address with colons). */
export function hostPort(text: string): { host: string; port: number } {
  const [host, port] = text.split(/:(?=\d+$)/);
  return { host: host!, port: Number(port) };
}

/** One JSON line on stdout: how programs report to the test that started them. */
export const emit = (o: Record<string, unknown>) => process.stdout.write(JSON.stringify(o) + '\n');
