/**
 * Many devices at once (a factory fixture with several boards): one independent push() per port,
 * concurrently, each with its own reporter, ending in one DeviceRecord per port. A failing device
 * never stops the others; the caller decides what the set means (exitStatusOf).
 */
import { systemClock } from '../clock.js';
import type { Reporter } from '../reporter.js';
import type { Transport } from '../transport/transport.js';
import { deviceRecord, RecordCollector, type DeviceRecord } from './push-record.js';
import { push, type PushOptions, type PushResult } from './push.js';
import { OtaError, toOtaError } from '../errors.js';

export interface PushTarget {
  /** Names the port in records and messages ("/dev/ttyUSB0"). */
  port: string;
  open: () => Promise<Transport>;
}

export type DevicePushOptions = Omit<PushOptions, 'open' | 'portLabel' | 'reporter'>;

export interface DeviceOutcome {
  record: DeviceRecord;
  /** The full result of a successful push. */
  result?: PushResult;
  /** What ended a failed push. */
  error?: OtaError;
}

/** Pushes to one target and always resolves (a failure becomes a failed record). */
export async function pushToTarget(target: PushTarget, o: DevicePushOptions, reporter?: Reporter): Promise<DeviceOutcome> {
  const clock = o.clock ?? systemClock;
  const collector = new RecordCollector(reporter);
  const t0 = clock.now();
  try {
    const result = await push({ ...o, open: target.open, portLabel: target.port, reporter: collector });
    return { record: deviceRecord(target.port, { result }, collector, clock.now() - t0, o.imageName), result };
  } catch (e) {
    const error = toOtaError(e);
    return { record: deviceRecord(target.port, { error }, collector, clock.now() - t0, o.imageName), error };
  }
}

export interface PushManyOptions extends DevicePushOptions {
  targets: readonly PushTarget[];
  /** Reporter for one port's events (one progress row each, NDJSON with the port...). */
  reporterFor?: (port: string) => Reporter;
  /** Largest number of pushes running at once. Default: all. */
  concurrency?: number;
  /** Called as each device finishes (a report file gets its line before the others are done). */
  onRecord?: (r: DeviceRecord) => void;
}

/** Pushes the same image to every target; resolves to the records in target order. */
export async function pushMany(o: PushManyOptions): Promise<DeviceRecord[]> {
  const { targets, reporterFor, concurrency, onRecord, ...rest } = o;
  const records: DeviceRecord[] = new Array(targets.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < targets.length) {
      const i = next++;
      const t = targets[i]!;
      const { record: r } = await pushToTarget(t, rest, reporterFor?.(t.port));
      records[i] = r;
      onRecord?.(r);
    }
  };
  const n = Math.max(1, Math.min(concurrency ?? targets.length, targets.length));
  await Promise.all(Array.from({ length: n }, worker));
  return records;
}

/**
 * Exit status for a set of pushes: 0 when every device succeeded, else the status of the first
 * failed device in target order (the order given on the command line), so the status is stable
 * from run to run; every device's own status is in its record.
 */
export function exitStatusOf(records: readonly DeviceRecord[]): number {
  return records.find((r) => !r.ok)?.exitStatus ?? 0;
}
