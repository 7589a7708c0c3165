/** SIP transports (RFC 3261 §18): UDP, TCP, TLS behind one `Transport` port, and the transport layer. */
export { StreamFramer, type FramerEvent } from './stream-framer.ts';
export { StreamTransport, type StreamTransportOptions } from './stream-transport.ts';
export { TcpTransport } from './tcp-transport.ts';
export { TlsTransport, type TlsTransportOptions } from './tls-transport.ts';
export {
  defaultPort, endpointKey, hostForUri,
  type Destination, type Endpoint, type Flow, type InboundPacket, type Transport, type TransportEvents, type TransportProtocol,
} from './transport.ts';
export {
  SipTransportLayer, type SentRequest, type SipTransportLayerOptions, type Target, type TransportLayerUser,
} from './transport-layer.ts';
export { MAX_UDP_PAYLOAD, UdpTransport, type UdpTransportOptions } from './udp-transport.ts';
