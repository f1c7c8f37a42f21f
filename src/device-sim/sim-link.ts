/**
 * The simulated device on an in-memory UART (what `--port sim` and the tests use): a paced memory
 * link (transport/memory.ts: bytes take 10 bit times each at the current rate of their sender, so
 * the device never receives faster than the baud) with the device attached to one end.
 */
import { createMemoryLink, type LinkDirectionOptions, type MemoryLink, type MemoryTransport } from '../transport/memory.js';
import type { Clock } from '../clock.js';
import type { SimDeviceOptions } from './device-core.js';
import { SimDevice } from './sim-device.js';

export interface SimLinkWireOptions {
  /** Pace bytes at the line rate (default true). False delivers at once (fast unit tests). */
  pace?: boolean;
  /** Faults, latency, fragmentation of what the host sends (see link-model.ts). */
  hostToDevice?: LinkDirectionOptions;
  /** ... and of what the device sends. */
  deviceToHost?: LinkDirectionOptions;
}

export interface SimConnection {
  /** The host end. */
  host: MemoryTransport;
  link: MemoryLink;
  /** Detaches the device and closes both ends. */
  close(): Promise<void>;
}

/**
 * Plugs a new cable into `device`. The link starts at the device's current line rate (a host that
 * opens a port at the wrong rate only sees noise, which tests of the baud switch do on purpose by
 * changing the host end's rate).
 */
export function connectSim(device: SimDevice, o: { clock: Clock; link?: SimLinkWireOptions }): SimConnection {
  const pace = o.link?.pace ?? true;
  const link = createMemoryLink({
    clock: o.clock,
    baud: device.baud,
    aToB: { pace, ...o.link?.hostToDevice },
    bToA: { pace, ...o.link?.deviceToHost },
  });
  const [host, dev] = link;
  device.attach(dev);
  return {
    host,
    link,
    close: async () => {
      device.detach();
      await host.close();
      await dev.close();
    },
  };
}

export interface SimLinkOptions extends SimDeviceOptions {
  link?: SimLinkWireOptions;
}

/** A new simulated device and a cable to it. */
export function createSimLink(o: SimLinkOptions): { host: MemoryTransport; device: SimDevice; link: MemoryLink; close(): Promise<void> } {
  const device = new SimDevice(o);
  const c = connectSim(device, { clock: o.clock, link: o.link });
  return { host: c.host, device, link: c.link, close: c.close };
}
