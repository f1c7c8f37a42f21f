/**
 * `ota-uart simulate --port unix:PATH | tcp:[HOST:]PORT`: the simulated device behind a listening
 * socket instead of a tty. A relay makes the host's side a plain pty:
 *   socat pty,raw,echo=0,link=/tmp/host UNIX-CONNECT:/tmp/sim.sock
 * Like a board on a UART it has one peer at a time: a second connection is refused while the first
 * is open. When the peer goes away the device keeps running (RAM session included, as when a cable
 * is pulled) and waits for the next connection.
 */
import type { Clock } from '../clock.js';
import { pacePort, unpacedPort, type PacedPort } from '../device-sim/paced-port.js';
import type { SimDevice } from '../device-sim/index.js';
import { listenSocket, type SocketAddress } from '../transport/socket.js';

export interface SimListener {
  /** Stops listening and drops the current peer, if any. */
  close(): Promise<void>;
}

export async function listenForHosts(
  addr: SocketAddress,
  device: SimDevice,
  o: { clock: Clock; pace: boolean; log: (line: string) => void },
): Promise<SimListener> {
  let current: { port: PacedPort; name: string } | undefined;
  const listener = await listenSocket(addr, device.baud, (t, name) => {
    if (current) {
      o.log(`simulate: ${name} refused: ${current.name} is still open (a UART has one peer)`);
      void t.close();
      return;
    }
    // A socket has no line rate to set: pacing, when on, is all in the pacer.
    const port = o.pace ? pacePort(t, o.clock, { osBaud: false }) : unpacedPort(t);
    const mine = { port, name };
    current = mine;
    port.addCloseListener(() => {
      if (current !== mine) return;
      current = undefined;
      device.detach();
      o.log(`simulate: ${name} closed; waiting for the next`);
    });
    device.attach(port);
    o.log(`simulate: ${name} open`);
  });
  return {
    close: async () => {
      const c = current;
      current = undefined;
      if (c) {
        device.detach();
        await c.port.close().catch(() => {});
      }
      await listener.close();
    },
  };
}
