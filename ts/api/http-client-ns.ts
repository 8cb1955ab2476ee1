// xdpnet's `http`, client side: Node's http.Agent, request and get over engine connections.
export { Agent, globalAgent } from './http/agent.js';
export { request, get } from './http/client.js';
