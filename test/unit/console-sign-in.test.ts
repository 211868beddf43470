/**
 * The pure parts of console sign-in: people from token claims, where sign-in may return to, and
 * the OpenID Connect settings.
 */
import { describe, expect, it } from 'vitest';
import { principalFromClaims, SignInRefused } from '../../console/oidc';
import { safeReturnTo } from '../../console/sign-in';
import { ConfigError, loadConfig } from '../../config';

const names = { username: 'preferred_username', role: 'pathway_role', careTeams: 'pathway_care_teams' };

describe('a person from the provider\'s claims', () => {
  it('takes the name for the timeline, the role and the care teams from the configured claims', () => {
    expect(principalFromClaims({ sub: 'u-1', preferred_username: 'ann', pathway_role: 'coordinator', pathway_care_teams: ['spine-a'] }, names)).toEqual({ id: 'ann', role: 'coordinator', careTeams: ['spine-a'] });
  });

  it('takes the most capable Pathway role from a list (groups), and teams from a spaced or comma list', () => {
    expect(principalFromClaims({ sub: 'u-2', pathway_role: ['staff', 'viewer', 'clinician'], pathway_care_teams: 'spine-a, spine-b' }, names)).toEqual({ id: 'u-2', role: 'clinician', careTeams: ['spine-a', 'spine-b'] });
  });

  it('without a care-team claim, sees every team, as an API key without teams does', () => {
    expect(principalFromClaims({ sub: 'u-3', pathway_role: 'viewer' }, names)).toEqual({ id: 'u-3', role: 'viewer' });
  });

  it('refuses a person with no Pathway role, an empty team list or no usable name', () => {
    expect(() => principalFromClaims({ sub: 'u-4', pathway_role: 'admin' }, names)).toThrow(SignInRefused);
    expect(() => principalFromClaims({ sub: 'u-5', pathway_role: 'viewer', pathway_care_teams: [] }, names)).toThrow(/names no care team/);
    expect(() => principalFromClaims({ sub: 'x'.repeat(121), pathway_role: 'viewer' }, names)).toThrow(/usable/);
  });
});

describe('where sign-in returns to', () => {
  it('is a path of the console only', () => {
    expect(safeReturnTo('/pathways/pw-0123?x=1')).toBe('/pathways/pw-0123?x=1');
    for (const bad of ['//evil.example/x', '/\\evil.example', 'https://evil.example/', '/auth/sign-out', undefined, 42]) expect(safeReturnTo(bad)).toBe('/');
  });
});

describe('OpenID Connect settings', () => {
  const oidc = { PATHWAY_OIDC_ISSUER: 'https://login.hospital.example/realms/staff', PATHWAY_OIDC_CLIENT_ID: 'pathway' };

  it('are off by default, with a 15-minute idle timeout', () => {
    const config = loadConfig({});
    expect(config.console).toEqual({ idleMinutes: 15, oidc: undefined });
  });

  it('derive the redirect address from the public address and default the claims', () => {
    const config = loadConfig({ ...oidc, PATHWAY_PUBLIC_URL: 'https://pathway.hospital.example', PATHWAY_SESSION_IDLE_MINUTES: '10' });
    expect(config.console.idleMinutes).toBe(10);
    expect(config.console.oidc).toEqual({
      issuer: oidc.PATHWAY_OIDC_ISSUER,
      clientId: 'pathway',
      clientSecret: undefined,
      redirectUrl: 'https://pathway.hospital.example/auth/callback',
      scope: 'openid profile',
      claims: { username: 'preferred_username', role: 'pathway_role', careTeams: 'pathway_care_teams' },
    });
  });

  it('refuse half a configuration, plain http off loopback, a scope without openid and a zero idle timeout', () => {
    expect(() => loadConfig({ PATHWAY_OIDC_ISSUER: oidc.PATHWAY_OIDC_ISSUER })).toThrow(ConfigError);
    expect(() => loadConfig(oidc)).toThrow(/PATHWAY_OIDC_REDIRECT_URL/);
    expect(() => loadConfig({ ...oidc, PATHWAY_OIDC_ISSUER: 'http://login.hospital.example', PATHWAY_OIDC_REDIRECT_URL: 'https://p.example/auth/callback' })).toThrow(/PATHWAY_OIDC_ISSUER/);
    expect(() => loadConfig({ ...oidc, PATHWAY_OIDC_REDIRECT_URL: 'https://p.example/auth/callback', PATHWAY_OIDC_SCOPE: 'profile' })).toThrow(/PATHWAY_OIDC_SCOPE/);
    expect(() => loadConfig({ PATHWAY_SESSION_IDLE_MINUTES: '0' })).toThrow(/PATHWAY_SESSION_IDLE_MINUTES/);
    expect(loadConfig({ ...oidc, PATHWAY_OIDC_ISSUER: 'http://127.0.0.1:9000', PATHWAY_OIDC_REDIRECT_URL: 'http://127.0.0.1:3000/auth/callback' }).console.oidc?.issuer).toBe('http://127.0.0.1:9000');
  });
});
