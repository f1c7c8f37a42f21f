#!/usr/bin/env node
// Measures a 1 MiB push over the simulated ESP32 (in-process, paced in-memory UART), in real
// time: the push time, effective rate and retries for each device configuration. Not a test.
//   npm run build && node scripts/sim-push-1mib.mjs [--baud 921600] [--size 1048576]
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = (p) => join(root, 'dist', p);
const { systemClock } = await import(dist('clock.js'));
const { createFlashImage, createSimLink, readDeviceState } = await import(dist('device-sim/index.js'));
const { buildAppImage, encryptImage, loadDecryptionKey, loadEncryptionKey } = await import(dist('image/index.js'));
const { push } = await import(dist('session/index.js'));

const { values } = parseArgs({ options: { baud: { type: 'string', default: '921600' }, size: { type: 'string', default: String(1024 * 1024) } } });
const baud = Number(values.baud);
const keyDir = join(root, 'assets', 'test-keys');
const priv = loadDecryptionKey(readFileSync(join(keyDir, 'demo-device-rsa3072.TEST-KEY-ONLY.pem')));
const pub = loadEncryptionKey(readFileSync(join(keyDir, 'demo-device-rsa3072.TEST-KEY-ONLY.pub.pem')));
const plain = buildAppImage({ version: '9.9.9-bench', size: Number(values.size) });
const image = encryptImage(plain, pub);

const configs = [
  { name: 'instant flash (the --port sim default)', flashTiming: 'instant', iramUart: true },
  { name: 'ESP32 flash timing, IRAM-safe UART ISR', flashTiming: 'esp32', iramUart: true },
  { name: 'ESP32 flash timing, UART ISR in flash (blackouts)', flashTiming: 'esp32', iramUart: false },
];

console.log(`push of ${image.length} bytes (app ${plain.length} B) at ${baud} baud; line limit ${(baud / 10 / 1024).toFixed(1)} KiB/s`);
for (const c of configs) {
  const flash = createFlashImage();
  const sim = createSimLink({ flash, key: priv, clock: systemClock, flashTiming: c.flashTiming, iramUart: c.iramUart });
  const t0 = performance.now();
  const r = await push({ image, open: async () => sim.host, clock: systemClock, baud });
  const s = (performance.now() - t0) / 1000;
  const ok = flash.read(0x110000, plain.length).equals(plain) && readDeviceState(flash, { chipRev: 300 }).bootLabel === 'ota_0';
  const st = sim.device.stats;
  console.log(`${c.name}:\n  ${s.toFixed(2)} s total, ${(r.bytesSent / 1024 / r.seconds).toFixed(1)} KiB/s average (handshake, key unwrap and verify included), retries ${r.retries}, timeouts ${r.timeouts}, CRC errors ${r.crcErrors}, device busy ${(st.flashBusyMs / 1000).toFixed(2)} s, overruns ${st.overrunBytes} B, ${ok ? 'exact image boots' : 'IMAGE MISMATCH'}`);
  await sim.close();
}
