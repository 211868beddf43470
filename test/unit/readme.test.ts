/**
 * The README and the manual (docs/) stay true: every setting the code reads is documented, and
 * the README's two commands exist.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ENV_VARIABLES } from '../../config';
import { LOCAL_KEYS } from '../../api/auth';

const root = path.join(__dirname, '..', '..');
const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
const docsDir = path.join(root, 'docs');
const manual = [readme, ...readdirSync(docsDir).filter((f) => f.endsWith('.md')).map((f) => readFileSync(path.join(docsDir, f), 'utf8'))].join('\n');
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };

describe('README', () => {
  it('documents every environment variable the service reads', () => {
    const missing = ENV_VARIABLES.filter((name) => !manual.includes(`\`${name}\``));
    expect(missing).toEqual([]);
  });

  it('documents each setting once, in one table row', () => {
    const rows = manual.split('\n').filter((line) => line.startsWith('| `'));
    const rowsNaming = (name: string) => rows.filter((row) => row.split('|')[1]!.includes(`\`${name}\``)).length;
    expect(ENV_VARIABLES.filter((name) => rowsNaming(name) !== 1)).toEqual([]);
  });

  it('gives run and test commands that package.json defines', () => {
    expect(readme).toContain('npm ci && npm start');
    expect(readme).toContain('npm ci && npm test');
    expect(pkg.scripts.start).toMatch(/server\/main\.ts/);
    expect(pkg.scripts.test).toMatch(/vitest run/);
    // The test command installs the servers it needs first.
    expect(pkg.scripts.pretest).toMatch(/install-temporal-servers/);
  });

  it('names only npm scripts that package.json defines', () => {
    const named = [...new Set([...manual.matchAll(/npm run ([\w:-]+)/g)].map((m) => m[1]!))];
    expect(named.length).toBeGreaterThan(5);
    expect(named.filter((name) => !(name in pkg.scripts))).toEqual([]);
  });

  it('lists the local API keys the embedded default accepts', () => {
    for (const { key, role } of LOCAL_KEYS) expect(readme).toMatch(new RegExp(`\`${key}\`\\s*\\|\\s*${role}`));
  });

  it('and .ci/run runs the README test command', () => {
    const ci = readFileSync(path.join(root, '.ci', 'run'), 'utf8');
    expect(ci).toMatch(/^npm ci/m);
    expect(ci).toMatch(/^npm test$/m);
  });

  it('stays short, and every document it links to exists', () => {
    expect(Buffer.byteLength(readme)).toBeLessThan(10 * 1024);
    const links = [...readme.matchAll(/\]\((docs\/[^)#]+)/g)].map((m) => m[1]!);
    expect(links.length).toBeGreaterThan(0);
    expect(links.filter((link) => !existsSync(path.join(root, link)))).toEqual([]);
  });
});
