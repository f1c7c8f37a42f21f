/** `ota-uart push IMAGE --port PORT [--port PORT2 ...] [--ports 'GLOB']`: the main job. */
import type { Argv, CommandModule } from 'yargs';
import { OtaError } from '../../errors.js';
import { pushToTarget, type DeviceOutcome, type DevicePushOptions } from '../../session/index.js';
import { aboutPort, adapterHint, defaultToSim, openerFor, resolvePorts, type MultiPortArgs, withMultiPortOptions } from '../port-opener.js';
import { loadImageArg, type ImageArg } from '../image-arg.js';
import { createPushView } from '../push-reporter.js';
import { formatDeviceTable, formatPush } from '../push-summary.js';
import { openReportFile, type ReportFile } from '../report-file.js';
import { runStoppable, terminal } from '../terminal.js';

export interface PushArgs extends MultiPortArgs {
  image: string;
  reboot?: boolean;
  'allow-downgrade'?: boolean;
  fresh?: boolean;
  chunk?: number;
  'frame-chunks'?: number;
  window?: number;
  'connect-timeout'?: number;
  'reconnect-timeout'?: number;
  report?: string;
  json?: boolean;
}

/** The push settings shared by `push` and `station`. */
export function pushSettings(args: PushArgs, img: ImageArg, signal?: AbortSignal): DevicePushOptions {
  return {
    image: img.bytes, imageName: img.path, baud: args.baud, allowDowngrade: args['allow-downgrade'], reboot: args.reboot,
    fresh: args.fresh, chunk: args.chunk, chunksPerFrame: args['frame-chunks'], maxInFlight: args.window, signal,
    connectTimeoutMs: args['connect-timeout'] !== undefined ? args['connect-timeout'] * 1000 : undefined,
    reconnectTimeoutMs: args['reconnect-timeout'] !== undefined ? args['reconnect-timeout'] * 1000 : undefined,
  };
}

export function withPushOptions<T>(y: Argv<T>, extra: (a: Argv<T & PushArgs>) => Argv<T & PushArgs> = (a) => a): Argv<T & PushArgs> {
  const withImage = y.positional('image', { type: 'string', demandOption: true, describe: 'encrypted image (.enc) made by `ota-uart encrypt` or esp_enc_img_gen.py' }) as Argv<T & { image: string }>;
  return withMultiPortOptions(withImage, (a) => extra(a
    .option('reboot', { type: 'boolean', default: false, describe: 'reset the device into the new app after a successful update' })
    .option('allow-downgrade', { type: 'boolean', default: false, describe: 'accept an app whose version is the same as or older than the running one' })
    .option('fresh', { type: 'boolean', default: false, describe: 'start from zero even if the device could resume this image, or has just installed it (and has not reset since)' })
    .option('chunk', { type: 'number', describe: 'data bytes per chunk, the unit of every resend (multiple of 16; default 512 for a device that takes several chunks per frame, else 1024; capped by the device)' })
    .option('frame-chunks', { type: 'number', describe: 'most chunks per frame on a clean link (default: as many as the device takes; 1 for the first 32 and after a loss)' })
    .option('window', { type: 'number', describe: 'cap bytes in flight (default: whatever the device grants)' })
    .option('connect-timeout', { type: 'number', default: 10, describe: 'seconds to look for the device (it may be printing its boot log)' })
    .option('reconnect-timeout', { type: 'number', default: 10, describe: 'seconds to wait for a vanished port to come back, then resume' })
    .option('report', { type: 'string', describe: 'append one NDJSON record per device to this file (safe with several processes writing it)' })
    .group(['reboot', 'allow-downgrade', 'fresh', 'chunk', 'frame-chunks', 'window', 'connect-timeout', 'reconnect-timeout', 'report'], 'Update:')
    .check((v) => {
      for (const k of ['chunk', 'window', 'connect-timeout', 'reconnect-timeout'] as const) {
        const x = v[k];
        if (x !== undefined && !(typeof x === 'number' && x > 0)) throw new OtaError('USAGE', `--${k} must be a positive number, got ${String(x)}`);
      }
      const f = v['frame-chunks'];
      if (f !== undefined && !(typeof f === 'number' && Number.isInteger(f) && f >= 1)) throw new OtaError('USAGE', `--frame-chunks must be a whole number of at least 1, got ${String(f)}`);
      return true;
    }) as unknown as Argv<T & PushArgs>));
}

