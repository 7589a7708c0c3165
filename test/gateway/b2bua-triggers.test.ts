/**
 * Agent-side triggers by SIP INFO through a real gateway (our SIP UAs on loopback around startGateway): the agent's
 * INFO keys `#388*` turn secure mode on (span 'trigger' in the call view), none of them reaches the caller; a key
 * that is no trigger is forwarded to the caller as INFO; `#388#` turns secure mode off. The policy is read once per
 * call: a change applies to the next call, which is secure by default — there the triggers are ignored.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MaskingPolicy } from '../../src/gateway/index.ts';
import type { Dialog } from '../../src/sip/dialogs/index.ts';
import { startCallLab } from './support/call-lab.ts';
import { waitFor } from './support/rtp-peer.ts';

const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

/** The INFO bodies the caller receives on this dialog. */
function infosAt(caller: Dialog): string[] {
  const got: string[] = [];
  caller.onRequest = (tx, req) => {
    tx.reply(200);
    if (req.method === 'INFO') got.push(dec(req.body));
  };
  return got;
}

async function press(agent: Dialog, keys: string): Promise<void> {
  for (const k of keys) {
    assert.equal((await agent.info(`Signal=${k}\r\nDuration=160\r\n`, 'application/dtmf-relay')).status, 200);
  }
}

describe('B2BUA: agent-side triggers by SIP INFO, policy per call', () => {
  it('#388* on, a non-trigger key forwarded, #388# off; the next call follows the changed policy', async () => {
    let reads = 0;
    let current: MaskingPolicy = { secureByDefault: false, maskMode: 'tone', triggers: { start: '#388*', end: '#388#' } };
    const lab = await startCallLab(['ann'], { policy: () => { reads++; return current; } });
    try {
      const caller = await lab.call('ann');
      const infos = infosAt(caller);
      const agent = lab.agentDialog('ann');
      assert.ok(agent);
      const view = () => lab.gateway.b2bua.registry.list().find((c) => c.state === 'answered' && c.sipCallId === caller.callId);
      assert.equal(view()?.secure, false);
      current = { ...current, secureByDefault: true, triggers: null }; // an admin change: applies to NEW calls only

      await press(agent, '#388*');
      assert.equal(view()?.secure, true);
      assert.deepEqual(view()?.secureSpans.map((s) => [s.startedBy, s.endedBy]), [['trigger', null]]);
      await press(agent, '5');
      await waitFor(() => infos.length >= 1, 10_000, 'the released key at the caller');
      assert.match(infos[0] ?? '', /^Signal=5\r\n/);
      await press(agent, '#388#');
      assert.equal(view()?.secure, false);
      assert.deepEqual(view()?.secureSpans.map((s) => [s.startedBy, s.endedBy]), [['trigger', 'trigger']]);
      await new Promise((r) => setTimeout(r, 200)); // nothing else may arrive (no trigger key is ever forwarded)
      assert.equal(infos.length, 1);
      assert.equal(reads, 1, 'the policy is read once per call');

      // the next call is secure by default: secure from answer (span 'policy'), triggers ignored (INFO relayed)
      const second = await lab.call('ann');
      const infos2 = infosAt(second);
      const agent2 = lab.agentDialog('ann');
      assert.ok(agent2 && agent2 !== agent);
      const view2 = () => lab.gateway.b2bua.registry.list().find((c) => c.sipCallId === second.callId);
      assert.deepEqual([view2()?.secure, view2()?.secureSpans.map((s) => [s.startedBy, s.endedBy])], [true, [['policy', null]]]);
      await press(agent2, '#388#');
      await waitFor(() => infos2.length >= 5, 10_000, 'the relayed INFO keys');
      assert.equal(view2()?.secure, true);
      assert.equal(reads, 2);
    } finally {
      await lab.close();
    }
  });
});
