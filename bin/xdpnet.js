#!/usr/bin/env node
// Entry point of the `xdpnet` command: the compiled CLI lives in dist/.
import '../dist/ts/cli/main.js';
