/**
 * The SIP domain's public face (house style 1): RFC 3261 messages, transports, transactions, dialogs and digest
 * authentication. The B2BUA and media anchoring build on these; import from here, not from the files behind it.
 */
export * from './messages/index.ts';
export * from './transport/index.ts';
export * from './transactions/index.ts';
export * from './dialogs/index.ts';
export * from './auth/index.ts';
