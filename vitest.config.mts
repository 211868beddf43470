import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // One time-skipping server and one dev server serve the whole run (test/setup/temporal-servers.ts).
    // Time skipping is global to its server, so test files run one after another.
    // HAPI's FHIR validator starts once per run too (test/setup/fhir-validator.ts).
    globalSetup: ['test/setup/temporal-servers.ts', 'test/setup/fhir-validator.ts'],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 180_000,
    reporters: ['default', './test/setup/summary-reporter.ts'],
  },
});
