/**
 * Transaction states (RFC 3261 §17, Figures 5–8, with the "Accepted" state RFC 6026 §7.1/§7.2 adds to both
 * INVITE machines so 2xx retransmissions and their ACKs are no longer orphans).
 */
export enum TransactionState {
  Calling = 'Calling',
  Trying = 'Trying',
  Proceeding = 'Proceeding',
  Accepted = 'Accepted',
  Completed = 'Completed',
  Confirmed = 'Confirmed',
  Terminated = 'Terminated',
}

export type TransactionKind = 'ict' | 'nict' | 'ist' | 'nist';

const S = TransactionState;

/** Legal moves per machine; `transition()` refuses anything else. */
export const TRANSITIONS: Record<TransactionKind, Partial<Record<TransactionState, readonly TransactionState[]>>> = {
  // §17.1.1.2 Figure 5 + RFC 6026 Figure 5
  ict: {
    [S.Calling]: [S.Proceeding, S.Accepted, S.Completed, S.Terminated],
    [S.Proceeding]: [S.Accepted, S.Completed, S.Terminated],
    [S.Completed]: [S.Terminated],
    [S.Accepted]: [S.Terminated],
  },
  // §17.1.2.2 Figure 6
  nict: {
    [S.Trying]: [S.Proceeding, S.Completed, S.Terminated],
    [S.Proceeding]: [S.Completed, S.Terminated],
    [S.Completed]: [S.Terminated],
  },
  // §17.2.1 Figure 7 + RFC 6026 Figure 7
  ist: {
    [S.Proceeding]: [S.Accepted, S.Completed, S.Terminated],
    [S.Completed]: [S.Confirmed, S.Terminated],
    [S.Confirmed]: [S.Terminated],
    [S.Accepted]: [S.Terminated],
  },
  // §17.2.2 Figure 8
  nist: {
    [S.Trying]: [S.Proceeding, S.Completed, S.Terminated],
    [S.Proceeding]: [S.Completed, S.Terminated],
    [S.Completed]: [S.Terminated],
  },
};
