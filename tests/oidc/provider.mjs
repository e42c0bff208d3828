// A real OpenID provider for the sign-in tests: the certified `oidc-provider` package with
// its built-in login page (any user name signs in; the password is not checked).
//
// Configuration (environment):
//   OIDC_PORT          loopback port to listen on
//   OIDC_CLIENT        JSON: {client_id, client_secret, redirect_uris: [...]}
//   OIDC_JWKS          JSON: {keys: [...]} private signing keys (the test mints tokens with them too)
//   OIDC_ACCOUNTS      JSON: {"<login>": {name, roles, school_unit, ...}}; the login is the sub
// Prints "listening <issuer>" when ready.
import Provider from "oidc-provider";

const port = Number(process.env.OIDC_PORT);
const issuer = `http://127.0.0.1:${port}`;
const accounts = JSON.parse(process.env.OIDC_ACCOUNTS || "{}");

const provider = new Provider(issuer, {
  clients: [{
    ...JSON.parse(process.env.OIDC_CLIENT),
    grant_types: ["authorization_code"],
    response_types: ["code"],
    token_endpoint_auth_method: "client_secret_basic",
  }],
  jwks: JSON.parse(process.env.OIDC_JWKS),
  cookies: { keys: ["test-cookie-key-not-secret"] },
  pkce: { required: () => true },
  // The roles and the school unit go into the ID token itself (we read no userinfo).
  conformIdTokenClaims: false,
  claims: {
    openid: ["sub"],
    profile: ["name"],
    custody: ["roles", "school_unit"],
  },
  scopes: ["openid", "profile", "custody"],
  features: { devInteractions: { enabled: true } },
  async findAccount(ctx, sub) {
    const account = accounts[sub] || { name: sub };
    return { accountId: sub, async claims() { return { sub, ...account }; } };
  },
});
provider.proxy = false;

provider.listen(port, "127.0.0.1", () => {
  console.log(`listening ${issuer}`);
});
