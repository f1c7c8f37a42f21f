/** Reading an FTDI adapter's latency timer from sysfs (transport/latency-timer.ts), on a fake /sys. */
import { describe, expect, it } from 'vitest';
import { latencyTimerHint, latencyTimerOf } from '../../src/transport/latency-timer.js';

const files: Record<string, string> = {
  '/sys/bus/usb-serial/devices/ttyUSB3/latency_timer': '16\n',
  '/sys/bus/usb-serial/devices/ttyUSB4/latency_timer': 'garbage\n',
};
const links: Record<string, string> = {
  '/dev/serial/by-id/usb-FTDI_FT232R_USB_UART_A50285BI-if00-port0': '/dev/ttyUSB3',
};
const fs = {
  resolve: (p: string): string => {
    if (p in links) return links[p]!;
    if (p.startsWith('/dev/')) return p;
    throw Object.assign(new Error(`ENOENT: ${p}`), { code: 'ENOENT' });
  },
  read: (p: string): string => {
    if (p in files) return files[p]!;
    throw Object.assign(new Error(`ENOENT: ${p}`), { code: 'ENOENT' });
  },
};

describe('latencyTimerOf', () => {
  it('reads the timer of a ttyUSB port, also through a /dev/serial/by-id link', () => {
    expect(latencyTimerOf('/dev/ttyUSB3', fs)).toEqual({ ms: 16, file: '/sys/bus/usb-serial/devices/ttyUSB3/latency_timer' });
    expect(latencyTimerOf('/dev/serial/by-id/usb-FTDI_FT232R_USB_UART_A50285BI-if00-port0', fs)?.ms).toBe(16);
  });

  it('says nothing for ports without one (CP210x via another driver, CDC-ACM, a pty) or with an unreadable value', () => {
    expect(latencyTimerOf('/dev/ttyUSB0', fs)).toBeUndefined(); // no latency_timer: not ftdi_sio
    expect(latencyTimerOf('/dev/ttyACM0', fs)).toBeUndefined();
    expect(latencyTimerOf('/dev/pts/7', fs)).toBeUndefined();
    expect(latencyTimerOf('/dev/ttyUSB4', fs)).toBeUndefined();
    expect(latencyTimerOf('/no/such/port', fs)).toBeUndefined();
  });
});

describe('latencyTimerHint', () => {
  const t = { ms: 16, file: '/sys/bus/usb-serial/devices/ttyUSB3/latency_timer' };
  it('names the port, the timer and the command, at rates where it matters', () => {
    const h = latencyTimerHint('/dev/ttyUSB3', t, 921600);
    expect(h).toMatch(/^\/dev\/ttyUSB3 is an FTDI adapter with a 16 ms latency timer/);
    expect(h).toContain(`echo 1 | sudo tee ${t.file}`);
  });
  it('is silent at 1 ms, below 460800 baud, or without a timer', () => {
    expect(latencyTimerHint('/dev/ttyUSB3', { ...t, ms: 1 }, 3_000_000)).toBeUndefined();
    expect(latencyTimerHint('/dev/ttyUSB3', t, 230400)).toBeUndefined();
    expect(latencyTimerHint('/dev/ttyUSB3', undefined, 3_000_000)).toBeUndefined();
  });
});
