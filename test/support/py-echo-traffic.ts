// Kernel traffic for an echo server on port 7, run in the peer namespace (argv: host n_udp n_flows
// n_tcp): n_udp UDP echo round trips from each of n_flows sockets (so that flows spread over the
// queues), then n_tcp TCP connections that each echo 1000 bytes and close; prints how many
// datagrams and connections came back, as "echoed done".
export const PY_ECHO_TRAFFIC = `
import socket, sys
host, n_udp, n_flows, n_tcp = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
echoed = 0
for f in range(n_flows):
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.settimeout(5)
    for i in range(n_udp):
        u.sendto(b"d%05d" % i, (host, 7))
        if u.recvfrom(100)[0] == b"d%05d" % i: echoed += 1
    u.close()
done = 0
for i in range(n_tcp):
    s = socket.create_connection((host, 7), timeout=10)
    s.sendall(b"x" * 1000); got = b""
    while len(got) < 1000:
        chunk = s.recv(4096)
        if not chunk: break
        got += chunk
    s.close()
    if len(got) == 1000: done += 1
print(echoed, done)
`;
