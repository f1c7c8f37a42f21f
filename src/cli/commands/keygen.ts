/**
 * `ota-uart keygen --scheme rsa|ecies --out DIR`: real keys (not test keys), named like Espressif's
 * generator writes them, and a note on where each file goes: the secret half to the device, the
 * public half to the build server that runs `ota-uart encrypt`.
 */
import { createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { CommandModule } from 'yargs';
import { OtaError } from '../../errors.js';
import { deriveEciesScalar, eciesKeyFromScalar } from '../../image/index.js';
import { ensureDir, refuseExisting, writeFileAtomic } from '../io.js';
import { emit } from '../output.js';

export interface KeygenArgs {
  scheme: 'rsa' | 'ecies';
  out: string;
  json?: boolean;
}

export interface KeyFile {
  path: string;
  goesTo: 'device' | 'build-server';
  what: string;
  howTo: string;
}

export interface KeygenResult {
  scheme: 'rsa' | 'ecies';
  files: KeyFile[];
}

interface Material {
  name: string;
  data: Buffer;
  secret: boolean;
  goesTo: KeyFile['goesTo'];
  what: string;
  howTo: string;
}

function rsaMaterial(): Material[] {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 3072, publicExponent: 65537 });
  return [
    {
      name: 'rsa_priv_key.pem',
      data: Buffer.from(privateKey.export({ type: 'pkcs1', format: 'pem' })),
      secret: true,
      goesTo: 'device',
      what: 'RSA-3072 private key',
      howTo: 'embed in the firmware (esp_decrypt_cfg_t.rsa_priv_key); keep it secret, off the build server',
    },
    {
      name: 'rsa_pub_key.pem',
      data: Buffer.from(publicKey.export({ type: 'spki', format: 'pem' })),
      secret: false,
      goesTo: 'build-server',
      what: 'RSA-3072 public key',
      howTo: 'ota-uart encrypt app.bin --key rsa_pub_key.pem -o app.enc.bin',
    },
  ];
}

function eciesMaterial(): Material[] {
  // The device derives its P-256 key from the HMAC key; a derived scalar >= n is (astronomically)
  // rare: redraw then, and only then (a bounded loop, so a real error can never spin forever).
  for (let attempt = 0; ; attempt++) {
    const hmacKey = randomBytes(32);
    let key: ReturnType<typeof eciesKeyFromScalar>;
    try {
      key = eciesKeyFromScalar(deriveEciesScalar(hmacKey));
    } catch (e) {
      if (attempt < 8) continue;
      throw e;
    }
    const pub = Buffer.from(createPublicKey(key.privateKey).export({ type: 'spki', format: 'pem' }));
    return [
      {
        name: 'device_hmac_key.bin',
        data: hmacKey,
        secret: true,
        goesTo: 'device',
        what: '32-byte ECIES device HMAC key',
        howTo: 'burn into an eFuse key block with purpose HMAC_UP (espefuse.py burn_key BLOCK_KEY2 device_hmac_key.bin HMAC_UP), then store it offline',
      },
      {
        name: 'device_pub_key.pem',
        data: pub,
        secret: false,
        goesTo: 'build-server',
        what: 'EC P-256 device public key',
        howTo: 'ota-uart encrypt app.bin --key device_pub_key.pem -o app.enc.bin',
      },
    ];
  }
}

export function runKeygen(args: KeygenArgs): KeygenResult {
  if (args.scheme !== 'rsa' && args.scheme !== 'ecies') {
    throw new OtaError('USAGE', `unknown scheme "${String(args.scheme)}"; use rsa or ecies`);
  }
  const names = args.scheme === 'rsa' ? ['rsa_priv_key.pem', 'rsa_pub_key.pem'] : ['device_hmac_key.bin', 'device_pub_key.pem'];
  for (const n of names) refuseExisting(join(args.out, n)); // all or nothing: check both first
  ensureDir(args.out);
  const material = args.scheme === 'rsa' ? rsaMaterial() : eciesMaterial();
  const files: KeyFile[] = [];
  for (const m of material) {
    const path = join(args.out, m.name);
    writeFileAtomic(path, m.data, { mode: m.secret ? 0o600 : 0o644 });
    files.push({ path, goesTo: m.goesTo, what: m.what, howTo: m.howTo });
  }
  return { scheme: args.scheme, files };
}

export function formatKeygen(r: KeygenResult): string {
  const lines = [`generated ${r.scheme === 'rsa' ? 'an RSA-3072' : 'an ECIES P-256'} key pair:`];
  for (const f of r.files) {
    lines.push(`  ${f.path}`, `      ${f.what} -> ${f.goesTo === 'device' ? 'DEVICE' : 'BUILD SERVER'}: ${f.howTo}`);
  }
  const secret = r.files.find((f) => f.goesTo === 'device');
  if (secret) lines.push(`decrypt or inspect locally with ${r.scheme === 'rsa' ? '--key' : '--hmac-key'} ${secret.path}`);
  return lines.join('\n');
}

export const keygenCommand: CommandModule<object, KeygenArgs> = {
  command: 'keygen',
  describe: 'Generate a key pair for pre-encrypted OTA (RSA-3072, or an ECIES device HMAC key + public key)',
  builder: (y) =>
    y
      .option('scheme', { choices: ['rsa', 'ecies'] as const, demandOption: true, describe: 'rsa: key wrapped with RSA-3072; ecies: P-256 key derived from an eFuse HMAC key' })
      .option('out', { type: 'string', demandOption: true, describe: 'directory for the two files (created if missing; existing files are never overwritten)' })
      .example('$0 keygen --scheme rsa --out keys/', 'writes keys/rsa_priv_key.pem (device) and keys/rsa_pub_key.pem (build server)')
      .example('$0 keygen --scheme ecies --out keys/', 'writes keys/device_hmac_key.bin (device eFuse) and keys/device_pub_key.pem (build server)'),
  handler: (args) => {
    const r = runKeygen(args);
    emit(args.json, r, () => formatKeygen(r));
  },
};
