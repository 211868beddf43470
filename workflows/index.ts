// The workflow bundle's entry point: every workflow the worker runs.
export { pathwayWorkflow } from './pathway';
export { dailyDigestWorkflow } from './digest';
