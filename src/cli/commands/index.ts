/**
 * All CLI commands, in `--help` order. To add one, append its module here (one line); main.ts
 * registers whatever this array holds.
 */
import type { CommandModule } from 'yargs';
import { decryptCommand } from './decrypt.js';
import { encryptCommand } from './encrypt.js';
import { inspectCommand } from './inspect.js';
import { keygenCommand } from './keygen.js';
import { simulateCommand } from './simulate.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each command has its own argv type
export const commands: CommandModule<any, any>[] = [keygenCommand, encryptCommand, decryptCommand, inspectCommand, simulateCommand];
