/** Dialog states (RFC 3261 §12: "A dialog can also be in the 'early' state ... [or] the 'confirmed' state"). */
export enum DialogState {
  Early = 'Early',
  Confirmed = 'Confirmed',
  Terminated = 'Terminated',
}

export const DIALOG_TRANSITIONS: Record<DialogState, readonly DialogState[]> = {
  [DialogState.Early]: [DialogState.Confirmed, DialogState.Terminated],
  [DialogState.Confirmed]: [DialogState.Terminated],
  [DialogState.Terminated]: [],
};

/** Why a dialog ended (for logs and the B2BUA's call records). */
export type DialogEndReason =
  | 'bye-sent' | 'bye-received' | 'ack-timeout' | 'rejected' | 'cancelled' | 'timeout' | 'no-dialog' | 'forked' | 'closed';
