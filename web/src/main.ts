import { AgentPanel } from './agent-panel.ts';

// one registration, guarded so a host page that already loaded the panel (embedding) does not throw
if (customElements.get('cardline-agent-panel') === undefined) customElements.define('cardline-agent-panel', AgentPanel);
