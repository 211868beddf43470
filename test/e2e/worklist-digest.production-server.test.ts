/**
 * The worklist and daily-digest end-to-end tests again, on the production-like Temporal server
 * (test/harness/temporal-server.ts): its SQL visibility and its Schedules.
 */
import { runEndToEndOn } from '../harness/temporal';
import './worklist-digest.test';

runEndToEndOn('production');
