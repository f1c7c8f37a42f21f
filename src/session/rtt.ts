/**
 * Round-trip estimation and retransmission timeout, after RFC 6298 (srtt, rttvar, RTO = srtt +
 * 4 rttvar, exponential backoff on timeouts). The backoff is capped so that a dead link is declared
 * dead in seconds, not minutes: MAX_STALLS timeouts at the cap bound the wait.
 */
export const MAX_RTO_MS = 2000;

export class RttEstimator {
  private s = 0;
  private v = 0;
  private mult = 1;

  constructor(private readonly minRto: number) {}

  get srtt(): number {
    return this.s;
  }

  sample(ms: number): void {
    if (!(ms >= 0)) return;
    if (this.s === 0) {
      this.s = ms;
      this.v = ms / 2;
    } else {
      this.v = 0.75 * this.v + 0.25 * Math.abs(this.s - ms);
      this.s = 0.875 * this.s + 0.125 * ms;
    }
  }

  rto(): number {
    const base = this.s === 0 ? 1000 : Math.max(this.minRto, this.s + 4 * this.v);
    return Math.min(MAX_RTO_MS, base * this.mult);
  }

  backoff(): void {
    this.mult = Math.min(this.mult * 2, 16);
  }

  resetBackoff(): void {
    this.mult = 1;
  }
}
