/**
 * `npm run erase-patient -- --pathway pw-…` (or `--reference`, reading the clinic's reference from
 * standard input, so it stays out of the shell's history): erases who the patient is (reference,
 * name, date of birth, contact) on their request. The de-identified clinical record stays for the
 * cohort reports; the erasure is recorded in the pathway's access entries. Runs against
 * DATABASE_URL, or the embedded store in PATHWAY_DATA_DIR while the service is stopped.
 */
import { userInfo } from 'node:os';
import { text } from 'node:stream/consumers';
import { pathwayIdFor } from '../api/pathways-service';
import { PathwayIdSchema, PatientRefSchema } from '../api/schemas';
import { createLogger } from '../observability/log';
import { eraseIdentity } from '../record/patients';
import { openRecordStore } from '../record/store';
import { loadConfig } from '../config';
import { patientKey } from '../server/service';

async function main(): Promise<void> {
  const [flag, value] = process.argv.slice(2);
  const config = loadConfig();
  const log = createLogger(config.logLevel);
  let pathwayId: string;
  if (flag === '--pathway' && value && PathwayIdSchema.safeParse(value).success) pathwayId = value;
  else if (flag === '--reference' && !value) {
    const ref = PatientRefSchema.safeParse((await text(process.stdin)).trim());
    if (!ref.success) throw new Error('standard input is not a patient reference (6-128 letters, digits or . _ : -)');
    pathwayId = pathwayIdFor(ref.data, patientKey(config, log));
  } else {
    throw new Error('usage: npm run erase-patient -- --pathway pw-<32 hex>   or   echo <reference> | npm run erase-patient -- --reference');
  }
  const store = await openRecordStore({ url: config.record.databaseUrl, dataDir: config.dataDir });
  try {
    const erased = await eraseIdentity(store.db, pathwayId, { actorId: `command:${userInfo().username}`, actorRole: 'system', route: 'npm run erase-patient' });
    log.info(erased ? 'patient identity erased; the de-identified record stays' : 'no identity kept for this pathway: nothing to erase', { pathwayId });
  } finally {
    await store.close();
  }
}

main().catch((err: unknown) => {
  console.error(JSON.stringify({ time: new Date().toISOString(), level: 'error', msg: 'erase failed', error: err instanceof Error ? err.message : String(err) }));
  process.exit(1);
});
