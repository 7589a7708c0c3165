import { startGateway, type RunningGateway, type StartGatewayOptions } from '../../../src/gateway/index.ts';
import { type Dialog, type IncomingInvite, UserAgentCore } from '../../../src/sip/dialogs/index.ts';
import { SipStack } from '../../../src/sip/transactions/index.ts';
import { UdpTransport } from '../../../src/sip/transport/index.ts';

const HOST = '127.0.0.1';
const SDP = (port: number) => `v=0\r\no=- 1 1 IN IP4 ${HOST}\r\ns=-\r\nc=IN IP4 ${HOST}\r\nt=0 0\r\nm=audio ${port} RTP/AVP 0\r\na=sendrecv\r\n`;

/**
 * A real media gateway on loopback with our own SIP user agents around it: one UA per named agent (routed by
 * `sip:pay-<name>@…` → `sip:<name>@127.0.0.1:<its port>`, which answers every INVITE) and one caller UA.
 * Cheap enough for the web and API tests that need real calls in GET /v1/calls.
 */
export interface CallLab {
  gateway: RunningGateway;
  /** the agent leg target URI of agent `name` (what GET /v1/calls shows as `agent`) */
  agentUri(name: string): string;
  /** a caller rings agent `name` (or a destination no agent is named after) and the agent answers */
  call(name: string, from?: string): Promise<Dialog>;
  /** agent `name`'s side of its latest answered call (to send in-dialog requests from the agent) */
  agentDialog(name: string): Dialog | undefined;
  close(): Promise<void>;
}

export async function startCallLab(agents: readonly string[], o: StartGatewayOptions = {}): Promise<CallLab> {
  const peers: Array<{ ua: UserAgentCore; stack: SipStack }> = [];
  const peer = async () => {
    const stack = new SipStack({ transports: [new UdpTransport()], timers: { T1: 50, T2: 400, T4: 500 } });
    await stack.start();
    const ua = new UserAgentCore({ stack });
    peers.push({ ua, stack });
    return { ua, port: stack.layer.transports[0]!.local.port };
  };
  const caller = await peer();
  const ports = new Map<string, number>();
  const agentDialogs = new Map<string, Dialog>();
  for (const name of agents) {
    const p = await peer();
    p.ua.onInvite = (inv: IncomingInvite) => { agentDialogs.set(name, inv.accept({ body: SDP(4002) })); };
    ports.set(name, p.port);
  }
  // media ports: a range of our own per process, clear of the gateway tests' (45000 + pid % 100 * 10)
  const base = 47000 + (process.pid % 100) * 40;
  const gateway = await startGateway({
    sip: { host: HOST, port: 0, transports: ['udp'] },
    media: { address: HOST, minPort: base, maxPort: base + 39 },
    routes: [...ports].map(([name, port]) => ({ requestUri: `^sip:pay-${name}@`, target: `sip:${name}@${HOST}:${port}` })),
  }, o);
  const sipPort = gateway.stack.layer.transports[0]!.local.port;
  return {
    gateway,
    agentDialog: (name) => agentDialogs.get(name),
    agentUri: (name) => `sip:${name}@${HOST}:${ports.get(name) ?? 0}`,
    async call(name, from = '<sip:caller@example.com>') {
      const outcome = await caller.ua.invite({ uri: `sip:pay-${name}@${HOST}:${sipPort}`, from, body: SDP(4000) }).outcome;
      if (outcome.kind !== 'answered') throw new Error(`call to ${name}: ${outcome.kind}`);
      return outcome.dialog;
    },
    async close() {
      await gateway.close();
      for (const p of peers) p.ua.close();
      await Promise.all(peers.map((p) => p.stack.close()));
    },
  };
}
