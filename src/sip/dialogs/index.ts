/** SIP dialogs and the user agent core (RFC 3261 §12–§15, §22; RFC 3311 UPDATE; RFC 6086 INFO). */
export { bodyBytes, Dialog, dialogKey, type DialogHost, type DialogId, type RequestOptions } from './dialog.ts';
export { DIALOG_TRANSITIONS, DialogState, type DialogEndReason } from './dialog-state.ts';
export { IncomingInvite, type InviteHost } from './incoming-invite.ts';
export { isLocalResponse, localResponse } from './local-response.ts';
export { OutgoingInvite, type InviteOutcome, type OutgoingInviteHost, type OutgoingInviteOptions } from './outgoing-invite.ts';
export { UserAgentCore, type InviteOptions, type OutOfDialogRequestOptions, type UserAgentCoreOptions } from './user-agent-core.ts';
