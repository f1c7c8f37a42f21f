/** `ota-uart station IMAGE --ports 'GLOB'`: a factory bench that updates every board plugged in. */
import type { CommandModule } from 'yargs';
import { OtaError } from '../../errors.js';
import { runStation, type DeviceRecord, type StationTally } from '../../session/index.js';
import { loadImageArg } from '../image-arg.js';
import { adapterHint, openerFor, portBackend, portList, type PortHandle } from '../port-opener.js';
import { createPushView } from '../push-reporter.js';
import { openReportFile } from '../report-file.js';
import { runStoppable, terminal } from '../terminal.js';
import { pushSettings, withPushOptions, type PushArgs } from './push.js';

export interface StationArgs extends PushArgs {
  poll?: number;
  count?: number;
  'reboot-grace'?: number;
}

function tallyText(t: StationTally): string {
  return `tally: ${t.ok} updated, ${t.failed} failed${t.active > 0 ? `, ${t.active} in progress` : ''}`;
}

function deviceLine(r: DeviceRecord): string {
  if (r.ok) return `[${r.port}] updated ${r.device ? `${r.device.chip} ${r.device.chipRevision} ` : ''}${r.before?.running.version ?? '?'} -> ${r.after?.boot.version ?? '?'} in ${(r.durationMs / 1000).toFixed(1)} s (retries ${r.retries})`;
  return `[${r.port}] FAILED ${r.code}: ${r.message ?? ''}`;
}

export async function runStationCommand(args: StationArgs): Promise<void> {
  const pattern = args.ports;
  const fixed = portList(args);
  if (pattern === undefined && fixed.length === 0) throw new OtaError('USAGE', "name the ports to watch with --ports 'GLOB' (e.g. '/dev/ttyUSB*') or --port PATH (see 'ota-uart station --help')");
  const img = loadImageArg(args.image);
  const report = args.report !== undefined ? openReportFile(args.report) : undefined;
  const json = !!args.json;
  const out = json ? terminal.stdoutLine : terminal.stderrLine;
  const view = createPushView({ mode: json ? 'json' : terminal.stderrIsTTY() ? 'tty' : 'plain', out, stream: terminal.stderrStream(), now: () => performance.now(), prefixPorts: true });
  const handles = new Map<string, PortHandle>();
  const emit = (obj: Record<string, unknown>, text: string): void => (json ? terminal.stdoutLine(JSON.stringify(obj)) : view.say(text));
  // --port paths count as present while they exist (expanding a plain path checks just that).
  const listPorts = async (): Promise<string[]> => {
    const all: string[] = [];
    for (const p of fixed) all.push(...(p === 'sim' ? [p] : await portBackend().expandGlob(p)));
    if (pattern !== undefined) all.push(...(await portBackend().expandGlob(pattern)));
    return [...new Set(all)];
  };
  const records: DeviceRecord[] = [];
  emit({ type: 'station', image: img.path, imageId: img.id, watching: pattern ?? fixed }, `station: pushing ${img.path} to every device on ${pattern ?? fixed.join(', ')}; Ctrl-C to stop`);
  let tally: StationTally;
  let aborted = false;
  try {
    tally = await runStoppable(async (abort, stop) => {
      abort.addEventListener('abort', () => { aborted = true; }, { once: true });
      return runStation({
        ...pushSettings(args, img), signal: abort, stop,
        listPorts,
        openPort: async (port) => {
          let h = handles.get(port);
          if (!h) {
            h = await openerFor(port, args);
            handles.set(port, h);
            const hint = adapterHint(port, args.baud); // once per port, at its first device
            if (hint) view.reporterFor(port).event({ type: 'log', level: 'info', message: hint });
          }
          return h.open();
        },
        pollMs: args.poll,
        maxDevices: args.count,
        rebootGraceMs: args['reboot-grace'] !== undefined ? args['reboot-grace'] * 1000 : undefined,
        reporterFor: (port) => view.reporterFor(port),
        reporter: {
          event(e) {
            if (e.type === 'attached') emit({ type: 'attached', port: e.port }, `[${e.port}] attached`);
            else if (e.type === 'detached') emit({ type: 'detached', port: e.port }, `[${e.port}] detached`);
            else if (e.type === 'stopping') emit({ type: 'stopping', active: e.active }, `station: stopping; letting ${e.active} update${e.active === 1 ? '' : 's'} in progress finish`);
            else if (e.type === 'device') {
              records.push(e.record);
              const line = { ...e.record, imageId: img.id };
              report?.append(line);
              if (json) terminal.stdoutLine(JSON.stringify({ type: 'result', ...line, tally: e.tally }));
              else view.say(`${deviceLine(e.record)}; ${tallyText(e.tally)}`);
            }
          },
        },
      });
    }, { graceful: true, stopMessage: 'stopping: no new devices; updates in progress will finish' });
  } finally {
    view.stop();
    report?.close();
    for (const h of handles.values()) await h.dispose().catch(() => {});
  }
  emit({ type: 'summary', ...tally }, `station stopped: ${tallyText(tally)}`);
  if (aborted) throw new OtaError('ABORTED', `station aborted: updates in progress were stopped (${tallyText(tally)})`);
  const firstFailed = records.find((r) => !r.ok);
  if (args.count !== undefined && firstFailed && firstFailed.code !== 'OK') {
    throw new OtaError(firstFailed.code, `station: ${tally.failed} of ${records.length} devices failed; first: ${firstFailed.port}: ${firstFailed.message ?? firstFailed.code}`);
  }
}

export const stationCommand: CommandModule<object, StationArgs> = {
  command: 'station <image>',
  describe: 'Factory bench: watch serial ports and update every device that is plugged in, once per plug-in',
  builder: (y) =>
    withPushOptions(y, (a) => a
      .option('poll', { type: 'number', default: 500, describe: 'milliseconds between looks for new ports' })
      .option('count', { type: 'number', describe: 'stop after this many devices (default: run until Ctrl-C)' })
      .option('reboot-grace', { type: 'number', default: 10, describe: 'with --reboot: seconds in which a port that vanishes and returns is the same board restarting, not a new one' })
      .group(['poll', 'count', 'reboot-grace'], 'Station:'))
      .example("$0 station app.enc --ports '/dev/ttyUSB*' --report line3.ndjson", 'update each board as it is plugged in; one report line per board')
      .example("$0 station app.enc --ports '/dev/serial/by-path/*usb*' --reboot --json", 'stable port names per USB socket; NDJSON for a dashboard')
      .epilog([
        'A port gets one push when it appears; it is pushed to again only after it disappears and comes back (a new board).',
        'Ctrl-C once: take no new boards and let updates in progress finish (exit 0). Twice: abort them cleanly; each device keeps its current firmware (exit 130).',
        'With --count N the station stops by itself after N devices and exits 0 if all were updated, else with the status of the first device that failed (see README "Exit codes").',
      ].join('\n\n')),
  handler: (args) => runStationCommand(args),
};
