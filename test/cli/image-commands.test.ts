/**
 * The image commands as a user runs them. Most cases call the CLI's main() in-process (same
 * argument parsing, output and exit-status mapping, without a Node start-up per case); the help
 * texts and a few end-to-end cases run the built CLI (dist/cli/main.js, `npm run build` first) in
 * a child process to prove the real exit statuses.
 */
import { spawnSync } from 'node:child_process';
import { createECDH, createPublicKey, pbkdf2Sync, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { setOutput } from '../../src/cli/output.js';
import { EXIT_STATUS } from '../../src/errors.js';
import { fixture, fixturePath as fx } from '../image/fixtures.js';
import { referenceDecrypt } from '../image/reference-decryptor.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = join(ROOT, 'dist/cli/main.js');

interface Result {
  status: number;
  stdout: string;
  stderr: string;
}

let tmp: string;

/** Runs the CLI in-process: main() with stdout and stderr captured. */
async function cli(...args: string[]): Promise<Result> {
  let stdout = '';
  let stderr = '';
  const prev = setOutput({ write: (t) => void (stdout += t) });
  try {
    const status = await main(args, { stderr: (t) => void (stderr += t) });
    return { status, stdout, stderr };
  } finally {
    setOutput(prev);
  }
}

/** Runs the built CLI in a child process. */
function spawnCli(...args: string[]): Result {
  let built: number;
  try {
    built = statSync(MAIN).mtimeMs;
  } catch {
    throw new Error('dist/cli/main.js is missing: run `npm run build` (or `npm test`, which builds first)');
  }
  const newestSrc = Math.max(
    ...readdirSync(join(ROOT, 'src'), { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => statSync(join(e.parentPath, e.name)).mtimeMs),
  );
  if (newestSrc > built) throw new Error('dist/ is older than src/: run `npm run build` first');
  const r = spawnSync(process.execPath, [MAIN, ...args], { cwd: tmp, encoding: 'utf8', timeout: 30_000 });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** A failing command prints exactly one line, naming the problem and (if given) the file. */
function expectOneLineError(r: Result, status: number, ...mentions: (string | RegExp)[]): void {
  expect(r.status, r.stderr).toBe(status);
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^ota-uart: /);
  for (const m of mentions) {
    if (typeof m === 'string') expect(lines[0]).toContain(m);
    else expect(lines[0]).toMatch(m);
  }
}

function newDir(): string {
  return mkdtempSync(join(tmp, 'd-'));
}

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'ota-uart-cli-'));
});

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('help and exit statuses', () => {
  it('each image command\'s --help shows usage and examples', async () => {
    for (const [cmd, example] of [
      ['keygen', /ota-uart keygen --scheme ecies --out keys\/ +writes keys\/device_hmac_key\.bin \(device eFuse\)/],
      ['encrypt', /ota-uart encrypt storage\.bin --raw --key +a data partition image/],
      ['decrypt', /ota-uart decrypt app\.enc\.bin --hmac-key +ECIES scheme, with the device HMAC key/],
      ['inspect', /ota-uart inspect app\.enc\.bin +header only: size, IV, tag, image id/],
    ] as const) {
      const r = spawnCli(cmd, '--help');
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`ota-uart ${cmd}`));
      expect(r.stdout).toMatch(new RegExp(`Examples:\\n  ota-uart ${cmd} `));
      expect(r.stdout).toMatch(example);
    }
  });

  it('top-level --help documents the exit statuses used by the image commands', async () => {
    const r = spawnCli('--help');
    expect(r.status).toBe(0);
    const text = r.stdout.replace(/\s+/g, ' '); // the epilog wraps anywhere
    for (const re of [/\b2 usage/, /\b3 file not found/, /\b4 not an encrypted image/, /\b5 wrong key/, /\b6 authentication failed/, /\b7 invalid app image/]) {
      expect(text).toMatch(re);
    }
    expect(EXIT_STATUS).toMatchObject({
      USAGE: 2,
      INPUT_NOT_FOUND: 3,
      NOT_ENCRYPTED_IMAGE: 4,
      IMAGE_TRUNCATED: 4,
      WRONG_KEY: 5,
      BAD_KEY: 5,
      AUTH_FAILED: 6,
      INVALID_APP_IMAGE: 7,
    });
  });

  it('README "Image tools" exit-status table matches EXIT_STATUS', async () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const section = readme.split(/^## /m).find((s) => s.startsWith('Image tools'));
    expect(section, 'README has an "Image tools" section').toBeDefined();
    const rows = [...section!.matchAll(/^\|\s*(\d+)\s*\|\s*`([A-Z_]+)`/gm)];
    expect(rows.length).toBeGreaterThanOrEqual(8);
    for (const [, status, code] of rows) expect(EXIT_STATUS[code as keyof typeof EXIT_STATUS], code).toBe(Number(status));
  });

  it('usage errors exit 2 with a pointer to --help', async () => {
    const enc = fx('app_esp32.rsa.enc.bin');
    expectOneLineError(await cli('decrypt', enc, '-o', 'x'), 2, /--key PRIVATE\.pem or --hmac-key/, /ota-uart decrypt --help/);
    expectOneLineError(await cli('decrypt', enc, '--key', 'a', '--hmac-key', 'b', '-o', 'x'), 2, /mutually exclusive/);
    expectOneLineError(await cli('keygen', '--scheme', 'dsa', '--out', join(tmp, 'k')), 2, /Choices/);
    expectOneLineError(await cli('encrypt'), 2, /ota-uart encrypt --help/);
    expectOneLineError(await cli('inspect', enc, '--bogus'), 2, /Unknown argument: bogus/);
  });
});

