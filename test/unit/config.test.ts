/**
 * Settings are checked at start-up: a wrong one stops the service with a message naming it,
 * and production refuses to run without its secrets.
 */
import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { hashKey, loadApiKeys, newApiKey } from '../../api/auth';
import { loadWebhooks } from '../../activities/webhooks';
import { ConfigError, DEFAULT_WORKFLOW_CACHE_SIZE, DEFAULT_WORKFLOW_TASK_SLOTS, loadConfig } from '../../config';
import { silentLogger } from '../../observability/log';
import { startService } from '../../server/service';

describe('loadConfig', () => {
  it('uses the embedded default when nothing is set', () => {
    const c = loadConfig({});
    expect(c.temporal.address).toBeUndefined();
    expect(c.http).toEqual({
      host: '127.0.0.1',
      port: 3000,
      trustProxy: 0,
      rateLimits: { windowSeconds: 60, perKey: 600, authFailures: 20 },
      temporalDeadlineMs: 5000,
    });
    expect(c.digest).toEqual({ hour: 7, minute: 0, timezone: 'UTC' });
    expect(c.production).toBe(false);
    expect(c.worker).toEqual({ workflowCacheSize: DEFAULT_WORKFLOW_CACHE_SIZE, workflowTaskSlots: DEFAULT_WORKFLOW_TASK_SLOTS });
  });

  it('names this process among the replicas: host and process id, or PATHWAY_INSTANCE', () => {
    expect(loadConfig({}).instance).toBe(`${os.hostname()}:${process.pid}`);
    expect(loadConfig({ PATHWAY_INSTANCE: 'api-2' }).instance).toBe('api-2');
    expect(() => loadConfig({ PATHWAY_INSTANCE: 'x'.repeat(201) })).toThrow(/PATHWAY_INSTANCE/);
  });

  it('bounds the worker\'s workflow cache: 0 turns it off, 1 is refused (the SDK needs 2)', () => {
    expect(loadConfig({ PATHWAY_WORKFLOW_CACHE_SIZE: '0' }).worker.workflowCacheSize).toBe(0);
    expect(loadConfig({ PATHWAY_WORKFLOW_CACHE_SIZE: '2000' }).worker.workflowCacheSize).toBe(2000);
    for (const wrong of ['1', '-5', '2.5', 'lots', '1000000']) {
      expect(() => loadConfig({ PATHWAY_WORKFLOW_CACHE_SIZE: wrong })).toThrow(/PATHWAY_WORKFLOW_CACHE_SIZE/);
    }
  });

  it('makes the worker a version of a Worker Deployment only with versioning on and a build id', () => {
    expect(loadConfig({}).worker.deployment).toBeUndefined();
    const cluster = { TEMPORAL_ADDRESS: 'temporal:7233' };
    expect(loadConfig({ ...cluster, PATHWAY_WORKER_VERSIONING: 'true', PATHWAY_BUILD_ID: 'v2.3.0-abc123' }).worker.deployment).toEqual({ deploymentName: 'pathway', buildId: 'v2.3.0-abc123' });
    expect(loadConfig({ ...cluster, PATHWAY_WORKER_VERSIONING: '1', PATHWAY_BUILD_ID: 'b7', PATHWAY_DEPLOYMENT_NAME: 'pathway-eu' }).worker.deployment).toEqual({ deploymentName: 'pathway-eu', buildId: 'b7' });
    expect(() => loadConfig({ ...cluster, PATHWAY_WORKER_VERSIONING: 'true' })).toThrow(/PATHWAY_BUILD_ID/);
    expect(() => loadConfig({ ...cluster, PATHWAY_BUILD_ID: 'b7' })).toThrow(/PATHWAY_WORKER_VERSIONING/);
    expect(() => loadConfig({ ...cluster, PATHWAY_WORKER_VERSIONING: 'true', PATHWAY_BUILD_ID: 'b 7' })).toThrow(/PATHWAY_BUILD_ID/);
    expect(() => loadConfig({ ...cluster, PATHWAY_WORKER_VERSIONING: 'true', PATHWAY_BUILD_ID: 'b7', PATHWAY_DEPLOYMENT_NAME: 'pathway.eu' })).toThrow(/PATHWAY_DEPLOYMENT_NAME/);
    // The embedded default has nothing to roll.
    expect(() => loadConfig({ PATHWAY_WORKER_VERSIONING: 'true', PATHWAY_BUILD_ID: 'b7' })).toThrow(/TEMPORAL_ADDRESS/);
  });

  it('bounds the worker\'s workflow-task slots and pollers (the SDK needs at least 2 pollers)', () => {
    expect(loadConfig({ PATHWAY_WORKFLOW_TASK_SLOTS: '80', PATHWAY_WORKFLOW_TASK_POLLERS: '20' }).worker).toMatchObject({ workflowTaskSlots: 80, workflowTaskPollers: 20 });
    for (const [name, wrong] of [['PATHWAY_WORKFLOW_TASK_SLOTS', '1'], ['PATHWAY_WORKFLOW_TASK_SLOTS', '1001'], ['PATHWAY_WORKFLOW_TASK_POLLERS', '1'], ['PATHWAY_WORKFLOW_TASK_POLLERS', 'many']] as const) {
      expect(() => loadConfig({ [name]: wrong })).toThrow(new RegExp(name));
    }
  });

  it('names each variable that is wrong', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(/PORT/);
    expect(() => loadConfig({ PATHWAY_DIGEST_TIME: '25:00' })).toThrow(/PATHWAY_DIGEST_TIME/);
    expect(() => loadConfig({ PATHWAY_DIGEST_TIMEZONE: 'Mars/Olympus' })).toThrow(/PATHWAY_DIGEST_TIMEZONE/);
    expect(() => loadConfig({ PATHWAY_PATIENT_KEY: 'short' })).toThrow(/PATHWAY_PATIENT_KEY/);
    expect(() => loadConfig({ PATHWAY_ROLE: 'everything' })).toThrow(ConfigError);
    expect(() => loadConfig({ PATHWAY_RATE_LIMIT_PER_KEY: '0' })).toThrow(/PATHWAY_RATE_LIMIT_PER_KEY/);
    expect(() => loadConfig({ PATHWAY_RATE_LIMIT_AUTH_FAILURES: 'many' })).toThrow(/PATHWAY_RATE_LIMIT_AUTH_FAILURES/);
    expect(() => loadConfig({ PATHWAY_TEMPORAL_DEADLINE_MS: '10' })).toThrow(/PATHWAY_TEMPORAL_DEADLINE_MS/);
    expect(() => loadConfig({ HTTP_TRUST_PROXY: 'yes' })).toThrow(/HTTP_TRUST_PROXY/);
  });

  it('reads the EHR integration: the patient identifier system, CDS Hooks clients and the SMART app, refusing what is incomplete or unsafe', () => {
    expect(loadConfig({}).ehr).toBeUndefined();
    const clients = JSON.stringify([{ iss: 'https://ehr.example', jwksUrl: 'https://ehr.example/jwks.json', careTeams: ['spine-a'] }]);
    const base = { PATHWAY_EHR_PATIENT_SYSTEM: 'https://clinic.example/patients', PATHWAY_PUBLIC_URL: 'https://pathway.example' };
    const c = loadConfig({ ...base, PATHWAY_CDS_CLIENTS: clients, PATHWAY_SMART_CLIENT_ID: 'pathway', PATHWAY_SMART_ISSUERS: 'https://ehr.example/fhir/, https://other.example/fhir' });
    expect(c.ehr).toMatchObject({
      patientIdentifierSystem: 'https://clinic.example/patients',
      cdsClients: [{ iss: 'https://ehr.example', jwksUrl: 'https://ehr.example/jwks.json', jku: [], careTeams: ['spine-a'] }],
      smart: { clientId: 'pathway', issuers: ['https://ehr.example/fhir', 'https://other.example/fhir'], redirectUrl: 'https://pathway.example/smart/callback', scope: expect.stringContaining('fhirUser') },
    });
    expect(() => loadConfig({ PATHWAY_CDS_CLIENTS: clients })).toThrow(/PATHWAY_EHR_PATIENT_SYSTEM/);
    expect(() => loadConfig({ PATHWAY_EHR_PATIENT_SYSTEM: 'x', PATHWAY_CDS_CLIENTS: clients })).toThrow(/PATHWAY_PUBLIC_URL/);
    expect(() => loadConfig({ ...base, PATHWAY_CDS_CLIENTS: '[{"iss":"x","jwksUrl":"http://ehr.example/jwks"}]' })).toThrow(/PATHWAY_CDS_CLIENTS: 0.jwksUrl/);
    expect(() => loadConfig({ ...base, PATHWAY_CDS_CLIENTS: `[${clients.slice(1, -1)},${clients.slice(1, -1)}]` })).toThrow(/twice/);
    expect(() => loadConfig({ ...base, PATHWAY_SMART_CLIENT_ID: 'pathway' })).toThrow(/PATHWAY_SMART_ISSUERS/);
    expect(() => loadConfig({ PATHWAY_SMART_CLIENT_ID: 'pathway', PATHWAY_SMART_ISSUERS: 'https://ehr.example/fhir' })).toThrow(/PATHWAY_EHR_PATIENT_SYSTEM/);
    expect(() => loadConfig({ ...base, PATHWAY_SMART_CLIENT_ID: 'pathway', PATHWAY_SMART_ISSUERS: 'http://ehr.example/fhir' })).toThrow(/loopback/);
  });

  it('treats empty variables as unset, as docker-compose passes them', () => {
    expect(loadConfig({ TEMPORAL_ADDRESS: '', PORT: '' }).temporal.address).toBeUndefined();
  });

  it('turns TLS on for certificates or an API key', () => {
    expect(loadConfig({ TEMPORAL_TLS_CA_PATH: '/etc/ca.pem' }).temporal.tls).toEqual({ caPath: '/etc/ca.pem', certPath: undefined, keyPath: undefined, serverName: undefined });
    expect(loadConfig({ TEMPORAL_TLS: 'true' }).temporal.tls).toBeDefined();
    expect(loadConfig({}).temporal.tls).toBeUndefined();
  });
});

