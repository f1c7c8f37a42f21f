/**
 * Advice after a push over a noisy line: a smaller `--chunk`.
 *
 * A flipped bit costs the whole chunk it lands in, so the share of chunks resent grows with the
 * chunk size, and on a bad line (a long or unshielded cable, a noisy fixture) 1 KiB chunks spend
 * more time being resent than being sent once. A smaller chunk loses less per error but may also
 * make the window smaller (credit is at most 64 chunks and the device's window, SPEC §4.5), which
 * starves a link whose round trip is long at its rate. In loss-sweep.ts runs (virtual time, 1 MiB,
 * measured with 1 KiB chunks and a 32-chunk credit cap, before push chose 512 by default):
 * - BER 3e-5, 1 ms: about 28 % resent with 1 KiB; 256-byte chunks gave 1.15x (3 Mbaud) and 1.15x
 *   (921600) the speed;
 * - BER 5e-5, 921600 + 16 ms: 256 gave 1.20x; at 3 Mbaud + 16 ms 32 chunks of 512 no longer
 *   covered the round trip and 512 was slower (0.89x): no advice where the window would not;
 * - BER 1e-4, 115200 + 16 ms: 256 gave 1.79x;
 * - BER 1e-5 (8-9 % resent): 1 KiB is right, no advice.
 */

import { creditChunks } from '../protocol/index.js';

/** Below this share of chunks resent, the chunk size is not what slows the push. */
export const ADVISE_RESENT_SHARE = 0.2;
/** The window with the smaller chunk must still last this many round trips at the line rate. */
const WINDOW_ROUND_TRIPS = 1.25;
const CANDIDATES = [256, 512] as const;

export interface ChunkAdviceInput {
  chunk: number;
  /** Chunks resent in the data phase. */
  retries: number;
  /** Bytes streamed (each chunk once). */
  bytesSent: number;
  baud: number;
  /** Smoothed round trip of the data phase (ms). */
  roundTripMs: number;
  /** The device's receive window (HELLO_ACK.window, bytes). */
  window: number;
}

/** The chunk size to suggest, or undefined when the current one is the better choice. */
export function smallerChunkAdvice(i: ChunkAdviceInput): number | undefined {
  const chunks = Math.ceil(i.bytesSent / Math.max(1, i.chunk));
  if (chunks === 0 || i.retries / chunks < ADVISE_RESENT_SHARE || !(i.roundTripMs > 0) || !(i.baud > 0)) return undefined;
  // Credit of min(window, 64 chunks) of c bytes lasts that many bytes * 10 / baud seconds on the wire.
  const needBytes = (WINDOW_ROUND_TRIPS * i.roundTripMs * i.baud) / (10 * 1000);
  const windowBytes = (c: number): number => creditChunks(i.window, c) * c;
  return CANDIDATES.find((c) => c < i.chunk && windowBytes(c) >= needBytes);
}
