import type { FastifyRequest } from 'fastify';
import type { AuthService } from '../auth/index.ts';
import { CardlineError } from '../errors/index.ts';
import { isCallOf, type CallAccess } from '../gateway/index.ts';
import type { PaymentSessionService } from '../payments/index.ts';

/**
 * Which calls a signed-in person may bind (issue 7, "my current call"; PCI DSS 4.0 req. 7.2.2, access by need).
 *
 * An agent may turn secure mode on or off only for a call whose agent leg goes to its own SIP identity, or to no
 * user's identity at all (a queue or hunt group nobody claims: any agent may take it), and may bind only a payment
 * session it created (anything else answers 404, as for sessions it cannot see). A call routed to another agent's
 * identity is refused. API keys (the CRM or IVR integration) are not restricted: they hold the whole deployment's
 * grant by design. Supervisors, admins and auditors have no `sessions:write` and never get here.
 */
export function securityCallAccess(auth: AuthService, payments: PaymentSessionService): CallAccess {
  return {
    async identityOf(request: FastifyRequest): Promise<string | null> {
      return request.principal?.kind === 'user' ? (request.loginUser?.sipUri ?? null) : null;
    },
    async checkBind(request, call, sessionId): Promise<void> {
      const p = request.principal;
      if (p === null || p.role !== 'agent') return;
      const owners = (await auth.users.withSipIdentity()).filter((u) => u.sip_uri !== null && isCallOf(call, u.sip_uri));
      if (owners.length > 0 && !owners.some((u) => u.id === p.id)) {
        throw new CardlineError('forbidden', "this call is routed to another agent's SIP identity");
      }
      if (sessionId !== undefined) {
        const s = await payments.find(sessionId);
        if (s === null || s.createdBy !== p.id) throw new CardlineError('session-not-found');
      }
    },
  };
}
