/**
 * The Temporal SDK's process-wide runtime: its log lines (the SDK's own, the native core's, and
 * workflow and activity loggers') go through the service's JSON logger, its worker metrics to a
 * Prometheus exporter on a loopback port that the metrics server forwards. It handles no
 * signals: the service stops the worker itself, once.
 */
import type { LogLevel as SdkLogLevel, LogMetadata, Logger as SdkLogger } from '@temporalio/common';
import { Runtime } from '@temporalio/worker';
import type { LogFields, Logger } from '../observability/log';

const LEVEL: Record<SdkLogLevel, keyof Logger> = { TRACE: 'debug', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' };

/** Primitive metadata as it is; an error as its class and message; anything else is left out. */
export function logFields(meta: LogMetadata | undefined): LogFields {
  const fields: LogFields = {};
  for (const [key, value] of Object.entries(meta ?? {})) {
    if (value === null || ['string', 'number', 'boolean'].includes(typeof value)) fields[key] = value as string | number | boolean | null;
    else if (value instanceof Error) fields[key] = `${value.name}: ${value.message}`;
  }
  return fields;
}

export function sdkLogger(log: Logger): SdkLogger {
  const emit = (level: SdkLogLevel, message: string, meta?: LogMetadata) => log[LEVEL[level]](message, { source: 'temporal-sdk', ...logFields(meta) });
  return {
    log: emit,
    trace: (m, meta) => emit('TRACE', m, meta),
    debug: (m, meta) => emit('DEBUG', m, meta),
    info: (m, meta) => emit('INFO', m, meta),
    warn: (m, meta) => emit('WARN', m, meta),
    error: (m, meta) => emit('ERROR', m, meta),
  };
}

/**
 * Installs the runtime once a process, before the first Temporal connection. Returns false when
 * one was already installed (tests build several services in one process).
 */
export function installRuntime(log: Logger, opts: { sdkMetricsBindAddress?: string; instance?: string } = {}): boolean {
  try {
    Runtime.install({
      logger: sdkLogger(log),
      shutdownSignals: [],
      telemetryOptions: {
        logging: { filter: { core: 'WARN', other: 'ERROR' }, forward: {} },
        ...(opts.sdkMetricsBindAddress ? { metrics: { prometheus: { bindAddress: opts.sdkMetricsBindAddress }, ...(opts.instance ? { globalTags: { instance: opts.instance } } : {}) } } : {}),
      },
    });
    return true;
  } catch (err) {
    if (err instanceof Error && /already (been )?(installed|instantiated)/i.test(err.message)) return false;
    throw err;
  }
}
