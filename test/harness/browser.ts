/**
 * Headless Chromium from the system (Debian's `chromium`, which `npm test` installs when missing) through
 * playwright-core, and axe-core's accessibility check of a page.
 */
import AxeBuilder from '@axe-core/playwright';
import { chromium, type Browser, type Page } from 'playwright-core';
import { CHROMIUM_CANDIDATES, findChromium } from './system-tools';

/** Fails (never skips) when no Chromium is installed. */
export async function launchChromium(): Promise<Browser> {
  const executablePath = findChromium();
  if (!executablePath) throw new Error(`no Chromium at ${CHROMIUM_CANDIDATES.join(', ')}: apt-get install -y chromium (\`npm test\` does as root or with sudo)`);
  return chromium.launch({ executablePath, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
}

/** Serious and critical WCAG 2.1 A/AA violations on the page as it is now, as "rule: target" lines. */
export async function seriousViolations(page: Page): Promise<string[]> {
  const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']).analyze();
  if (results.passes.length === 0) throw new Error('axe checked nothing on the page');
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .flatMap((v) => v.nodes.map((n) => `${v.id} (${v.impact}): ${n.target.join(' ')} – ${v.help}`));
}
