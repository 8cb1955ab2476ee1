// Python programs for the kernel side of the TCP connection-edge tests (kernel-peer.test.ts over
// IPv4, transfer.test.ts over IPv6). Each takes host and port as argv[1] and argv[2].

// Connects, reads 64 KiB of what the server writes, then closes with data unread (the kernel
// answers further data with RST, RFC 2525 2.17).
export const PY_READ_THEN_CLOSE = `
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
got = 0
while got < 65536:
    b = s.recv(65536)
    if not b: break
    got += len(b)
s.close()
print(got)
`;

// Sends one byte, then waits for the server's answer: prints the errno name it gets.
export const PY_EXPECT_RESET = `
import errno, socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
s.sendall(b"x")
try:
    b = s.recv(1)
    print("EOF" if not b else "DATA")
except OSError as e:
    print(errno.errorcode.get(e.errno, str(e)))
`;

// Sends one byte, waits for the server's FIN, closes; then (after argv[3] seconds) connects again
// and checks the new listener echoes.
export const PY_CLOSE_SECOND = `
import socket, sys, time
host, port = sys.argv[1], int(sys.argv[2])
s = socket.create_connection((host, port), timeout=10)
s.sendall(b"x")
assert s.recv(1) == b""
s.close()
time.sleep(float(sys.argv[3]))
s = socket.create_connection((host, port), timeout=10)
s.sendall(b"again")
got = b""
while len(got) < 5:
    b = s.recv(5)
    if not b: break
    got += b
s.close()
print(got.decode())
`;

// 50 connections closed with a RST right after the handshake (SO_LINGER {1,0}), then one normal
// echo exchange that must still be answered promptly.
export const PY_RESET_BEFORE_ACCEPT = `
import socket, struct, sys, time
host, port = sys.argv[1], int(sys.argv[2])
for _ in range(50):
    s = socket.create_connection((host, port), timeout=5)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
t0 = time.monotonic()
s = socket.create_connection((host, port), timeout=5)
s.sendall(b"hello")
got = b""
while len(got) < 5:
    b = s.recv(5)
    if not b: break
    got += b
print(got.decode(), round(time.monotonic() - t0, 3))
`;
