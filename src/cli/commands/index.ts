/**
 * All CLI commands, in `--help` order. To add one, append its module here (one line); main.ts
 * registers whatever this array holds.
 */
import type { CommandModule } from 'yargs';
import { confirmCommand, rebootCommand, rollbackCommand } from './confirm.js';
import { decryptCommand } from './decrypt.js';
import { encryptCommand } from './encrypt.js';
import { infoCommand } from './info.js';
import { inspectCommand } from './inspect.js';
import { keygenCommand } from './keygen.js';
import { portsCommand } from './ports.js';
import { pushCommand } from './push.js';
import { simulateCommand } from './simulate.js';
import { stationCommand } from './station.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each command has its own argv type
export const commands: CommandModule<any, any>[] = [
  pushCommand, stationCommand, infoCommand, confirmCommand, rollbackCommand, rebootCommand, portsCommand,
  keygenCommand, encryptCommand, decryptCommand, inspectCommand, simulateCommand,
];
