/** `ota-uart push IMAGE --port PORT`: the main job. */
import type { Argv, CommandModule } from 'yargs';
import { toOtaError } from '../../errors.js';
import { push, type PushResult } from '../../session/index.js';
import { readInputFile } from '../io.js';
import { emit, table } from '../output.js';
import { openerFor, type PortArgs, withPortOptions } from '../port-opener.js';
import { createPushReporter, formatBytes } from '../push-reporter.js';
import { runInterruptible, terminal } from '../terminal.js';

export interface PushArgs extends PortArgs {
  image: string;
  reboot?: boolean;
  'allow-downgrade'?: boolean;
  fresh?: boolean;
  chunk?: number;
  window?: number;
  'connect-timeout'?: number;
  'reconnect-timeout'?: number;
  json?: boolean;
}

export async function runPush(args: PushArgs): Promise<PushResult> {
  const image = readInputFile(args.image, 'encrypted image');
  const port = await openerFor(args);
  const reporter = createPushReporter({
    json: !!args.json, tty: terminal.stderrIsTTY(), stream: terminal.stderrStream(), now: () => performance.now(),
    out: args.json ? terminal.stdoutLine : terminal.stderrLine,
  });
  try {
    return await runInterruptible((signal) =>
      push({
        image, imageName: args.image, open: port.open, portLabel: port.label,
        baud: args.baud, allowDowngrade: args['allow-downgrade'], reboot: args.reboot, fresh: args.fresh,
        chunk: args.chunk, maxInFlight: args.window, reporter, signal,
        connectTimeoutMs: args['connect-timeout'] !== undefined ? args['connect-timeout'] * 1000 : undefined,
        reconnectTimeoutMs: args['reconnect-timeout'] !== undefined ? args['reconnect-timeout'] * 1000 : undefined,
      }),
    );
  } catch (e) {
    if (args.json) terminal.stdoutLine(JSON.stringify({ type: 'result', ok: false, port: port.label, image: args.image, error: toOtaError(e).toJSON() }));
    throw e;
  } finally {
    reporter.stop();
    await port.dispose();
  }
}

export function formatPush(r: PushResult, image: string): string {
  const eff = r.baud > 0 ? ` (${((r.bytesPerSecond * 10) / r.baud * 100).toFixed(0)}% of the line rate)` : '';
  const next = r.after.rebooting
    ? r.device.rollback ? 'the device is rebooting into it; confirm it with `ota-uart confirm` once it runs, or it rolls back' : 'the device is rebooting into it'
    : 'it runs after the next reset (pass --reboot to reset now)';
  return [
    `updated ${r.port ?? 'device'}: ${r.after.boot.version} set to boot from ${r.after.boot.slot}`,
    table([
      ['image', `${image} (${formatBytes(r.bytes)})`],
      ['device', `${r.device.chip} ${r.device.chipRevision}`],
      ['before', `running ${r.before.running.version || '?'} from ${r.before.running.slot}`],
      ['transfer', `${formatBytes(r.bytesSent)} in ${r.seconds.toFixed(2)} s, ${formatBytes(Math.round(r.bytesPerSecond))}/s at ${r.baud} baud${eff}`],
      ['resumed at', r.resumeOffset > 0 ? `${r.resumeOffset} bytes` : undefined],
      ['retries', `${r.retries} (timeouts ${r.timeouts}, CRC errors ${r.crcErrors}, reconnects ${r.resyncs})`],
      ['next', next],
    ], '  '),
  ].join('\n');
}

export const pushCommand: CommandModule<object, PushArgs> = {
  command: 'push <image>',
  describe: 'Push an encrypted image (esp_encrypted_img) to a device over a serial port',
  builder: (y) =>
    withPortOptions(y.positional('image', { type: 'string', demandOption: true, describe: 'encrypted image (.enc) made by ota-uart encrypt or esp_enc_img_gen.py' }) as Argv<{ image: string }>)
      .option('reboot', { type: 'boolean', default: false, describe: 'reset the device into the new app after a successful update' })
      .option('allow-downgrade', { type: 'boolean', default: false, describe: 'accept an app whose version is the same as or older than the running one' })
      .option('fresh', { type: 'boolean', default: false, describe: 'start from zero even if the device could resume this image' })
      .option('chunk', { type: 'number', describe: 'data bytes per frame (multiple of 16; default 1024, capped by the device)' })
      .option('window', { type: 'number', describe: 'cap bytes in flight (default: whatever the device grants)' })
      .option('connect-timeout', { type: 'number', default: 10, describe: 'seconds to look for the device (it may be printing its boot log)' })
      .option('reconnect-timeout', { type: 'number', default: 10, describe: 'seconds to wait for a vanished port to come back, then resume' })
      .example('$0 push app.enc --port /dev/ttyUSB0', 'update one board at the default 921600 baud')
      .example('$0 push app.enc --port /dev/ttyUSB0 --baud 115200 --reboot', 'slow, safe link; reboot into the new app')
      .example('$0 push app.enc --port sim', 'try it on the built-in simulated ESP32 (no hardware)')
      .example('$0 push app.enc --port /dev/ttyUSB0 --json', 'NDJSON events for scripts (hello, progress, retry, resume, result)')
      .epilog('A push that is interrupted (cable, reset, Ctrl-C) resumes where it stopped when you run the same command again.'),
  handler: async (args) => {
    const r = await runPush(args);
    // --json is NDJSON: the result is one line like every event before it.
    if (args.json) terminal.stdoutLine(JSON.stringify({ type: 'result', ok: true, image: args.image, ...r }));
    else emit(false, r, () => formatPush(r, args.image));
  },
};