describe('API keys', () => {
  it('falls back to the local keys only outside production', () => {
    expect(loadApiKeys({ production: false }).local).toBe(true);
    expect(() => loadApiKeys({ production: true })).toThrow(/production mode needs API keys/);
  });

  it('authenticates a generated key by its hash alone, with its role and care teams', () => {
    const { key, entry } = newApiKey('coord-1', 'coordinator', ['spine-a']);
    expect(entry.sha256).toBe(hashKey(key));
    expect(JSON.stringify(entry)).not.toContain(key);
    const { store, local } = loadApiKeys({ inline: JSON.stringify([entry]), production: true });
    expect(local).toBe(false);
    expect(store.authenticate(key)).toEqual({ id: 'coord-1', role: 'coordinator', careTeams: ['spine-a'] });
    expect(store.authenticate(key + 'x')).toBeUndefined();
  });

  it('refuses malformed key lists, naming the problem', () => {
    expect(() => loadApiKeys({ inline: '[{"id":"x","role":"admin","sha256":"00"}]', production: true })).toThrow(/PATHWAY_API_KEYS is invalid: 0\.role/);
    expect(() => loadApiKeys({ inline: 'not json', production: true })).toThrow(/not valid JSON/);
  });
});

describe('webhooks', () => {
  it('accepts a default and per-team webhooks, and refuses short secrets or odd URLs', () => {
    const w = loadWebhooks({ inline: JSON.stringify({ default: { url: 'https://hooks.example.test/p', secret: 'x'.repeat(24) } }) });
    expect(w.default?.url).toBe('https://hooks.example.test/p');
    expect(() => loadWebhooks({ inline: JSON.stringify({ default: { url: 'https://h.test', secret: 'short' } }) })).toThrow(/default\.secret/);
    expect(() => loadWebhooks({ inline: JSON.stringify({ careTeams: { 'Spine A': { url: 'https://h.test', secret: 'x'.repeat(24) } } }) })).toThrow(/careTeams/);
    expect(() => loadWebhooks({ inline: JSON.stringify({ default: { url: 'ftp://h.test', secret: 'x'.repeat(24) } }) })).toThrow(/url/);
    expect(loadWebhooks({})).toEqual({ careTeams: {} });
  });
});

