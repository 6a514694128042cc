// A real OpenID Connect provider for the tests: node provider.mjs PORT REDIRECT_URI
// Accounts: any login works (devInteractions); its groups claim comes from the table below.
import Provider from 'oidc-provider';

const [port, redirectUri] = process.argv.slice(2);
const GROUPS = {
  mia: ['dsar-managers', 'staff'],
  andy: ['dsar-analysts'],
  audrey: ['dsar-auditors'],
  mallory: ['marketing'],
};

const provider = new Provider(`http://127.0.0.1:${port}`, {
  clients: [{
    client_id: 'dsar',
    client_secret: 'dsar-test-secret',
    redirect_uris: [redirectUri],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_post',
  }],
  scopes: ['openid', 'email', 'profile', 'groups'],
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'], groups: ['groups'] },
  conformIdTokenClaims: false,
  findAccount: (ctx, id) => ({
    accountId: id,
    claims: () => ({ sub: id, email: `${id}@corp.example`, email_verified: true, name: id, groups: GROUPS[id] || [] }),
  }),
  features: { devInteractions: { enabled: true } },
  cookies: { keys: ['dsar-test-cookie-key'] },
  pkce: { required: () => false },
});
provider.proxy = false;
provider.listen(Number(port), '127.0.0.1', () => console.log(`listening ${port}`));
