/** Public surface of the wire protocol (SPEC.md): re-exports only. */
export * from './constants.js';
export * from './crc32.js';
export * from './cobs.js';
export * from './frame.js';
export * from './decoder.js';
export * from './message-types.js';
export * from './message-layouts.js';
export * from './messages.js';
export * from './status.js';
export * from './version-compare.js';