describe('the built CLI end to end (child process, real exit statuses)', () => {
  it('decrypt: ok -> 0 and the plaintext; tampered -> 6, nothing written; missing key option -> 2', () => {
    const dir = newDir();
    const ok = spawnCli('decrypt', fx('app_esp32.ecies.enc.bin'), '--hmac-key', fx('ecies_device_hmac_key.bin'), '-o', join(dir, 'p.bin'));
    expect(ok.status, ok.stderr).toBe(0);
    expect(readFileSync(join(dir, 'p.bin')).equals(fixture('app_esp32.bin'))).toBe(true);
    const bad = spawnCli('decrypt', fx('app_esp32.rsa.enc.tampered_ct.bin'), '--key', fx('rsa3072_private.pem'), '-o', join(dir, 'x'));
    expectOneLineError(bad, 6, fx('app_esp32.rsa.enc.tampered_ct.bin'), /authentication failed/);
    expect(readdirSync(dir)).toEqual(['p.bin']);
    expectOneLineError(spawnCli('decrypt', fx('app_esp32.rsa.enc.bin'), '-o', join(dir, 'y')), 2, /give the key/);
  });

  it('encrypt then inspect with the key: 0, and inspect shows version, chip and verification', () => {
    const out = join(newDir(), 'a.enc');
    expect(spawnCli('encrypt', fx('app_esp32.bin'), '--key', fx('rsa3072_public.pem'), '-o', out).status).toBe(0);
    const r = spawnCli('inspect', out, '--key', fx('rsa3072_private.pem'));
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/version:\s+1\.2\.3-vector/);
    expect(r.stdout).toMatch(/chip:\s+ESP32 /);
    expect(r.stdout).toMatch(/verification:\s+verified/);
  });
});

