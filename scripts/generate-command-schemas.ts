/**
 * Writes clinical/command-schemas.json from the commands' zod schemas (clinical/command-schemas.ts).
 *
 *   npm run generate:command-schemas
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { commandJsonSchemas } from '../clinical/command-schemas';

const file = path.join(__dirname, '..', 'clinical', 'command-schemas.json');
writeFileSync(file, `${JSON.stringify(commandJsonSchemas(), null, 2)}\n`);
console.log(`wrote ${path.relative(process.cwd(), file)}`);
