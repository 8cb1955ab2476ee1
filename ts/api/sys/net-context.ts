// The stacks a socket of this layer lives on (one worker's), and the state its sockets share.
import type { TcpStack } from '../../socket/tcp/tcp-stack.js';
import type { UdpStack } from '../../socket/udp/udp-stack.js';
import type { ReuseportGroup } from './reuseport.js';
import type { TcpBindTable } from './tcp-binds.js';

export interface NetContext {
  readonly tcp: TcpStack;
  readonly udp: UdpStack;
  readonly tcpBinds: TcpBindTable;
  /** SO_REUSEPORT listener groups by bound address and port. */
  readonly reuseport: Map<string, ReuseportGroup>;
}