describe('keygen', () => {
  it('rsa: writes the device key and the build-server key, says which goes where, and they work together', async () => {
    const dir = newDir();
    const r = await cli('keygen', '--scheme', 'rsa', '--out', dir);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/rsa_priv_key\.pem\n\s+RSA-3072 private key -> DEVICE/);
    expect(r.stdout).toMatch(/rsa_pub_key\.pem\n\s+RSA-3072 public key -> BUILD SERVER/);
    expect(statSync(join(dir, 'rsa_priv_key.pem')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dir, 'rsa_priv_key.pem'), 'utf8')).toMatch(/BEGIN RSA PRIVATE KEY/); // like the generator
    const app = join(dir, 'app.bin');
    writeFileSync(app, fixture('app_esp32.bin'));
    expect((await cli('encrypt', app, '--key', join(dir, 'rsa_pub_key.pem'), '-o', join(dir, 'app.enc'))).status).toBe(0);
    const dec = referenceDecrypt(readFileSync(join(dir, 'app.enc')), { rsaPrivatePem: readFileSync(join(dir, 'rsa_priv_key.pem')) });
    expect(dec.equals(fixture('app_esp32.bin'))).toBe(true);
  });

  it('ecies: the public key is the PBKDF2-derived key of the HMAC key; --json lists where each file goes', async () => {
    const dir = newDir();
    // In a child process with a timeout: an earlier keygen looped forever here (exported a private key as SPKI).
    const r = spawnCli('keygen', '--scheme', 'ecies', '--out', dir, '--json');
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as { scheme: string; files: { path: string; goesTo: string }[] };
    expect(j.scheme).toBe('ecies');
    expect(j.files.map((f) => [f.path, f.goesTo])).toEqual([
      [join(dir, 'device_hmac_key.bin'), 'device'],
      [join(dir, 'device_pub_key.pem'), 'build-server'],
    ]);
    const hmac = readFileSync(join(dir, 'device_hmac_key.bin'));
    expect(hmac.length).toBe(32);
    const scalar = pbkdf2Sync(hmac, Buffer.from('0e2160642dae76d33448e43d7720123d9f3b1eceb88e573a4e8f7fb94ff0c869', 'hex'), 2048, 32, 'sha256');
    const pub = createPublicKey(readFileSync(join(dir, 'device_pub_key.pem'))).export({ format: 'jwk' });
    const ecdh = createECDH('prime256v1');
    ecdh.setPrivateKey(scalar);
    expect(Buffer.from(pub.x!, 'base64url').equals(ecdh.getPublicKey().subarray(1, 33))).toBe(true);
  });

  it('refuses to overwrite: exit 3, names the file, leaves both files as they were', async () => {
    const dir = newDir();
    writeFileSync(join(dir, 'device_pub_key.pem'), 'keep me');
    const r = await cli('keygen', '--scheme', 'ecies', '--out', dir);
    expectOneLineError(r, 3, /already exists/, join(dir, 'device_pub_key.pem'));
    expect(readdirSync(dir)).toEqual(['device_pub_key.pem']); // the HMAC key was not written either
    expect(readFileSync(join(dir, 'device_pub_key.pem'), 'utf8')).toBe('keep me');
  });
});

