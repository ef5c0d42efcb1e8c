// A real OpenID Connect provider (npm oidc-provider 9) for Relay's tests, on 127.0.0.1 with an
// ephemeral port. Two native public clients (PKCE required, any loopback port per RFC 8252):
// "relay-desktop" (refresh tokens) and "relay-console" (the server's console sign-in). No person
// at a browser: GET /interaction/:uid signs in the account named by login_hint (default "ann")
// and consents at once. Prints one JSON line
// {"issuer"} when ready; stops when its standard input closes.
import http from 'node:http'
import Provider from 'oidc-provider'

const accounts = {
  ann: { email: 'ann.lee@contoso.example', name: 'Ann Lee', email_verified: true, locale: 'fr-FR' },
  bob: { email: 'bob@elsewhere.example', name: 'Bob Stranger', email_verified: true },
}

const server = http.createServer()
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
const issuer = `http://127.0.0.1:${server.address().port}`

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: 'relay-desktop',
      application_type: 'native',
      token_endpoint_auth_method: 'none',
      redirect_uris: ['http://127.0.0.1/callback'],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
    },
    {
      // The curators' web console: the server runs the flow for the browser and is called
      // back on its loopback address (any port, as for native clients).
      client_id: 'relay-console',
      application_type: 'native',
      token_endpoint_auth_method: 'none',
      redirect_uris: ['http://127.0.0.1/console/oidc/callback'],
      grant_types: ['authorization_code'],
      response_types: ['code'],
    },
  ],
  pkce: { required: () => true },
  // Put the scopes' claims (e-mail, name) in the ID token, as company providers do.
  conformIdTokenClaims: false,
  scopes: ['openid', 'email', 'profile', 'offline_access'],
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name', 'locale'] },
  features: { devInteractions: { enabled: false }, revocation: { enabled: true } },
  ttl: { AccessToken: Number(process.env.OIDC_ACCESS_TTL || 3600) },
  findAccount: async (ctx, id) =>
    accounts[id] && { accountId: id, claims: async () => ({ sub: id, ...accounts[id] }) },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
})

const callback = provider.callback()
server.on('request', async (req, res) => {
  const match = req.url.match(/^\/interaction\/([^/?]+)/)
  if (!match) return callback(req, res)
  try {
    const details = await provider.interactionDetails(req, res)
    const accountId = details.params.login_hint || 'ann'
    const grant = new provider.Grant({ accountId, clientId: details.params.client_id })
    grant.addOIDCScope(details.params.scope)
    const grantId = await grant.save()
    await provider.interactionFinished(
      req,
      res,
      { login: { accountId }, consent: { grantId } },
      { mergeWithLastSubmission: false },
    )
  } catch (e) {
    res.statusCode = 500
    res.end(String(e))
  }
})

process.stdout.write(JSON.stringify({ issuer }) + '\n')
const stop = () => process.exit(0)
process.stdin.on('end', stop)
process.stdin.on('close', stop)
process.stdin.resume()
process.on('SIGTERM', stop)
