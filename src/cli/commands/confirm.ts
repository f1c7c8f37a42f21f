/** `ota-uart confirm | rollback | reboot --port PORT`: settle an app that booted pending verification, or reset. */
import type { CommandModule } from 'yargs';
import { confirmApp, rebootDevice, rollbackApp } from '../../session/index.js';
import { emit } from '../output.js';
import { type DeviceArgs, withDeviceOptions, withDevicePort } from './info.js';

export const confirmCommand: CommandModule<object, DeviceArgs> = {
  command: 'confirm',
  describe: 'Mark the running (pending) app as good, cancelling the automatic rollback',
  builder: (y) =>
    withDeviceOptions(y)
      .example('$0 confirm --port /dev/ttyUSB0', 'after checking that the new app works')
      .epilog('With rollback enabled, an app booted after an update is PENDING_VERIFY until confirmed; if the device resets before that, it boots the previous app. Exit status 25 if nothing is pending.'),
  handler: async (args) => {
    const { port, value: r } = await withDevicePort(args, 'confirm', confirmApp);
    emit(args.json, { port, ...r }, () => `${port}: confirmed ${r.version} in ${r.running}; it stays the boot app`);
  },
};

export const rollbackCommand: CommandModule<object, DeviceArgs> = {
  command: 'rollback',
  describe: 'Reject the running (pending) app; the device reboots into the previous one',
  builder: (y) =>
    withDeviceOptions(y)
      .example('$0 rollback --port /dev/ttyUSB0', 'the new app misbehaves: go back to the previous one')
      .epilog('Only an app that is PENDING_VERIFY can be rolled back (exit status 25 otherwise).'),
  handler: async (args) => {
    const { port, value: r } = await withDevicePort(args, 'rollback', rollbackApp);
    emit(args.json, { port, ...r }, () => `${port}: rolled back; the device reboots into ${r.version || 'the previous app'} (${r.boot})`);
  },
};

export const rebootCommand: CommandModule<object, DeviceArgs> = {
  command: 'reboot',
  describe: 'Reset the device (it then boots the app set to boot)',
  builder: (y) =>
    withDeviceOptions(y)
      .example('$0 reboot --port /dev/ttyUSB0', 'start the app a push just installed (or push with --reboot)'),
  handler: async (args) => {
    const { port } = await withDevicePort(args, 'reboot', rebootDevice);
    emit(args.json, { port, rebooting: true }, () => `${port}: rebooting`);
  },
};
