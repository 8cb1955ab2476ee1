// The TCP and UDP echo examples in one app module (port 7), for the introspection tests.
import '../../../examples/tcp-echo.js';
import '../../../examples/udp-echo.js';
