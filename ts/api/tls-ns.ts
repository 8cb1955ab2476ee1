// xdpnet's `tls`: Node's TLS over engine connections (connect); the classes are Node's own.
export { connect, type ConnectionOptions } from './http/tls.js';
export { TLSSocket, checkServerIdentity } from 'node:tls';
