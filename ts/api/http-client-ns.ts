// xdpnet's `http`, client side: Node's http.Agent, request and get over engine connections.
export { Agent, globalAgent, type CreateConnectionCallback } from './http/agent.js';
export { request, get, type RequestUrl, type ResponseCallback } from './http/client.js';
