// xdpnet's `https`, client side: Node's https.Agent, request and get, TLS over engine connections.
export {
  HttpsAgent as Agent,
  httpsGlobalAgent as globalAgent,
  type CreateConnectionCallback,
} from './http/agent.js';
export {
  httpsRequest as request,
  httpsGet as get,
  type RequestUrl,
  type ResponseCallback,
} from './http/client.js';
