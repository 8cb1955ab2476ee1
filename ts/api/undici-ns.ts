// xdpnet's `undici`: a Dispatcher (undici's Agent) and a connect function dialling through the
// engine, and fetch/request that use it unless told otherwise.
export {
  Agent,
  connector,
  engineDispatcher,
  fetch,
  request,
  type ConnectorOptions,
} from './http/undici.js';
