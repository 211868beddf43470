/**
 * Makes a new API key: prints the key once (give it to its holder) and the entry to add to
 * PATHWAY_API_KEYS or PATHWAY_API_KEYS_FILE, which holds only its hash.
 *
 *   npm run api-key -- <id> <viewer|coordinator|clinician|lead> [care-team,care-team]
 */
import { ROLES, type Role } from '../clinical/permissions';
import { newApiKey } from '../api/auth';

const [id, role, teams] = process.argv.slice(2);
if (!id || !role || !(ROLES as readonly string[]).includes(role)) {
  console.error(`usage: npm run api-key -- <id> <${ROLES.join('|')}> [care-team,care-team]`);
  process.exit(2);
}
const { key, entry } = newApiKey(id, role as Role, teams ? teams.split(',') : undefined);
console.log(`key (shown once): ${key}`);
console.log(`entry: ${JSON.stringify(entry)}`);
