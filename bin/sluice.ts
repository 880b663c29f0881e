#!/usr/bin/env node
import { main } from '../src/cli/main.ts'

// Servers stop their own work on SIGTERM; keep-alive sockets of the API client must not keep the process up.
process.exit(await main(process.argv.slice(2)))