/** A record as it goes to --report and --json: the device record plus the image id. */
export function recordLine(o: DeviceOutcome, img: ImageArg): Record<string, unknown> {
  return { ...o.record, imageId: img.id };
}

export async function runPush(args: PushArgs): Promise<void> {
  defaultToSim(args);
  const img = loadImageArg(args.image);
  const ports = await resolvePorts(args, 'push');
  const report: ReportFile | undefined = args.report !== undefined ? openReportFile(args.report) : undefined;
  const json = !!args.json;
  const view = createPushView({
    mode: json ? 'json' : terminal.stderrIsTTY() ? 'tty' : 'plain',
    out: json ? terminal.stdoutLine : terminal.stderrLine,
    stream: terminal.stderrStream(), now: () => performance.now(), prefixPorts: ports.length > 1,
  });
  let outcomes: DeviceOutcome[];
  let aborted = false;
  try {
    outcomes = await runStoppable(async (signal) => {
      signal.addEventListener('abort', () => { aborted = true; }, { once: true });
      return Promise.all(ports.map(async (port) => {
        const settings = pushSettings(args, img, signal);
        let outcome: DeviceOutcome;
        const handle = await openerFor(port, args).catch((e: unknown) => e as Error);
        if (handle instanceof Error) {
          // the port could not even be prepared (e.g. the simulator's key): a failed record too
          outcome = await pushToTarget({ port, open: () => Promise.reject(handle) }, settings);
        } else {
          try {
            const reporter = view.reporterFor(handle.label);
            const hint = adapterHint(port, args.baud);
            if (hint) reporter.event({ type: 'log', level: 'info', message: hint });
            outcome = await pushToTarget({ port: handle.label, open: handle.open }, settings, reporter);
          } finally {
            await handle.dispose().catch(() => {});
          }
        }
        report?.append(recordLine(outcome, img));
        if (json) terminal.stdoutLine(JSON.stringify({ type: 'result', ...recordLine(outcome, img) }));
        return outcome;
      }));
    });
  } finally {
    view.stop();
    report?.close();
  }
  const failed = outcomes.filter((o) => !o.record.ok);
  if (ports.length === 1) {
    const only = outcomes[0]!;
    if (only.error) throw aboutPort(only.record.port, only.error, img.path);
    if (!json) terminal.stderrLine(formatPush(only.result!, img.path));
    return;
  }
  if (json) {
    terminal.stdoutLine(JSON.stringify({ type: 'summary', devices: outcomes.length, ok: outcomes.length - failed.length, failed: failed.length }));
  } else {
    terminal.stderrLine(formatDeviceTable(outcomes.map((o) => o.record)));
  }
  if (failed.length > 0) {
    // Exit status: 130 when the user aborted, else that of the first failed port in the order given.
    const first = aborted ? failed.find((o) => o.record.code === 'ABORTED') ?? failed[0]! : failed[0]!;
    throw new OtaError(first.error!.code, `${failed.length} of ${outcomes.length} devices failed; first: ${first.record.port}: ${first.record.message ?? first.record.code}`, {
      details: { failed: failed.map((o) => o.record.port) },
    });
  }
}

export const pushCommand: CommandModule<object, PushArgs> = {
  command: 'push <image>',
  describe: 'Push an encrypted image (esp_encrypted_img) to one or more devices over serial ports',
  builder: (y) =>
    withPushOptions(y)
      .example('$0 push app.enc --port /dev/ttyUSB0', 'update one board (handshake at 115200, transfer at 921600 baud)')
      .example('$0 push app.enc --port /dev/ttyUSB0 --baud 115200 --reboot', 'a slow, safe link; reboot into the new app afterwards')
      .example('$0 push app.enc --port sim', 'try it on the built-in simulated ESP32 (no hardware)')
      .example("$0 push app.enc --ports '/dev/ttyUSB*' --report line3.ndjson", 'every board on the fixture at once, one report line per board')
      .example('$0 push app.enc --port /dev/ttyUSB0 --json | jq -c .', 'NDJSON events for scripts: hello, progress, retry, resume, result')
      .epilog([
        'An interrupted push (cable pulled, board reset or powered off, host killed) resumes where it stopped when you run the same command again.',
        'Ctrl-C aborts cleanly: the device drops the update and keeps running its current firmware (exit status 130).',
        'With several ports the exit status is 0 only if every device was updated; otherwise it is the status of the first failed port in the order given (see README "Exit codes"); each device\'s own result is in the table, --json and --report.',
      ].join('\n\n')),
  handler: (args) => runPush(args),
};
