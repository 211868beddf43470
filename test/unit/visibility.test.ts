/**
 * The dashboard's pure parts: where a pathway goes on the worklist, the digest's counts, and the
 * visibility query built from validated filters.
 */
import { describe, expect, it } from 'vitest';
import { DAY_MS } from '../../clinical/rules';
import { digestCounts, literal, visibilityQuery, worklistCategory, type PathwayRow } from '../../worker/visibility';

const NOW = Date.parse('2027-03-10T09:00:00Z');
const row = (fields: Partial<PathwayRow> = {}): PathwayRow => ({
  pathwayId: 'pw-1',
  careTeam: 'spine-a',
  stage: 'conservative',
  status: 'active',
  nextDueAt: new Date(NOW + 20 * DAY_MS).toISOString(),
  nextDueKind: 'reassessment',
  overdue: false,
  undelivered: false,
  definition: { id: 'psps-lumbar', version: 1 },
  enrolledAt: '2027-01-01T00:00:00Z',
  closedAt: null,
  ...fields,
});

describe('worklistCategory', () => {
  it('puts urgent referral first, then undelivered, then overdue', () => {
    expect(worklistCategory(row({ status: 'urgent-referral', undelivered: true, overdue: true }), NOW, 7)).toBe('urgent-referral');
    expect(worklistCategory(row({ undelivered: true, overdue: true }), NOW, 7)).toBe('undelivered');
    expect(worklistCategory(row({ overdue: true, nextDueAt: new Date(NOW - 5 * DAY_MS).toISOString() }), NOW, 7)).toBe('overdue');
  });

  it('is due today until the end of the UTC day, due soon within the window, and absent after it', () => {
    expect(worklistCategory(row({ nextDueAt: '2027-03-10T23:59:00Z' }), NOW, 7)).toBe('due-today');
    expect(worklistCategory(row({ nextDueAt: '2027-03-09T12:00:00Z' }), NOW, 7)).toBe('due-today'); // due, within its grace
    expect(worklistCategory(row({ nextDueAt: '2027-03-11T00:00:01Z' }), NOW, 7)).toBe('due-soon');
    expect(worklistCategory(row({ nextDueAt: new Date(NOW + 7 * DAY_MS).toISOString() }), NOW, 7)).toBe('due-soon');
    expect(worklistCategory(row({ nextDueAt: new Date(NOW + 7 * DAY_MS + 1000).toISOString() }), NOW, 7)).toBeNull();
    expect(worklistCategory(row({ nextDueAt: new Date(NOW + 20 * DAY_MS).toISOString() }), NOW, 30)).toBe('due-soon');
  });

  it('leaves out held pathways and pathways with nothing due', () => {
    expect(worklistCategory(row({ status: 'on-hold', overdue: true }), NOW, 7)).toBeNull();
    expect(worklistCategory(row({ nextDueAt: null }), NOW, 7)).toBeNull();
  });
});

describe('digestCounts', () => {
  it('counts per care team what is active, held, urgent, overdue, due today, due this week and undelivered', () => {
    const rows = [
      row({ pathwayId: 'a', nextDueAt: '2027-03-10T15:00:00Z' }),
      row({ pathwayId: 'b', nextDueAt: new Date(NOW + 3 * DAY_MS).toISOString() }),
      row({ pathwayId: 'c', overdue: true, nextDueAt: new Date(NOW - 4 * DAY_MS).toISOString() }),
      row({ pathwayId: 'd', status: 'on-hold', overdue: true }),
      row({ pathwayId: 'e', status: 'urgent-referral', undelivered: true }),
      row({ pathwayId: 'f', careTeam: 'spine-b' }),
    ];
    expect(digestCounts(rows, NOW)).toEqual([
      { careTeam: 'spine-a', counts: { active: 3, onHold: 1, urgentReferral: 1, overdue: 1, dueToday: 1, dueThisWeek: 2, undelivered: 1 } },
      { careTeam: 'spine-b', counts: { active: 1, onHold: 0, urgentReferral: 0, overdue: 0, dueToday: 0, dueThisWeek: 0, undelivered: 0 } },
    ]);
  });
});

describe('visibilityQuery', () => {
  it('composes the filters, limiting a scoped key to its care teams', () => {
    const q = visibilityQuery({ stage: 'scs', status: 'active', careTeams: ['spine-a', 'spine-b'], overdue: true, undelivered: false, dueBefore: '2027-03-10T10:00:00+01:00', open: true });
    expect(q).toContain("WorkflowType = 'pathwayWorkflow'");
    expect(q).toContain("ExecutionStatus != 'ContinuedAsNew'");
    expect(q).toContain("ExecutionStatus = 'Running'");
    expect(q).toContain("PathwayStage = 'scs'");
    expect(q).toContain("PathwayStatus = 'active'");
    expect(q).toContain("PathwayCareTeam IN ('spine-a', 'spine-b')");
    expect(q).toContain('PathwayOverdue = true');
    expect(q).toContain('PathwayUndelivered = false');
    expect(q).toContain("PathwayNextDue < '2027-03-10T09:00:00.000Z'");
  });
});

describe('literal', () => {
  it('quotes a value with its quotes and backslashes escaped, and refuses control characters', () => {
    expect(literal('spine-a')).toBe("'spine-a'");
    expect(literal("a' OR 'x")).toBe("'a\\' OR \\'x'");
    expect(literal('a\\')).toBe("'a\\\\'");
    expect(() => literal('a\u0000')).toThrow(/control character/);
  });
});
