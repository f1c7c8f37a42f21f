/**
 * The ota-uart library: `import { push, deviceInfo, OtaError } from 'ota-uart'`.
 *
 * Everything the CLI does is available here, without the CLI's console output, exit codes or
 * signal handling: push one image to one device (push), to many at once (pushMany), run a factory
 * station (runStation), ask a device what it runs (deviceInfo), settle a pending app (confirmApp,
 * rollbackApp), and make or check images (encryptImage, decryptImage, verifyAppImage...).
 *
 * Progress comes as typed events (PushEvent, a discriminated union on `type`) through a Reporter.
 * Failures are OtaError with a stable `code` and `exitStatus` (see README "Exit codes").
 */
import type { Transport } from './transport/transport.js';
import { openSerialTransport } from './transport/serial.js';

// Pushing and talking to devices
export {
  push,
  pushMany,
  pushToTarget,
  exitStatusOf,
  runStation,
  deviceInfo,
  confirmApp,
  rollbackApp,
  rebootDevice,
  describeDevice,
} from './session/index.js';
export type {
  PushOptions,
  PushResult,
  PushManyOptions,
  PushTarget,
  DevicePushOptions,
  DeviceOutcome,
  DeviceRecord,
  StationOptions,
  StationTally,
  StationEvent,
  DeviceCommandOptions,
  ConfirmResult,
  DeviceSummary,
  SlotSummary,
  PushEvent,
  LogEvent,
  HelloEvent,
  BaudEvent,
  BeginEvent,
  ResumeEvent,
  ProgressEvent,
  RetryEvent,
  BusyEvent,
  ResyncEvent,
  ResultEvent,
} from './session/index.js';

// Errors, time, output
export { OtaError, EXIT_STATUS, isOtaError, toOtaError, type ErrorCode } from './errors.js';
export { systemClock, FakeClock, type Clock, type Timer } from './clock.js';
export { MemoryReporter, silentReporter, type Reporter, type ReportEvent, type ReportEventType } from './reporter.js';

// Links
export type { Transport } from './transport/transport.js';
export { openSerialTransport, listSerialPorts, type PortInfo, type SerialOpenOptions } from './transport/serial.js';
export { createMemoryLink, seededRng, type MemoryLinkOptions, type MemoryTransport } from './transport/memory.js';

// Images (the build-server side and checks)
export {
  encryptImage,
  decryptImage,
  StreamingDecryptor,
  loadEncryptionKey,
  loadDecryptionKey,
  parseEncryptedHeader,
  imageId,
  verifyAppImage,
  checkAppImage,
  parseAppHeader,
  buildAppImage,
  chipName,
  type EncryptionKey,
  type DecryptionKey,
  type EncryptedHeader,
  type AppInfo,
  type VerifiedApp,
  type BuildAppOptions,
} from './image/index.js';

// Protocol status table (status byte -> name, error code, exit status)
export { STATUS_INFO, statusInfo, statusName, type StatusInfo } from './protocol/index.js';

/**
 * The `open` argument of push() and friends for a serial port: opens `path` at the rate the device
 * listens at after reset (default 115200). push() calls it again to reconnect after a USB
 * re-enumeration, so pass the factory, not an opened port.
 */
export function serialPort(path: string, opts: { baud?: number } = {}): () => Promise<Transport> {
  return () => openSerialTransport(path, { baud: opts.baud ?? 115200 });
}
