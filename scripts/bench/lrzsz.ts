/**
 * ZMODEM (`sz` -> `rz`) and XMODEM-1K (`sx -k` -> `rx -c`) from lrzsz across the link emulator:
 * the sender on side A, the receiver on side B, each with its pty as stdin and stdout and the pty
 * set to the bench's baud rate (lrzsz reads it for its own timeouts and block sizes). The received
 * file must hash to the image's sha256.
 */
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { BenchImage } from './image.js';
import { sha256 } from './image.js';
import { faultCounts, linkSeconds, waitForBtoA, type RunResult } from './measure.js';
import { sleep, startChild, waitExit } from './proc.js';
import type { PtyLink } from './pty-link.js';

export type LrzszTool = 'zmodem' | 'xmodem1k';

export interface LrzszOptions {
  link: PtyLink;
  image: BenchImage;
  workDir: string;
  /** Give up (and fail the row) after this long. */
  timeoutMs: number;
  latencyMs: number;
}

/** `sh -c` script: open the pty read-write on stdin and stdout, set its speed, become the tool. */
function onPty(baud: number, tool: string[]): string[] {
  const quoted = tool.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  return ['-c', `exec 0<>"$1" 1>&0 && stty ${baud} raw -echo && exec ${quoted}`, 'sh'];
}

export async function runLrzsz(tool: LrzszTool, o: LrzszOptions): Promise<RunResult> {
  const { link, image } = o;
  const rcvDir = mkdtempSync(join(o.workDir, `${tool}-`));
  const outName = tool === 'zmodem' ? basename(image.path) : 'received.bin';
  const receiverCmd = tool === 'zmodem' ? ['rz', '-y', '-q'] : ['rx', '-c', '-q', outName];
  const senderCmd = tool === 'zmodem' ? ['sz', '-q', image.path] : ['sx', '-k', '-q', image.path];

  const receiver = startChild('sh', [...onPty(link.baud, receiverCmd), link.pathB], { cwd: rcvDir });
  // rz announces itself with ZRINIT, rx with 'C'; the sender then finds it waiting in its input.
  if (!(await waitForBtoA(link, 3000))) {
    await receiver.stop();
    return fail(`${receiverCmd[0]} did not start: ${receiver.stderr().trim()}`);
  }
  link.resetTimes();
  const sender = startChild('sh', [...onPty(link.baud, senderCmd), link.pathA]);
  // The transfer is over when either side leaves: sz after ZFIN/"OO", rx after ACKing EOT. The
  // other side may linger on a timeout (rz re-sending ZFIN for 20 s when the final "OO" is lost,
  // sx waiting for an ACK it flushed), which is not part of moving the file.
  let timer: NodeJS.Timeout | undefined;
  const first = await Promise.race([
    sender.exited.then(() => 'sender' as const),
    receiver.exited.then(() => 'receiver' as const),
    new Promise<'timeout'>((resolve) => { timer = setTimeout(() => resolve('timeout'), o.timeoutMs); }),
  ]);
  clearTimeout(timer); // a pending timer would keep the bench process alive for minutes
  // Let the last word cross the link before reading the clock.
  await sleep(o.latencyMs + 30);
  const seconds = linkSeconds(link);
  const faults = faultCounts(link);
  const r = await waitExit(receiver, 1500);
  const s = await waitExit(sender, 1500);
  const notes: string[] = [];
  if (first === 'timeout') notes.push(`no side finished within ${Math.round(o.timeoutMs / 1000)} s`);
  if (!r.timedOut && r.code !== 0) notes.push(`${receiverCmd[0]} exit ${r.code}`);
  if (!s.timedOut && s.code !== 0) notes.push(`${senderCmd[0]} exit ${s.code}`);

  const outPath = join(rcvDir, outName);
  const got = existsSync(outPath) ? readFileSync(outPath) : undefined;
  const intact = got !== undefined && sha256(got) === image.sha256;
  if (!intact) {
    notes.push(!got ? 'no file received'
      : got.length < image.bytes ? `incomplete: ${got.length} of ${image.bytes} bytes received`
        : `received ${got.length} bytes that do not match the image`);
  }
  // A straggling sender (sx waiting for an ACK it purged) does not make a delivered file wrong.
  // A straggler stopped after the other side finished does not make a delivered file wrong.
  const ok = intact && first !== 'timeout' && (r.timedOut || r.code === 0) && (s.timedOut || s.code === 0);
  if (process.env['BENCH_DEBUG']) console.error(`${tool}: first out ${first}, receiver ${JSON.stringify(r)}, sender ${JSON.stringify(s)}`);
  return { ok, seconds, ...faults, ...(notes.length > 0 && { note: notes.join('; ') }) };
}

function fail(note: string): RunResult {
  return { ok: false, seconds: Number.NaN, note, flippedBits: 0, droppedBytes: 0 };
}
