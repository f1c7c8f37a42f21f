/** The simulated ESP32 (SIM-API.md): re-exports only. */
export { SimDevice } from './sim-device.js';
export { createSimLink, connectSim, type SimLinkOptions, type SimLinkWireOptions, type SimConnection } from './sim-link.js';
export type { SimDeviceOptions, SimEvent, SimStats } from './device-core.js';
export { BUSY_ANNOUNCE_MS, DEFAULT_WINDOW, DEFAULT_MAX_BAUD, DEFAULT_SIM_BAUD } from './device-core.js';
export type { SimFaults } from './faults.js';
export { DEVICE_TIMINGS, type DeviceTiming, type TimingModel } from './timing.js';
export { Flash, FlashError, FLASH_TIMINGS, flashCeiling, type FlashTiming } from './flash.js';
export { createFlashImage, openFlashFile, readDeviceState, DEFAULT_FACTORY_VERSION, type DeviceState, type PartState } from './flash-image.js';
export { readResumeRecord, type ResumeRecord } from './resume-record.js';
export { HW_FIFO_BYTES } from './uart-rx.js';
export { TWO_OTA_LAYOUT, buildPartitionTable, parsePartitionTable } from './partition-table.js';
