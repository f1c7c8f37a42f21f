/**
 * Injected output. The library reports what happens through typed events; the CLI decides how to
 * show them (progress bar, plain lines, NDJSON). The library never writes to the console itself.
 */
export interface Reporter {
  event(e: ReportEvent): void;
}

export type ReportEvent =
  | { type: 'log'; level: 'debug' | 'info' | 'warn'; message: string }
  | { type: string; [key: string]: unknown };

export const silentReporter: Reporter = { event: () => {} };

/** Collects events in memory (tests, library users who want the log afterwards). */
export class MemoryReporter implements Reporter {
  readonly events: ReportEvent[] = [];
  event(e: ReportEvent): void {
    this.events.push(e);
  }
  ofType(type: string): ReportEvent[] {
    return this.events.filter((e) => e.type === type);
  }
}
