// The workflow bundle's entry point: every workflow the worker runs.
export { pathwayWorkflow } from './pathway';
export { closingMessagesWorkflow } from './closing-messages';
export { dailyDigestWorkflow } from './digest';
export { definitionMigrationWorkflow } from './definition-migration';
