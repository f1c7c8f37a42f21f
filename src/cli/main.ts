#!/usr/bin/env node
/**
 * The ota-uart command line. This is the only place that prints errors, picks the exit status
 * (from EXIT_STATUS, by error code) and calls process.exit; commands just return or throw.
 */
import { readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { EXIT_STATUS, OtaError, toOtaError } from '../errors.js';
import { commands } from './commands/index.js';

export interface MainIO {
  stderr(text: string): void;
}

const defaultIO: MainIO = { stderr: (t) => void process.stderr.write(t) };

function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

const EPILOG = [
  'Exit status: 0 ok, 1 internal error, 2 usage, 3 file not found/unreadable or I/O error, 4 not an encrypted image, 5 wrong key, 6 authentication failed, 7 invalid app image, 10 port not found, 11 port busy, 12 port permission, 13 baud rate refused, 14 no device answered, 15 protocol error, 16 link lost, 17 timeout, 20 image too large, 21 wrong chip/revision, 22 downgrade refused, 23 anti-rollback, 24 flash error, 25 device state, 26 device refused, 130 aborted (Ctrl-C). Full table: README "Exit codes".',
].join('\n');

/** Runs the CLI on `argv` (without node and script); resolves to the process exit status. */
export async function main(argv: string[], io: MainIO = defaultIO): Promise<number> {
  const json = argv.includes('--json');
  // Name of the command being run, for the usage hint ("see 'ota-uart encrypt --help'").
  const cmd = argv.find((a) => !a.startsWith('-'));
  try {
    await yargs(argv)
      .scriptName('ota-uart')
      .usage('$0 <command> [options]\n\nPush pre-encrypted ESP32 OTA images over UART, and make/check those images.')
      .command(commands)
      .demandCommand(1, 'name a command (see --help)')
      .recommendCommands()
      .strict()
      .option('json', { type: 'boolean', global: true, describe: 'machine-readable output (errors too)' })
      .help()
      .alias('h', 'help')
      .version(packageVersion())
      .epilog(EPILOG)
      .wrap(Math.min(110, process.stdout.columns || 100))
      .exitProcess(false)
      .fail((msg: string | undefined, err: Error | undefined) => {
        if (err) throw err;
        const hint = cmd && commands.some((c) => String(c.command).split(' ')[0] === cmd) ? ` ${cmd}` : '';
        throw new OtaError('USAGE', `${msg ?? 'invalid arguments'} (see 'ota-uart${hint} --help')`);
      })
      .parseAsync();
    return 0;
  } catch (e) {
    const err = toOtaError(e);
    if (json) io.stderr(`${JSON.stringify({ error: err.toJSON() })}\n`);
    else io.stderr(`ota-uart: ${err.message.replace(/\s*\n\s*/g, ' ')}\n`);
    if (err.code === 'INTERNAL' && process.env.OTA_UART_DEBUG) io.stderr(`${String((e as Error).stack)}\n`);
    return EXIT_STATUS[err.code];
  }
}

function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  main(hideBin(process.argv)).then(
    (status) => {
      process.exitCode = status;
    },
    (e: unknown) => {
      process.stderr.write(`ota-uart: internal error: ${String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
