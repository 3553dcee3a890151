// A real OpenID Provider (npm oidc-provider, OpenID Certified) for the
// trusted-issuer tests (tests/integration/test_320_oidc_provider.py).
//
//   node tests/integration/oidc/provider.mjs CONFIG.json
//
// CONFIG.json, written by the test fixture:
//   port, cert, key     HTTPS on 127.0.0.1:port with this PEM certificate and
//                       key (from the fixture's throwaway CA)
//   jwks                the provider's private JWK Set (its first key of the
//                       algorithm signs); the test rotates keys by restarting
//                       this process with another set, as oidc-provider reads
//                       its keystore once, at construction
//   alg                 the access tokens' signing algorithm
//   resource, scope     the resource indicator (RFC 8707) and its scopes:
//                       /token answers JWT access tokens (RFC 9068, typ
//                       at+jwt) with aud = resource
//   client_id, client_secret   a client_credentials client
//
// The issuer is https://127.0.0.1:PORT; discovery is at its
// /.well-known/openid-configuration.  Prints "listening ISSUER" once ready
// and one "request MILLISECONDS METHOD PATH" line per request (the fixture
// times and counts the key-set fetches with them).  Ends on SIGTERM.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import process from 'node:process';

import Provider from 'oidc-provider';

const HOST = '127.0.0.1';
// a token's lifetime: longer than any test that holds one
const ACCESS_TOKEN_TTL = 900;

const cfg = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const issuer = `https://${HOST}:${cfg.port}`;

const resourceServer = {
  scope: cfg.scope,
  audience: cfg.resource,
  accessTokenTTL: ACCESS_TOKEN_TTL,
  accessTokenFormat: 'jwt',
  jwt: { sign: { alg: cfg.alg } },
};

const provider = new Provider(issuer, {
  jwks: cfg.jwks,
  // a fresh cookie key per run: no session outlives the process anyway
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  ttl: { ClientCredentials: ACCESS_TOKEN_TTL },
  clients: [{
    client_id: cfg.client_id,
    client_secret: cfg.client_secret,
    grant_types: ['client_credentials'],
    redirect_uris: [],
    response_types: [],
    // the default (RS256) needs an RSA key, which a rotation may retire
    id_token_signed_response_alg: cfg.alg,
  }],
  features: {
    // no interactive login here: only the client credentials grant
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => cfg.resource,
      useGrantedResource: () => true,
      getResourceServerInfo: (ctx, indicator) => {
        if (indicator !== cfg.resource) {
          throw new Provider.errors.InvalidTarget();
        }
        return resourceServer;
      },
    },
  },
  enabledJWA: {
    // every algorithm a key of the set can give (the default list lacks EdDSA for some)
    idTokenSigningAlgValues: ['RS256', 'PS256', 'ES256', 'EdDSA'],
  },
});

provider.use(async (ctx, next) => {
  process.stdout.write(`request ${Date.now()} ${ctx.method} ${ctx.path}\n`);
  await next();
});
// no token or secret in the output: the provider's own error events carry
// only the error's name and description
provider.on('server_error', (ctx, err) => {
  process.stderr.write(`server_error ${err.name}: ${err.message}\n`);
});

const server = https.createServer({
  cert: readFileSync(cfg.cert),
  key: readFileSync(cfg.key),
}, provider.callback());

server.listen(cfg.port, HOST, () => {
  process.stdout.write(`listening ${issuer}\n`);
});

process.on('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
  process.exit(0);
});
