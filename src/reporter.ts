/**
 * Injected output. The library reports what happens through typed events; the CLI decides how to
 * show them (progress bar, plain lines, NDJSON). The library never writes to the console itself.
 */
import type { PushEvent } from './session/events.js';
import type { StationEvent } from './session/station.js';

export type ReportEvent = PushEvent | StationEvent;
export type ReportEventType = ReportEvent['type'];

export interface Reporter {
  event(e: ReportEvent): void;
}

export const silentReporter: Reporter = { event: () => {} };

/** Collects events in memory (tests, library users who want the log afterwards). */
export class MemoryReporter implements Reporter {
  readonly events: ReportEvent[] = [];
  event(e: ReportEvent): void {
    this.events.push(e);
  }
  ofType<T extends ReportEventType>(type: T): Extract<ReportEvent, { type: T }>[] {
    return this.events.filter((e): e is Extract<ReportEvent, { type: T }> => e.type === type);
  }
}