describe('encrypt', () => {
  it('encrypts an app image with an RSA public key and prints a summary', async () => {
    const out = join(newDir(), 'a.enc');
    const r = await cli('encrypt', fx('app_esp32.bin'), '--key', fx('rsa3072_public.pem'), '-o', out);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/scheme:\s+RSA-3072 key wrap \+ AES-256-GCM/);
    expect(r.stdout).toMatch(/esp_ota_vectors 1\.2\.3-vector, secure_version 1, ESP32 v0\.0 \.\. v3\.99/);
    expect(r.stdout).toMatch(/3664 bytes \(512-byte header \+ 3152\)/);
    expect(referenceDecrypt(readFileSync(out), { rsaPrivatePem: fixture('rsa3072_private.pem') }).equals(fixture('app_esp32.bin'))).toBe(true);
  });

  it('ECIES with the device public key; --json result', async () => {
    const out = join(newDir(), 'a.enc');
    const r = await cli('encrypt', fx('app_esp32.bin'), '--key', fx('ecies_device_pub_key.pem'), '-o', out, '--json');
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j).toMatchObject({ scheme: 'ecies', plainSize: 3152, encryptedSize: 3664, app: { version: '1.2.3-vector', chip: 'ESP32' } });
    expect(j.imageId).toMatch(/^[0-9a-f]{64}$/);
    expect(referenceDecrypt(readFileSync(out), { eciesHmacKey: fixture('ecies_device_hmac_key.bin') }).equals(fixture('app_esp32.bin'))).toBe(true);
  });

  it('refuses a non-app input unless --raw (exit 7, names the file and the check, writes nothing)', async () => {
    const dir = newDir();
    const out = join(dir, 'r.enc');
    expectOneLineError(await cli('encrypt', fx('random_5003.bin'), '--key', fx('rsa3072_public.pem'), '-o', out), 7, /random_5003\.bin/, /segment_count/, /--raw/);
    expect(readdirSync(dir)).toEqual([]);
    expectOneLineError(await cli('encrypt', fx('app_esp32.bad_sha.bin'), '--key', fx('rsa3072_public.pem'), '-o', out), 7, /check sha256/);
    expectOneLineError(await cli('encrypt', fx('app_esp32.rsa.enc.bin'), '--key', fx('rsa3072_public.pem'), '-o', out), 7, /already an encrypted image/);
    const r = await cli('encrypt', fx('random_5003.bin'), '--raw', '--key', fx('rsa3072_public.pem'), '-o', out);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/raw, not checked/);
    expect(referenceDecrypt(readFileSync(out), { rsaPrivatePem: fixture('rsa3072_private.pem') }).equals(fixture('random_5003.bin'))).toBe(true);
  });

  it('input or key missing: exit 3; existing output: exit 3 unless --force; HMAC key as --key: exit 5', async () => {
    const dir = newDir();
    const out = join(dir, 'o.enc');
    expectOneLineError(await cli('encrypt', join(dir, 'missing.bin'), '--key', fx('rsa3072_public.pem'), '-o', out), 3, `input image not found: ${join(dir, 'missing.bin')}`);
    expectOneLineError(await cli('encrypt', fx('app_esp32.bin'), '--key', join(dir, 'nokey.pem'), '-o', out), 3, `key file not found: ${join(dir, 'nokey.pem')}`);
    expectOneLineError(await cli('encrypt', fx('app_esp32.bin'), '--key', fx('ecies_device_hmac_key.bin'), '-o', out), 5, /ecies_device_hmac_key\.bin/, /device public key PEM/);
    writeFileSync(out, 'old');
    expectOneLineError(await cli('encrypt', fx('app_esp32.bin'), '--key', fx('rsa3072_public.pem'), '-o', out), 3, /already exists/);
    expect(readFileSync(out, 'utf8')).toBe('old');
    expect((await cli('encrypt', fx('app_esp32.bin'), '--key', fx('rsa3072_public.pem'), '-o', out, '--force')).status).toBe(0);
    expect(readFileSync(out).length).toBe(3664);
  });
});

