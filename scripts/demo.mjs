#!/usr/bin/env node
// `npm run demo`: the whole story on the built-in simulated ESP32, no hardware needed.
// Makes a throwaway key and a sample app, encrypts it, pushes it to `--port sim`, shows the result.
// Every step is a real `ota-uart` command, printed before it runs, so you can copy them.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const cli = join(root, 'dist', 'cli', 'main.js');
const { buildAppImage } = await import(join(root, 'dist', 'image', 'index.js'));

const dir = mkdtempSync(join(tmpdir(), 'ota-uart-demo-'));
const rel = (p) => p.replace(dir, '$DEMO');
let failed = false;

function run(title, args) {
  console.log(`\n== ${title}\n$ ota-uart ${args.map(rel).join(' ')}`);
  const r = spawnSync(process.execPath, [cli, ...args], { stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`demo: step "${title}" failed with exit status ${r.status}`);
    failed = true;
    throw new Error('stop');
  }
}

try {
  console.log(`ota-uart demo (working files in ${dir}, shown as $DEMO)`);
  run('1. make a throwaway RSA-3072 device key', ['keygen', '--scheme', 'rsa', '--out', join(dir, 'keys')]);
  const app = join(dir, 'app.bin');
  writeFileSync(app, buildAppImage({ version: '2.0.0-demo', projectName: 'ota_uart_demo', secureVersion: 0, size: 192 * 1024 }));
  console.log(`\n== 2. a sample ESP32 app (192 KiB, version 2.0.0-demo) was written to $DEMO/app.bin`);
  run('3. check it', ['inspect', app]);
  const enc = join(dir, 'app.enc.bin');
  run('4. encrypt it for the device (what the build server does)', ['encrypt', app, '--key', join(dir, 'keys', 'rsa_pub_key.pem'), '-o', enc]);
  const sim = ['--port', 'sim', '--sim-key', join(dir, 'keys', 'rsa_priv_key.pem'), '--sim-flash', join(dir, 'flash.bin')];
  run('5. the simulated ESP32 before the update', ['info', ...sim]);
  run('6. push it over the (simulated) UART at 921600 baud', ['push', enc, ...sim, '--baud', '921600']);
  run('7. the simulated ESP32 after the update', ['info', ...sim]);
  console.log('\nDone. On hardware: ota-uart push app.enc.bin --port /dev/ttyUSB0');
} catch (e) {
  if (!failed) throw e;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
process.exitCode = failed ? 1 : 0;