describe('production start-up', () => {
  it('refuses to start without API keys, before starting or connecting to anything', async () => {
    const config = loadConfig({ PATHWAY_ENV: 'production', TEMPORAL_ADDRESS: '127.0.0.1:1', PATHWAY_PATIENT_KEY: 'k'.repeat(40) });
    await expect(startService(config, silentLogger)).rejects.toThrow(/production mode needs API keys/);
  });

  it('refuses to start without a patient key', async () => {
    const { entry } = newApiKey('ops', 'viewer');
    const config = loadConfig({ PATHWAY_ENV: 'production', TEMPORAL_ADDRESS: '127.0.0.1:1', PATHWAY_API_KEYS: JSON.stringify([entry]) });
    await expect(startService(config, silentLogger)).rejects.toThrow(/PATHWAY_PATIENT_KEY/);
  });

  it('runs the API and the worker apart only on a shared PostgreSQL record store', async () => {
    const config = loadConfig({ PATHWAY_ROLE: 'api', TEMPORAL_ADDRESS: '127.0.0.1:1' });
    await expect(startService(config, silentLogger)).rejects.toThrow(/PATHWAY_ROLE=api needs DATABASE_URL/);
    const production = loadConfig({ PATHWAY_ENV: 'production', PATHWAY_ROLE: 'worker', TEMPORAL_ADDRESS: '127.0.0.1:1', PATHWAY_PAYLOAD_KEY: 'ab'.repeat(32) });
    await expect(startService(production, silentLogger)).rejects.toThrow(/production mode needs DATABASE_URL/);
  });

  it('never starts an embedded dev server: a production worker without TEMPORAL_ADDRESS refuses to start', async () => {
    const config = loadConfig({ PATHWAY_ENV: 'production', PATHWAY_ROLE: 'worker', PATHWAY_PAYLOAD_KEY: 'ab'.repeat(32) });
    await expect(startService(config, silentLogger)).rejects.toThrow(/production mode needs TEMPORAL_ADDRESS/);
  });
});

describe('operations settings', () => {
  it('reads the metrics port (0 turns metrics off) and the Web UI origins, and refuses odd origins', () => {
    expect(loadConfig({}).metrics.port).toBe(9464);
    expect(loadConfig({ PATHWAY_METRICS_PORT: '0' }).metrics.port).toBe(0);
    expect(loadConfig({ PATHWAY_WEB_UI_ORIGINS: 'http://127.0.0.1:8080, https://ui.example.test' }).webUiOrigins).toEqual(['http://127.0.0.1:8080', 'https://ui.example.test']);
    expect(() => loadConfig({ PATHWAY_WEB_UI_ORIGINS: 'ui.example.test/path' })).toThrow(/PATHWAY_WEB_UI_ORIGINS/);
  });
});