describe('decrypt', () => {
  it('RSA and ECIES (HMAC key) vectors decrypt to the exact plaintext', async () => {
    const dir = newDir();
    const r1 = await cli('decrypt', fx('app_esp32.rsa.enc.bin'), '--key', fx('rsa3072_private.pem'), '-o', join(dir, 'a.bin'));
    expect(r1.status, r1.stderr).toBe(0);
    expect(r1.stdout).toMatch(/tag:\s+verified/);
    expect(r1.stdout).toMatch(/1\.2\.3-vector.*\(verified\)/);
    expect(readFileSync(join(dir, 'a.bin')).equals(fixture('app_esp32.bin'))).toBe(true);
    const r2 = await cli('decrypt', fx('app_esp32.ecies.enc.bin'), '--hmac-key', fx('ecies_device_hmac_key.bin'), '-o', join(dir, 'b.bin'));
    expect(r2.status, r2.stderr).toBe(0);
    expect(readFileSync(join(dir, 'b.bin')).equals(fixture('app_esp32.bin'))).toBe(true);
    const r3 = await cli('decrypt', fx('random_5003.rsa.enc.bin'), '--key', fx('rsa3072_private.pem'), '-o', join(dir, 'c.bin'));
    expect(r3.status, r3.stderr).toBe(0);
    expect(readFileSync(join(dir, 'c.bin')).equals(fixture('random_5003.bin'))).toBe(true);
    // That payload happens to start with 0xE9, so it is reported as a (broken) app; real raw data is not.
    expect(r3.stdout).toMatch(/NOT VALID: .*segment_count/);
    const raw = join(dir, 'nvs.bin');
    writeFileSync(raw, Buffer.concat([Buffer.alloc(32, 0xff), randomBytes(4000)]));
    expect((await cli('encrypt', raw, '--raw', '--key', fx('rsa3072_public.pem'), '-o', join(dir, 'nvs.enc'))).status).toBe(0);
    const r4 = await cli('decrypt', join(dir, 'nvs.enc'), '--key', fx('rsa3072_private.pem'), '-o', join(dir, 'nvs.out'));
    expect(r4.status, r4.stderr).toBe(0);
    expect(r4.stdout).toMatch(/not an ESP app image \(raw data\)/);
    expect(readFileSync(join(dir, 'nvs.out')).equals(readFileSync(raw))).toBe(true);
  });

  it('each failure has its exit status and writes nothing at all (no output, no temporary file)', async () => {
    // [input, key option, key file, exit status, message, the file the message must name]
    const cases: [string, string, string, number, RegExp, 'input' | 'key'][] = [
      ['app_esp32.rsa.enc.tampered_ct.bin', '--key', 'rsa3072_private.pem', 6, /authentication failed/, 'input'],
      ['app_esp32.rsa.enc.tampered_tag.bin', '--key', 'rsa3072_private.pem', 6, /authentication failed/, 'input'],
      ['app_esp32.rsa.enc.bin', '--key', 'espressif_example_rsa_private.pem', 5, /wrong key or corrupt header/, 'input'],
      ['app_esp32.ecies.enc.bin', '--key', 'rsa3072_private.pem', 5, /wrong key or corrupt header/, 'input'],
      ['app_esp32.ecies.enc.bin', '--hmac-key', 'espressif_example_ecc_device_hmac_key.bin', 6, /not made for this device key/, 'input'],
      ['app_esp32.rsa.enc.bad_magic.bin', '--key', 'rsa3072_private.pem', 4, /not an encrypted image/, 'input'],
      ['app_esp32.rsa.enc.truncated.bin', '--key', 'rsa3072_private.pem', 4, /truncated/, 'input'],
      ['app_esp32.bin', '--key', 'rsa3072_private.pem', 4, /not an encrypted image/, 'input'],
      ['app_esp32.rsa.enc.bin', '--hmac-key', 'rsa3072_private.pem', 5, /got a PEM file/, 'key'],
      ['app_esp32.rsa.enc.bin', '--key', 'rsa3072_public.pem', 5, /public key; decryption needs the private key/, 'key'],
    ];
    for (const [file, opt, keyFile, status, msg, named] of cases) {
      const dir = newDir();
      const r = await cli('decrypt', fx(file), opt, fx(keyFile), '-o', join(dir, 'out.bin'));
      expectOneLineError(r, status, msg);
      expect(r.stderr, 'names the file').toContain(fx(named === 'input' ? file : keyFile));
      expect(readdirSync(dir), `${file}: nothing written`).toEqual([]);
    }
  });

  it('input not found: exit 3; existing output is never replaced without --force', async () => {
    const dir = newDir();
    expectOneLineError(await cli('decrypt', join(dir, 'nothere.enc'), '--key', fx('rsa3072_private.pem'), '-o', join(dir, 'x')), 3, `encrypted image not found: ${join(dir, 'nothere.enc')}`);
    writeFileSync(join(dir, 'x'), 'old');
    expectOneLineError(await cli('decrypt', fx('app_esp32.rsa.enc.bin'), '--key', fx('rsa3072_private.pem'), '-o', join(dir, 'x')), 3, /already exists/);
    expect(readFileSync(join(dir, 'x'), 'utf8')).toBe('old');
    // A failed decryption with --force leaves the old file alone too.
    expect((await cli('decrypt', fx('app_esp32.rsa.enc.tampered_ct.bin'), '--key', fx('rsa3072_private.pem'), '-o', join(dir, 'x'), '--force')).status).toBe(6);
    expect(readFileSync(join(dir, 'x'), 'utf8')).toBe('old');
    expect(readdirSync(dir)).toEqual(['x']);
  });
});

