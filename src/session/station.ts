/**
 * Station mode (a factory bench): watch for ports that appear, push once to each newly attached
 * device, keep a tally, and push to a port again only after a re-plug (it disappeared and came
 * back). Port discovery and opening are injected, so the same loop runs over real /dev globs and
 * over in-memory devices in tests.
 *
 * Stopping: `stop` (the first Ctrl-C) stops taking new devices and lets pushes in flight finish;
 * `signal` (the second Ctrl-C) aborts them, which sends ABORT so each device keeps its firmware.
 */
import { systemClock, type Clock } from '../clock.js';
import type { Reporter } from '../reporter.js';
import type { Transport } from '../transport/transport.js';
import { pushToTarget, type DevicePushOptions } from './push-many.js';
import type { DeviceRecord } from './push-record.js';

export interface StationTally {
  ok: number;
  failed: number;
  /** Pushes running now. */
  active: number;
}

export type StationEvent =
  | { type: 'attached'; port: string }
  | { type: 'detached'; port: string }
  | { type: 'device'; record: DeviceRecord; tally: StationTally }
  | { type: 'stopping'; active: number };

export interface StationOptions extends Omit<DevicePushOptions, 'signal'> {
  /** The ports present now (e.g. the matches of a glob). */
  listPorts: () => Promise<string[]>;
  openPort: (port: string) => Promise<Transport>;
  /** How often to look for new ports. Default 500 ms. */
  pollMs?: number;
  /** Wait after a port appears before opening it (udev sets permissions, the board boots). Default 300 ms. */
  settleMs?: number;
  /**
   * After a successful push with `reboot`, a port that vanishes and returns within this window is
   * the same board re-enumerating after its reset, not a re-plug. Default 10 s.
   */
  rebootGraceMs?: number;
  /** Stop after this many devices (ok or failed). Default: run until stopped. */
  maxDevices?: number;
  /** Station events: attached, detached, each device's record with the tally, stopping. */
  reporter?: Reporter;
  /** Reporter for one device's push events (progress rows, NDJSON). */
  reporterFor?: (port: string) => Reporter;
  /** Stop taking new devices; let pushes in flight finish. */
  stop?: AbortSignal;
  /** Abort pushes in flight (each sends ABORT). Also stops the station. */
  signal?: AbortSignal;
}

type PortState = { phase: 'settling' | 'pushing' | 'done'; present: boolean; finishedAt?: number; rebooted?: boolean };

export async function runStation(o: StationOptions): Promise<StationTally> {
  const clock: Clock = o.clock ?? systemClock;
  const pollMs = o.pollMs ?? 500;
  const graceMs = o.rebootGraceMs ?? 10_000;
  const tally: StationTally = { ok: 0, failed: 0, active: 0 };
  const ports = new Map<string, PortState>();
  const running = new Set<Promise<void>>();
  let started = 0;
  const say = (e: Parameters<Reporter['event']>[0]): void => o.reporter?.event(e);
  const stopped = (): boolean =>
    !!o.stop?.aborted || !!o.signal?.aborted || (o.maxDevices !== undefined && started >= o.maxDevices);

  const startPush = (port: string, st: PortState): void => {
    started++;
    tally.active++;
    const job = (async () => {
      await clock.sleep(o.settleMs ?? 300);
      st.phase = 'pushing';
      const { listPorts: _l, openPort: _o, pollMs: _p, settleMs: _s, rebootGraceMs: _g, maxDevices: _m, reporter: _r, reporterFor, stop: _st, ...pushOpts } = o;
      const { record } = await pushToTarget({ port, open: () => o.openPort(port) }, { ...pushOpts, clock }, reporterFor?.(port));
      tally.active--;
      if (record.ok) tally.ok++;
      else tally.failed++;
      st.phase = 'done';
      st.finishedAt = clock.now();
      st.rebooted = record.ok && !!o.reboot;
      // Unplugged during the push: forget it, so plugging it back in pushes again.
      if (!st.present) ports.delete(port);
      say({ type: 'device', record, tally: { ...tally } });
    })();
    running.add(job);
    void job.finally(() => running.delete(job));
  };

  while (!stopped()) {
    let present: Set<string>;
    try {
      present = new Set(await o.listPorts());
    } catch {
      present = new Set(); // a failing scan (e.g. /dev/serial/by-id vanishing) is "no ports"
    }
    for (const [port, st] of ports) {
      if (present.has(port)) {
        st.present = true;
        continue;
      }
      st.present = false;
      // Gone for good once its push is over, unless it is a board re-enumerating after our reboot.
      const rebooting = st.rebooted && clock.now() - (st.finishedAt ?? 0) < graceMs;
      if (st.phase === 'done' && !rebooting) {
        ports.delete(port);
        say({ type: 'detached', port });
      }
    }
    for (const port of [...present].sort()) {
      if (ports.has(port) || stopped()) continue;
      const st: PortState = { phase: 'settling', present: true };
      ports.set(port, st);
      say({ type: 'attached', port });
      startPush(port, st);
    }
    await sleepUnless(clock, pollMs, [o.stop, o.signal]);
  }
  if (running.size > 0) say({ type: 'stopping', active: running.size });
  while (running.size > 0) await Promise.all([...running]);
  return tally;
}

/** Sleeps `ms`, or less if any of the signals fires. */
function sleepUnless(clock: Clock, ms: number, signals: (AbortSignal | undefined)[]): Promise<void> {
  return new Promise((resolve) => {
    const live = signals.filter((s): s is AbortSignal => !!s);
    const done = (): void => {
      t.cancel();
      for (const s of live) s.removeEventListener('abort', done);
      resolve();
    };
    const t = clock.setTimer(ms, done);
    for (const s of live) {
      if (s.aborted) { done(); return; }
      s.addEventListener('abort', done, { once: true });
    }
  });
}
