/** SIP transactions (RFC 3261 §17, RFC 6026) and the stack that owns them. */
export { ClientTransaction, type ClientTransactionUser } from './client-transaction.ts';
export { createCancel } from './create-cancel.ts';
export { InviteClientTransaction } from './invite-client-transaction.ts';
export { InviteServerTransaction } from './invite-server-transaction.ts';
export { NonInviteClientTransaction } from './non-invite-client-transaction.ts';
export { NonInviteServerTransaction } from './non-invite-server-transaction.ts';
export { ServerTransaction } from './server-transaction.ts';
export { DEFAULT_ALLOW, SipStack, type SendRequestOptions, type SipStackHandlers, type SipStackOptions } from './sip-stack.ts';
export { DEFAULT_TIMERS, sixtyFourT1, systemSipClock, timerConfig, type SipClock, type SipTimerHandle, type TimerConfig } from './timers.ts';
export { clientKey, clientKeyOfResponse, mergeKey, serverKey } from './transaction-keys.ts';
export { Transaction, type TransactionContext, type TransactionTransport } from './transaction.ts';
export { TRANSITIONS, TransactionState, type TransactionKind } from './transaction-state.ts';
