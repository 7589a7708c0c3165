import type { Command } from 'commander';
import type { CliIo } from '../main.ts';

/** `cardline dtmf …` — detect, mask and generate DTMF in WAV files. */
export function registerDtmfCommands(program: Command, _io: CliIo): void {
  program.command('dtmf').description('detect, mask and generate DTMF tones in WAV files');
}
