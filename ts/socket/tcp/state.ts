// The eleven connection states of RFC 9293 3.3.2.

export const TcpState = {
  Closed: 0,
  Listen: 1,
  SynSent: 2,
  SynReceived: 3,
  Established: 4,
  FinWait1: 5,
  FinWait2: 6,
  CloseWait: 7,
  Closing: 8,
  LastAck: 9,
  TimeWait: 10,
} as const;

export type TcpState = (typeof TcpState)[keyof typeof TcpState];

const NAMES = [
  'CLOSED',
  'LISTEN',
  'SYN-SENT',
  'SYN-RECEIVED',
  'ESTABLISHED',
  'FIN-WAIT-1',
  'FIN-WAIT-2',
  'CLOSE-WAIT',
  'CLOSING',
  'LAST-ACK',
  'TIME-WAIT',
];

export function tcpStateName(state: TcpState): string {
  return NAMES[state];
}

/** States after the handshake in which we may still send data (RFC 9293 3.10.2 SEND). */
export function canSendData(state: TcpState): boolean {
  return state === TcpState.Established || state === TcpState.CloseWait;
}

/** States in which the peer may still send us data (RFC 9293 3.10.7.4, seventh step). */
export function canReceiveData(state: TcpState): boolean {
  return (
    state === TcpState.Established || state === TcpState.FinWait1 || state === TcpState.FinWait2
  );
}

/** States whose FIN has been queued by the application (our send side is closing or closed). */
export function sendSideClosed(state: TcpState): boolean {
  return (
    state === TcpState.FinWait1 ||
    state === TcpState.FinWait2 ||
    state === TcpState.Closing ||
    state === TcpState.LastAck ||
    state === TcpState.TimeWait
  );
}
