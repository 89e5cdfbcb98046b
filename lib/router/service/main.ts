/**
 * The router service's entry point: the pod runs `node main.ts --config rules.json --port 8080`.
 * Only this file starts anything; every other module of the service only defines.
 *
 *   node main.ts --config rules.json [--port 8080] [--host 0.0.0.0] [--drain-ms 5000] [--check]
 */
import * as fs from 'node:fs';
import { formatProblem, parseRouterConfig } from './rules.ts';
import type { ParsedConfig } from './rules.ts';
import { createRouterServer } from './server.ts';

interface Args {
  readonly config: string;
  readonly port: number;
  readonly host: string;
  readonly drainMs: number;
  readonly check: boolean;
}

function parseArgs(argv: readonly string[]): Args {
  const value = (flag: string, fallback?: string): string | undefined => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : fallback;
  };
  const config = value('--config', process.env.ROUTER_CONFIG);
  if (!config) throw new Error('usage: router --config rules.json [--port 8080] [--host 0.0.0.0] [--drain-ms 5000] [--check]');
  return { config, port: Number(value('--port', '8080')), host: value('--host', '0.0.0.0') as string, drainMs: Number(value('--drain-ms', '5000')), check: argv.includes('--check') };
}

/** Loads and validates the config: exits with every problem listed, never a stack trace. */
function loadConfig(file: string): ParsedConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    console.error(`router: cannot read config ${file}: ${(error as Error).message}`);
    process.exit(2);
  }
  const { parsed, problems } = parseRouterConfig(raw);
  if (!parsed) {
    console.error(`router: invalid config ${file}:\n${problems.map((p) => `  - ${formatProblem(p)}`).join('\n')}`);
    process.exit(2);
  }
  return parsed;
}

function main(argv: readonly string[] = process.argv.slice(2)): void {
  let args: Args;
  try {
    args = parseArgs(argv);
  } catch (error) {
    console.error((error as Error).message);
    process.exit(2);
  }
  const parsed = loadConfig(args.config);
  if (args.check) {
    process.stdout.write(`router: config ${args.config} is valid (${parsed.rules.length} rules, targets ${parsed.config.targets.join(', ')})\n`);
    return;
  }
  const { server, redis, drain } = createRouterServer(parsed);
  server.listen(args.port, args.host, () => process.stdout.write(`router: listening on ${args.host}:${args.port} with ${parsed.rules.length} rules\n`));
  process.on('SIGTERM', () => {
    // Fail readiness first, so endpoints drop this pod before it stops answering.
    drain();
    setTimeout(() => {
      server.close(() => process.exit(0));
      server.closeIdleConnections();
      redis?.close();
    }, args.drainMs).unref();
  });
}

main();
