/**
 * Structured JSON logs through pino, one line an event (pretty lines for a person at a terminal). Callers pass identifiers and kinds only:
 * never a request body, a score, a note or a patient reference. Should one slip in anyway,
 * redaction replaces it (REDACTED_KEYS, at the top level and one level down). A line written
 * while serving a request (an HTTP request, or an activity started for one) carries its requestId.
 */
import pino from 'pino';
import { prettyFactory } from 'pino-pretty';
import { requestContext } from './request-context';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, string | number | boolean | null | undefined>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

/** Keys whose values are patient data or may carry it: a request body, free text, the clinic's reference, scores. */
export const REDACTED_KEYS = [
  'body',
  'note',
  'notes',
  'reason',
  'patientRef',
  'baseline',
  'painNrs',
  'odi',
  'pgic',
  'dailyMme',
  'redFlags',
] as const;
export const REDACTED = '[redacted]';

const redactPaths = REDACTED_KEYS.flatMap((key) => [key, `*.${key}`]);

/**
 * Where the service's lines go: to a terminal (`npm start` at a prompt), pretty lines a person
 * reads; to anything else (a pipe, a file, a log collector) and in production, JSON lines.
 */
export function outputFor(stream: Pick<NodeJS.WriteStream, 'write' | 'isTTY'> = process.stdout, production = false): (line: string) => void {
  if (!stream.isTTY || production) return (line) => stream.write(line + '\n');
  const pretty = prettyFactory({ colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' });
  return (line) => stream.write(pretty(line));
}

export function createLogger(
  level: LogLevel = 'info',
  write: (line: string) => void = outputFor(),
  base: LogFields = {},
): Logger {
  const logger = pino(
    {
      level,
      base,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: redactPaths, censor: REDACTED },
      mixin: () => {
        const context = requestContext.getStore();
        return context ? { requestId: context.requestId } : {};
      },
    },
    { write: (line: string) => write(line.endsWith('\n') ? line.slice(0, -1) : line) },
  );
  return {
    debug: (msg, fields = {}) => logger.debug(fields, msg),
    info: (msg, fields = {}) => logger.info(fields, msg),
    warn: (msg, fields = {}) => logger.warn(fields, msg),
    error: (msg, fields = {}) => logger.error(fields, msg),
  };
}

/** For tests and tools that want silence. */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
