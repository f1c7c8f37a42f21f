/**
 * The simulated device's counters: the ones the handlers keep, plus the frame decoder's and the
 * UART's, which live in RAM and are carried over each reset so every counter is cumulative.
 */
import { newDecoderCounters, type DecoderCounters } from '../protocol/index.js';
import type { SimStats } from './device-core.js';
import type { FaultModel } from './faults.js';
import type { UartRxCounters } from './uart-rx.js';

const STAT_KEYS = [
  'rxBytes', 'txBytes', 'frames', 'txFrames', 'noiseBytes', 'tooLong', 'badCobs', 'tooShort', 'badCrc', 'otherVersions',
  'badPayload', 'ignoredReplies', 'unsupported', 'dataFrames', 'consumed', 'duplicates', 'outOfOrder', 'badRequests', 'creditViolations',
  'noSession', 'acks', 'busyAcks', 'begins', 'resumes', 'resumesFromFlash', 'results', 'refusals', 'aborts',
  'resets', 'overrunBytes', 'overruns', 'ringOverflowBytes', 'ringHighWater', 'bytesLostInReset', 'flashOps',
  'flashBusyMs', 'records', 'sectorRewrites', 'stalls', 'garbageBursts', 'faultFlippedBits', 'faultDroppedBytes',
  'baudSwitches', 'baudFallbacks', 'internalErrors',
] as const satisfies readonly (keyof SimStats)[];

export function zeroStats(): SimStats {
  return Object.fromEntries(STAT_KEYS.map((k) => [k, 0])) as SimStats;
}

export class CarriedCounters {
  private readonly decoder: DecoderCounters = newDecoderCounters();
  private readonly uart: UartRxCounters = { overrunBytes: 0, overruns: 0, ringOverflowBytes: 0, ringHighWater: 0 };

  /** Adds the counters of RAM that a reset is about to throw away. */
  carry(d: DecoderCounters, u: UartRxCounters): void {
    for (const k of Object.keys(this.decoder) as (keyof DecoderCounters)[]) this.decoder[k] += d[k];
    this.uart.overrunBytes += u.overrunBytes;
    this.uart.overruns += u.overruns;
    this.uart.ringOverflowBytes += u.ringOverflowBytes;
    this.uart.ringHighWater = Math.max(this.uart.ringHighWater, u.ringHighWater);
  }

  /** Everything, cumulative: `own` (handler counters) with the current RAM counters added on top. */
  snapshot(own: SimStats, d: DecoderCounters, u: UartRxCounters, faults: FaultModel): SimStats {
    const b = this.decoder;
    const ub = this.uart;
    return {
      ...own,
      frames: b.frames + d.frames, noiseBytes: b.noiseBytes + d.noiseBytes, tooLong: b.tooLong + d.tooLong,
      badCobs: b.badCobs + d.badCobs, tooShort: b.tooShort + d.tooShort, badCrc: b.badCrc + d.badCrc,
      overrunBytes: ub.overrunBytes + u.overrunBytes, overruns: ub.overruns + u.overruns,
      ringOverflowBytes: ub.ringOverflowBytes + u.ringOverflowBytes, ringHighWater: Math.max(ub.ringHighWater, u.ringHighWater),
      garbageBursts: faults.garbageBursts, stalls: faults.stalls,
      faultFlippedBits: faults.stats.flippedBits, faultDroppedBytes: faults.stats.dropped,
    };
  }
}
