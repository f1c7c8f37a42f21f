/** `ota-uart confirm | rollback --port PORT`: settle an app that booted pending verification. */
import type { CommandModule } from 'yargs';
import { confirmApp, rollbackApp, type ConfirmResult } from '../../session/index.js';
import { emit } from '../output.js';
import { openerFor, type PortArgs, withPortOptions } from '../port-opener.js';
import { runInterruptible } from '../terminal.js';

interface Args extends PortArgs { json?: boolean }

async function run(args: Args, fn: typeof confirmApp): Promise<ConfirmResult> {
  const port = await openerFor(args);
  try {
    return await runInterruptible((signal) => fn({ open: port.open, portLabel: port.label, signal }));
  } finally {
    await port.dispose();
  }
}

export const confirmCommand: CommandModule<object, Args> = {
  command: 'confirm',
  describe: 'Mark the running (pending) app as good, cancelling the automatic rollback',
  builder: (y) => withPortOptions(y).example('$0 confirm --port /dev/ttyUSB0', 'after checking the new app works'),
  handler: async (args) => {
    const r = await run(args, confirmApp);
    emit(args.json, r, () => `confirmed ${r.version} in ${r.running}; it stays the boot app`);
  },
};

export const rollbackCommand: CommandModule<object, Args> = {
  command: 'rollback',
  describe: 'Reject the running (pending) app; the device reboots into the previous one',
  builder: (y) => withPortOptions(y).example('$0 rollback --port /dev/ttyUSB0', 'the new app misbehaves'),
  handler: async (args) => {
    const r = await run(args, rollbackApp);
    emit(args.json, r, () => `rolled back: the device reboots into ${r.version || 'the previous app'} (${r.boot})`);
  },
};
