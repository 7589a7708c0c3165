/**
 * The one error catalogue. Every error Cardline raises on purpose carries a stable `code` from here.
 * Codes are part of the public contract (CLI exit messages, HTTP error bodies, events): never rename one.
 *
 * Rule (PCI DSS 4.0 req. 3.3/3.4, house style 6): a message never contains a PAN, a security code,
 * or a DTMF digit. Put only lengths, offsets, field names and counts into `detail`.
 */
export const ERROR_CATALOGUE = {
  // --- generic -------------------------------------------------------------------------------------
  'usage': { status: 400, summary: 'The command or request is not well formed' },
  'internal': { status: 500, summary: 'Internal error' },
  'io-error': { status: 500, summary: 'A file or device could not be read or written' },
  // --- audio / DSP ---------------------------------------------------------------------------------
  'wav-malformed': { status: 400, summary: 'The WAV data is malformed' },
  'wav-truncated': { status: 400, summary: 'The WAV data ends before its declared size' },
  'wav-unsupported': { status: 400, summary: 'The WAV encoding is not supported' },
  'audio-invalid-argument': { status: 400, summary: 'An audio parameter is out of range' },
  'dtmf-invalid-digit': { status: 400, summary: 'Not a DTMF key (allowed: 0-9 * # A B C D)' },
} as const satisfies Record<string, { status: number; summary: string }>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

export class CardlineError extends Error {
  readonly code: ErrorCode;
  readonly status: number;

  /** `detail` must be free of card data; it is shown to users and logged. */
  constructor(code: ErrorCode, detail?: string, options?: { cause?: unknown }) {
    const entry = ERROR_CATALOGUE[code];
    super(detail ? `${entry.summary}: ${detail}` : entry.summary, options);
    this.name = 'CardlineError';
    this.code = code;
    this.status = entry.status;
  }

  toJSON(): { code: ErrorCode; message: string } {
    return { code: this.code, message: this.message };
  }
}

export function isCardlineError(e: unknown): e is CardlineError {
  return e instanceof CardlineError;
}
