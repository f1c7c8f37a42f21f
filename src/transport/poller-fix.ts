/**
 * Workaround for the full-duplex stall in @serialport/bindings-cpp 13.0.0 (toolchain-notes §2.4).
 *
 * The native `Poller::poll()` ORs a new event into its mask but then calls `uv_poll_start` with
 * only the new event, so a pending 'writable' wait is dropped when a read starts polling for
 * 'readable' (and vice versa). A writer blocked on EAGAIN then waits forever if the peer goes
 * quiet: both sides of a windowed protocol can stall for good. We keep the prebuilt binary and
 * make the JS side always ask for every event somebody is still waiting on.
 *
 * Depends on the internal path `dist/poller`, which is why package.json pins bindings-cpp exactly
 * (dependency and override). Set OTA_UART_NO_POLLER_FIX=1 to run without it (only to show that the
 * duplex test catches the stall).
 */
import { createRequire } from 'node:module';

interface PollerModule {
  EVENTS: { UV_READABLE: number; UV_WRITABLE: number; UV_DISCONNECT: number };
  Poller: {
    prototype: {
      poll(this: PollerLike, flag?: number): void;
      __otaUartFixed?: boolean;
    };
  };
}

interface PollerLike {
  listenerCount(event: string): number;
}

let applied = false;

/** Patches the poller once per process. Returns whether the fix is active. */
export function applyPollerFix(): boolean {
  if (applied) return true;
  if (process.env['OTA_UART_NO_POLLER_FIX'] === '1') return false;
  const require = createRequire(import.meta.url);
  // No "exports" map in bindings-cpp, so the deep path resolves to the very module instance that
  // serialport's Linux/macOS binding uses.
  const { Poller, EVENTS } = require('@serialport/bindings-cpp/dist/poller') as PollerModule;
  const proto = Poller.prototype;
  if (!proto.__otaUartFixed) {
    const original = proto.poll;
    proto.poll = function poll(this: PollerLike, flag = 0): void {
      let want = flag;
      if (this.listenerCount('readable') > 0) want |= EVENTS.UV_READABLE;
      if (this.listenerCount('writable') > 0) want |= EVENTS.UV_WRITABLE;
      if (this.listenerCount('disconnect') > 0) want |= EVENTS.UV_DISCONNECT;
      original.call(this, want);
    };
    proto.__otaUartFixed = true;
  }
  applied = true;
  return true;
}

export function pollerFixActive(): boolean {
  return applied;
}
