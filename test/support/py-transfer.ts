// The kernel's side of a half-close transfer (test/tcp-kernel/apps/transfer.ts is the engine's):
// a Python client and server in the bed's peer namespace that send random bytes, shut down
// writing, read the other side to EOF and report SHA-256 digests of both directions, the MSS the
// kernel used (TCP_MAXSEG) and, for the client, how long the handshake took.
import assert from 'node:assert/strict';

/** One side's account of a transfer (the Python peers and apps/transfer.ts). */
export interface TransferOutcome {
  sentSha: string;
  sentBytes: number;
  recvSha: string;
  recvBytes: number;
  eofBeforeReply?: boolean;
  family?: string;
  peer?: string;
  /** Client: from connect() to the handshake's end. */
  connectMs?: number;
  /** Kernel side: TCP_MAXSEG once the transfer ended (the MSS in use, less the timestamp option). */
  maxseg?: number;
  error: string | null;
}

/**
 * Kernel client: argv host, port, bytes up. Sends them (a thread writes while the main thread
 * reads) and shuts down writing, then reads the server's reply to EOF. Prints one outcome line.
 */
export const PY_TRANSFER_CLIENT = `
import hashlib, json, random, socket, sys, threading, time
host, port, up = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
t0 = time.monotonic()
s = socket.create_connection((host, port), timeout=90)
connect_ms = (time.monotonic() - t0) * 1000
sent = hashlib.sha256(); rnd = random.Random()
def send():
    left = up
    while left:
        b = rnd.randbytes(min(left, 1 << 20)); sent.update(b); s.sendall(b); left -= len(b)
    s.shutdown(socket.SHUT_WR)
t = threading.Thread(target=send); t.start()
recv = hashlib.sha256(); got = 0
while True:
    b = s.recv(1 << 16)
    if not b: break
    recv.update(b); got += len(b)
t.join()
maxseg = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG)
s.close()
print(json.dumps({"sentSha": sent.hexdigest(), "sentBytes": up, "recvSha": recv.hexdigest(),
                  "recvBytes": got, "connectMs": connect_ms, "maxseg": maxseg, "error": None}))
`;

/**
 * Kernel server (dual-stack on ::): argv port, connections, bytes down. Prints "ready", then for
 * each connection in turn reads to EOF, answers the bytes and closes: one outcome line each.
 */
export const PY_TRANSFER_SERVER = `
import hashlib, json, random, socket, sys
port, count, down = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
l = socket.socket(socket.AF_INET6)
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
l.bind(("::", port)); l.listen(8); l.settimeout(120)
print("ready", flush=True)
rnd = random.Random()
for _ in range(count):
    c, addr = l.accept(); c.settimeout(90)
    recv = hashlib.sha256(); got = 0
    while True:
        b = c.recv(1 << 16)
        if not b: break
        recv.update(b); got += len(b)
    sent = hashlib.sha256(); left = down
    while left:
        b = rnd.randbytes(min(left, 1 << 20)); sent.update(b); c.sendall(b); left -= len(b)
    maxseg = c.getsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG)
    c.shutdown(socket.SHUT_WR); c.close()
    print(json.dumps({"sentSha": sent.hexdigest(), "sentBytes": down, "recvSha": recv.hexdigest(),
                      "recvBytes": got, "peer": addr[0], "maxseg": maxseg, "error": None}),
          flush=True)
`;

/** Both sides' digests agree in both directions and every byte arrived. */
export function checkTransfer(
  client: TransferOutcome,
  server: TransferOutcome,
  up: number,
  down: number,
): void {
  const brief = JSON.stringify({ client, server });
  assert.equal(client.error, null, brief);
  assert.equal(server.error, null, brief);
  assert.equal(client.sentBytes, up, brief);
  assert.equal(server.recvBytes, up, brief);
  assert.equal(server.recvSha, client.sentSha, brief);
  assert.equal(server.sentBytes, down, brief);
  assert.equal(client.recvBytes, down, brief);
  assert.equal(client.recvSha, server.sentSha, brief);
}
