/**
 * The API's end-to-end tests again, on the production-like Temporal server: the real server,
 * as docker-compose.yml runs it, with PostgreSQL persistence and SQL visibility
 * (test/harness/temporal-server.ts).
 */
import { runEndToEndOn } from '../harness/temporal';
import './api.test';

runEndToEndOn('production');
