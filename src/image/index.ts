/** The image library: encrypted-image header, keys, encryption/decryption, ESP app images. */
export * from './encrypted-header.js';
export * from './keys.js';
export * from './unwrap.js';
export * from './encrypt.js';
export * from './decryptor.js';
export * from './chips.js';
export * from './app-image.js';
export * from './build-app.js';
