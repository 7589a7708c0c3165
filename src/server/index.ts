/** Composition root of the Cardline server process. */
export { startCardline, type RunningCardline, type StartOptions } from './start.ts';
export { securityCallAccess } from './call-access.ts';
