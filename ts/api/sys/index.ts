// The BSD socket and epoll API of the current worker: this module's functions (socket, bind,
// epollWait, ...) act on this worker's stacks. Each worker has its own
// descriptor table (descriptors are per worker, like per process), created on first use.
// Tests and tools with stacks of their own construct a Sys directly.

import { onWorkerStop, workerStack } from '../worker-stack.js';
import { Sys, type SysOptions } from './sys.js';

export * from './constants.js';
export * from './errno.js';
export { EpollEvent, epollEvents } from './epoll.js';
export { sockAddr, type SockAddr } from './sockaddr.js';
export type { Linger, OptValue } from './socket-file.js';
export { Sys, type MsgHdr, type PollFd, type SysOptions } from './sys.js';
export type { FdTable } from './fd-table.js';
export type { SysFile, FileWatch } from './file.js';

let current: Sys | null = null;
let currentFor: object | null = null;
let pendingOptions: SysOptions = {};

/** Sets the limits of this worker's Sys (before first use; EMFILE / ENOSPC past them). */
export function configureSys(options: SysOptions): void {
  pendingOptions = { ...options };
  if (current !== null) {
    if (options.fdLimit !== undefined) current.fds.limit = options.fdLimit;
    if (options.watchLimit !== undefined) current.watchLimit = options.watchLimit;
  }
}

/** This worker's Sys (the descriptor table over workerStack()'s UDP and TCP stacks). */
export function currentSys(): Sys {
  const stack = workerStack();
  if (current === null || currentFor !== stack) {
    const sys = new Sys({ tcp: stack.tcp, udp: stack.udp }, pendingOptions);
    current = sys;
    currentFor = stack;
    // Every descriptor closes when the worker stops, so no connection is left half-open.
    onWorkerStop(() => {
      sys.closeAll();
      if (current === sys) current = currentFor = null;
    });
  }
  return current;
}

// Module-level forms of Sys's methods, on currentSys().
function call<K extends keyof Sys>(k: K): Sys[K] {
  return ((...args: unknown[]) =>
    (currentSys()[k] as (...a: unknown[]) => unknown).apply(currentSys(), args)) as Sys[K];
}

export const socket = call('socket');
export const setNonBlocking = call('setNonBlocking');
export const close = call('close');
export const closeAsync = call('closeAsync');
export const closeAll = call('closeAll');
export const bind = call('bind');
export const listen = call('listen');
export const connect = call('connect');
export const accept = call('accept');
export const accept4 = call('accept4');
export const read = call('read');
export const write = call('write');
export const recv = call('recv');
export const send = call('send');
export const recvfrom = call('recvfrom');
export const sendto = call('sendto');
export const recvmsg = call('recvmsg');
export const sendmsg = call('sendmsg');
export const shutdown = call('shutdown');
export const getsockname = call('getsockname');
export const getpeername = call('getpeername');
export const setsockopt = call('setsockopt');
export const getsockopt = call('getsockopt');
export const acceptAsync = call('acceptAsync');
export const readAsync = call('readAsync');
export const writeAsync = call('writeAsync');
export const recvAsync = call('recvAsync');
export const sendAsync = call('sendAsync');
export const recvfromAsync = call('recvfromAsync');
export const connectAsync = call('connectAsync');
export const epollCreate = call('epollCreate');
export const epollCreate1 = call('epollCreate1');
export const epollCtl = call('epollCtl');
export const epollWait = call('epollWait');
export const epollWaitSync = call('epollWaitSync');
export const poll = call('poll');
export const pollAsync = call('pollAsync');
export const select = call('select');
