/**
 * The masking policy the gateway applies to each NEW call (issue 6 "Secure mode", issue 7 admin "masking policy"):
 * - `secureByDefault`: mask DTMF on every call all the time (secure mode on from answer to hang-up);
 * - `maskMode`: what replaces a masked key press (tone / silence / noise, see the DSP masker);
 * - `triggers`: the legacy in-band trigger sequences sent from the AGENT side (e.g. `#388*` starts secure mode,
 *   `#388#` ends it), or null for none. Trigger digits are never passed on to the caller.
 *
 * The gateway reads the policy through a `PolicySource` when a call is set up, so the admin can change it at run
 * time (settings store) without a restart; a call keeps the policy it started with.
 */
import type { MaskMode } from '../dsp/index.ts';
import { CardlineError } from '../errors/index.ts';

export interface TriggerSequences {
  /** Agent-side key sequence that turns secure mode on, e.g. `#388*`. */
  start: string;
  /** Agent-side key sequence that turns secure mode off, e.g. `#388#`. */
  end: string;
}

export interface MaskingPolicy {
  secureByDefault: boolean;
  maskMode: MaskMode;
  triggers: TriggerSequences | null;
}

/** Where the gateway gets the policy for a new call (config, or the admin's settings store). */
export type PolicySource = () => MaskingPolicy;

export const DEFAULT_MASKING_POLICY: Readonly<MaskingPolicy> = Object.freeze({ secureByDefault: false, maskMode: 'tone', triggers: null });

const TRIGGER = /^[0-9A-D*#]{2,16}$/;

/**
 * Checks trigger sequences: 2–16 DTMF keys (0-9 A-D * #), start ≠ end, and neither a prefix of the other (a prefix
 * would fire before the longer one could complete). Throws `invalid-config` naming the fault.
 */
export function validateTriggers(t: TriggerSequences): TriggerSequences {
  for (const [name, v] of [['start', t.start], ['end', t.end]] as const) {
    if (!TRIGGER.test(v)) throw new CardlineError('invalid-config', `trigger ${name} must be 2-16 DTMF keys (0-9, A-D, *, #)`);
  }
  if (t.start === t.end) throw new CardlineError('invalid-config', 'trigger start and end must differ');
  if (t.start.startsWith(t.end) || t.end.startsWith(t.start)) throw new CardlineError('invalid-config', 'one trigger must not be a prefix of the other');
  return { start: t.start, end: t.end };
}
