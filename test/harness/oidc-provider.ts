/**
 * A real OpenID Connect provider on loopback (the `oidc-provider` package) for sign-in tests:
 * authorization code with PKCE, its own login and consent pages (the package's development
 * interactions: any password is accepted), and people whose claims carry a role and care teams.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';

export interface Person {
  pathway_role?: string | string[];
  pathway_care_teams?: string[] | string;
  name?: string;
}

export interface TestProvider {
  issuer: string;
  clientId: string;
  clientSecret: string;
  stop(): Promise<void>;
}

export async function startOidcProvider(opts: { port: number; redirectUri: string; postLogoutRedirectUri: string; people: Record<string, Person> }): Promise<TestProvider> {
  const issuer = `http://127.0.0.1:${opts.port}`;
  const clientId = 'pathway-console';
  const clientSecret = 'a-client-secret-of-the-test-provider-0001';
  const provider = new Provider(issuer, {
    clients: [{ client_id: clientId, client_secret: clientSecret, redirect_uris: [opts.redirectUri], post_logout_redirect_uris: [opts.postLogoutRedirectUri], grant_types: ['authorization_code'], response_types: ['code'] }],
    claims: { openid: ['sub'], profile: ['preferred_username', 'name'], pathway: ['pathway_role', 'pathway_care_teams'] },
    pkce: { required: () => true },
    features: { devInteractions: { enabled: true } },
    ttl: { AccessToken: 600, AuthorizationCode: 60, IdToken: 600, Interaction: 600, Session: 3600, Grant: 3600 },
    cookies: { keys: ['test-provider-cookie-key-0000000001'] },
    async findAccount(_ctx, id) {
      const person = opts.people[id];
      if (!person) return undefined;
      return { accountId: id, claims: async () => ({ sub: id, preferred_username: id, ...person }) };
    },
  });
  // oidc-provider logs refused requests through its events; the tests read the outcome instead.
  provider.on('server_error', (_ctx: unknown, err: Error) => console.error('oidc-provider server_error', err));
  const server: Server = await new Promise((resolve, reject) => {
    const s = provider.listen(opts.port, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
  if ((server.address() as AddressInfo).port !== opts.port) throw new Error('the test provider is not on its port');
  return {
    issuer,
    clientId,
    clientSecret,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
