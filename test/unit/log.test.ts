/**
 * The service's logger writes one JSON object a line, and patient data given to it by mistake
 * never reaches the output.
 */
import { describe, expect, it } from 'vitest';
import { createLogger, outputFor, REDACTED, REDACTED_KEYS, type LogFields } from '../../observability/log';

function capture(level: Parameters<typeof createLogger>[0] = 'debug') {
  const lines: string[] = [];
  return { lines, log: createLogger(level, (l) => lines.push(l), { service: 'pathway' }) };
}

describe('logger', () => {
  it('writes JSON lines with time, level, message, base and fields, above the configured level', () => {
    const { lines, log } = capture('info');
    log.debug('not shown');
    log.info('pathway enrolled', { pathwayId: 'pw-1', careTeam: 'spine-a', count: 2, ok: true });
    log.error('failed', { error: 'Error: boom' });
    expect(lines).toHaveLength(2);
    const first = JSON.parse(lines[0]!);
    expect(first).toMatchObject({ level: 'info', msg: 'pathway enrolled', service: 'pathway', pathwayId: 'pw-1', careTeam: 'spine-a', count: 2, ok: true });
    expect(new Date(first.time).toISOString()).toBe(first.time);
    expect(JSON.parse(lines[1]!).level).toBe('error');
    expect(lines.every((l) => !l.includes('\n'))).toBe(true);
  });

  it('never writes a body, a note, a reason, a patient reference or a score, even when a caller passes one', () => {
    const { lines, log } = capture();
    const secrets = {
      body: { patientRef: 'clinic-ref-SECRET-1', baseline: { painNrs: 9 } },
      note: 'SECRET note about the patient',
      notes: 'SECRET notes',
      reason: 'SECRET reason naming the patient',
      patientRef: 'clinic-ref-SECRET-2',
      baseline: { painNrs: 7, odi: 38 },
      painNrs: 7.5,
      odi: 41.5,
      pgic: 6.5,
      dailyMme: 123.5,
      redFlags: ['SECRET-flag'],
    };
    // As a careless caller would: the type forbids nested objects, a cast gets around it.
    log.info('careless', { pathwayId: 'pw-2', ...secrets } as unknown as LogFields);
    log.warn('nested', { request: secrets, pathwayId: 'pw-3' } as unknown as LogFields);
    // Without the timestamp, whose digits can spell a score (11:35:06.564 holds "6.5").
    const out = lines.map((l) => JSON.stringify({ ...JSON.parse(l), time: undefined })).join('\n');
    for (const leaked of ['SECRET', 'clinic-ref', '7.5', '41.5', '6.5', '123.5']) expect(out).not.toContain(leaked);
    const top = JSON.parse(lines[0]!);
    for (const key of REDACTED_KEYS) expect(top[key], key).toBe(REDACTED);
    expect(top.pathwayId).toBe('pw-2');
    const nested = JSON.parse(lines[1]!);
    expect(nested.request.painNrs).toBe(REDACTED);
    expect(nested.request.body).toBe(REDACTED);
    expect(nested.pathwayId).toBe('pw-3');
  });

  it('writes pretty lines to a terminal, JSON lines to anything else and in production', () => {
    const written = (isTTY: boolean, production = false) => {
      const out: string[] = [];
      const log = createLogger('info', outputFor({ isTTY, write: (chunk: string | Uint8Array) => out.push(String(chunk)) > 0 }, production));
      log.info('service started', { port: 3000, note: 'SECRET note' });
      return out.join('');
    };
    const pretty = written(true);
    expect(() => JSON.parse(pretty)).toThrow();
    expect(pretty).toMatch(/INFO.*service started/);
    expect(pretty).toMatch(/port.*3000/);
    expect(pretty).not.toContain('SECRET');
    for (const json of [written(false), written(true, true)]) {
      expect(JSON.parse(json)).toMatchObject({ level: 'info', msg: 'service started', port: 3000, note: REDACTED });
    }
  });
});
