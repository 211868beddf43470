/**
 * The README stays true: every setting the code reads is documented, and its two commands exist.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ENV_VARIABLES } from '../../worker/config';
import { LOCAL_KEYS } from '../../api/auth';

const root = path.join(__dirname, '..', '..');
const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };

describe('README', () => {
  it('documents every environment variable the service reads', () => {
    const missing = ENV_VARIABLES.filter((name) => !readme.includes(`\`${name}\``));
    expect(missing).toEqual([]);
  });

  it('gives run and test commands that package.json defines', () => {
    expect(readme).toContain('npm ci && npm start');
    expect(readme).toContain('npm ci && npm test');
    expect(pkg.scripts.start).toMatch(/worker\/main\.ts/);
    expect(pkg.scripts.test).toMatch(/vitest run/);
    // The test command installs the servers it needs first.
    expect(pkg.scripts.pretest).toMatch(/install-temporal-servers/);
  });

  it('lists the local API keys the embedded default accepts', () => {
    for (const { key, role } of LOCAL_KEYS) expect(readme).toMatch(new RegExp(`\`${key}\`\\s*\\|\\s*${role}`));
  });

  it('and .ci/run runs the README test command', () => {
    const ci = readFileSync(path.join(root, '.ci', 'run'), 'utf8');
    expect(ci).toMatch(/^npm ci/m);
    expect(ci).toMatch(/^npm test$/m);
  });
});
