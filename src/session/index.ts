export { push, type PushOptions, type PushResult } from './push.js';
export { deviceInfo, confirmApp, rollbackApp, rebootDevice, type DeviceCommandOptions, type ConfirmResult } from './device-commands.js';
export { describeDevice, slotLabel, type DeviceSummary, type SlotSummary } from './device-summary.js';
export { DeviceLink } from './device-link.js';
export { connect } from './handshake.js';
export { uploadData, type UploadParams, type UploadStats } from './uploader.js';
