#!/usr/bin/env node
// Cardline command-line entry point. TypeScript sources run through tsx's loader (no build step).
import { register } from 'tsx/esm/api';

// `cardline … | head` closes our stdout early: that is the reader's choice, not an error worth a stack trace.
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv);