describe('inspect', () => {
  it('encrypted file without a key: header fields; --json shape', async () => {
    const r = await cli('inspect', fx('app_esp32.rsa.enc.bin'), '--json');
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j).toEqual({
      file: fx('app_esp32.rsa.enc.bin'),
      size: 3664,
      kind: 'encrypted',
      encrypted: {
        binSize: 3152,
        iv: '9606e45d7998b9de82ce2695a884c094',
        authTag: '67bb56613b5d844a3b5635a66ee2d3e9',
        imageId: expect.stringMatching(/^[0-9a-f]{64}$/),
        schemeGuess: 'rsa',
        length: 'ok',
      },
    });
    const t = await cli('inspect', fx('app_esp32.ecies.enc.bin'));
    expect(t.status).toBe(0);
    expect(t.stdout).toMatch(/bin_size:\s+3152 bytes/);
    expect(t.stdout).toMatch(/ecies \(guessed from the header/);
  });

  it('with a key: tag and app verified, app description shown (text and --json)', async () => {
    const t = await cli('inspect', fx('app_esp32.rsa.enc.bin'), '--key', fx('rsa3072_private.pem'));
    expect(t.status, t.stderr).toBe(0);
    expect(t.stdout).toMatch(/tag:\s+verified/);
    expect(t.stdout).toMatch(/version:\s+1\.2\.3-vector/);
    expect(t.stdout).toMatch(/chip:\s+ESP32 \(id 0\), revision v0\.0 \.\. v3\.99/);
    expect(t.stdout).toMatch(/verification:\s+verified/);
    const j = JSON.parse((await cli('inspect', fx('app_esp32.ecies.enc.bin'), '--hmac-key', fx('ecies_device_hmac_key.bin'), '--json')).stdout);
    expect(j.decryption).toEqual({ key: expect.stringMatching(/HMAC/), scheme: 'ecies', tag: 'verified' });
    expect(j.payload).toMatchObject({
      verified: true,
      app: { version: '1.2.3-vector', projectName: 'esp_ota_vectors', secureVersion: 1, chip: 'ESP32', chipId: 0, chipRevRange: 'v0.0 .. v3.99', idfVer: 'v5.4.1', segments: 2 },
    });
  });

  it('with a key on a tampered file: report printed, then exit 6; --json puts the problem in the result', async () => {
    const r = await cli('inspect', fx('app_esp32.rsa.enc.tampered_ct.bin'), '--key', fx('rsa3072_private.pem'), '--json');
    expect(r.status).toBe(6);
    const j = JSON.parse(r.stdout);
    expect(j.decryption.tag).toBe('failed');
    expect(j.problem.code).toBe('AUTH_FAILED');
    expect(JSON.parse(r.stderr).error).toMatchObject({ code: 'AUTH_FAILED', exitStatus: 6 });
  });

  it('plain app images: fields and verification; a bad one exits 7 naming check and file', async () => {
    const ok = await cli('inspect', fx('app_esp32.bin'), '--json');
    expect(ok.status).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ kind: 'app', app: { verified: true, app: { version: '1.2.3-vector' } } });
    const bad = await cli('inspect', fx('app_esp32.bad_checksum_and_sha.bin'));
    expect(bad.status).toBe(7);
    expect(bad.stdout).toMatch(/verification:\s+FAILED: .*checksum/);
    expectOneLineError(bad, 7, /app_esp32\.bad_checksum_and_sha\.bin/, /check checksum at offset 3119/);
  });

  it('truncated encrypted file: exit 4 and the length problem shown', async () => {
    const r = await cli('inspect', fx('app_esp32.rsa.enc.truncated.bin'));
    expect(r.status).toBe(4);
    expect(r.stdout).toMatch(/truncated: 3663 bytes/);
  });

  it('neither encrypted nor an app: exit 4; missing file: exit 3', async () => {
    const dir = newDir();
    writeFileSync(join(dir, 'junk.bin'), randomBytes(64).fill(0x11, 0, 1));
    expectOneLineError(await cli('inspect', join(dir, 'junk.bin')), 4, /junk\.bin/, /neither an encrypted image/);
    expectOneLineError(await cli('inspect', join(dir, 'nope.bin')), 3, `not found: ${join(dir, 'nope.bin')}`);
  });
});
