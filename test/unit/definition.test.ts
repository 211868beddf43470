/**
 * The pathway definition schema, the default definition and the registry that serves versions.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PathwayDefinitionSchema, type PathwayDefinition } from '../../clinical/definition';
import pspsLumbarV1 from '../../clinical/definitions/psps-lumbar.v1.json';
import pspsLumbarV2 from '../../clinical/definitions/psps-lumbar.v2.json';
import { DEFAULT_DEFINITION_ID, DefinitionRegistry, loadDefinitions } from '../../clinical/registry';

const raw = (): PathwayDefinition => structuredClone(pspsLumbarV1) as PathwayDefinition;
const withChange = (change: (d: Record<string, any>) => void): unknown => {
  const d = raw() as unknown as Record<string, any>;
  change(d);
  return d;
};
const issuesOf = (value: unknown): string[] => {
  const r = PathwayDefinitionSchema.safeParse(value);
  return r.success ? [] : r.error.issues.map((i) => i.path.join('.'));
};

describe('PathwayDefinitionSchema', () => {
  it('accepts the default definition unchanged, with the numbers of the clinical reference', () => {
    const d = PathwayDefinitionSchema.parse(pspsLumbarV1);
    expect(d).toEqual(pspsLumbarV1);
    expect(d.id).toBe(DEFAULT_DEFINITION_ID);
    expect(d.stages.conservative.minimumDays).toBe(42);
    expect(d.stages.conservative.response).toEqual({ painReductionPercent: 30, odiReductionPoints: 10 });
    expect(d.stages.interventional.response.reliefPercent).toBe(50);
    expect(d.stages.interventional.procedureLimit).toEqual({ count: 4, windowDays: 365 });
    expect(d.stages.scs.trialDays).toBe(7);
    expect(d.stages.scs.response.trialReliefPercent).toBe(50);
    expect(d.followUp).toEqual({ graceDays: 3, lostToFollowUpAfterOverdueDays: 28, reminderEveryDays: 7 });
    // The SCS stage has no minimum duration any more.
    expect(d.stages.scs).not.toHaveProperty('minimumDays');
    expect(Object.keys(d.stages.scs).sort()).toEqual(['followUpEveryDays', 'response', 'scheduleWithinDays', 'trialDays']);
  });

  it('rejects unknown keys at every level (strict)', () => {
    expect(issuesOf(withChange((d) => void (d.extra = 1)))).toEqual(['']);
    expect(issuesOf(withChange((d) => void (d.stages.conservative.maximumDays = 90)))).toEqual(['stages.conservative']);
    expect(issuesOf(withChange((d) => void (d.stages.surgery = {})))).toEqual(['stages']);
    expect(issuesOf(withChange((d) => void (d.stages.interventional.procedureLimit.perRegion = true)))).toEqual([
      'stages.interventional.procedureLimit',
    ]);
    expect(issuesOf(withChange((d) => void (d.followUp.reminderEveryHours = 12)))).toEqual(['followUp']);
  });

  it('refuses the SCS minimum duration the definition used to have', () => {
    expect(issuesOf(withChange((d) => void (d.stages.scs.minimumDays = 0)))).toEqual(['stages.scs']);
    expect(issuesOf(withChange((d) => void (d.stages.scs.minimumDays = 30)))).toEqual(['stages.scs']);
  });

  it('rejects a missing stage or field', () => {
    expect(issuesOf(withChange((d) => void delete d.stages.scs))).toEqual(['stages.scs']);
    expect(issuesOf(withChange((d) => void delete d.followUp.graceDays))).toEqual(['followUp.graceDays']);
    // A definition written before reminders existed no longer loads.
    expect(issuesOf(withChange((d) => void delete d.followUp.reminderEveryDays))).toEqual(['followUp.reminderEveryDays']);
  });

  it('checks ids, versions and titles', () => {
    expect(issuesOf(withChange((d) => void (d.id = 'PSPS')))).toEqual(['id']);
    expect(issuesOf(withChange((d) => void (d.id = 'a')))).toEqual(['id']);
    expect(issuesOf(withChange((d) => void (d.id = '-psps')))).toEqual(['id']);
    expect(issuesOf(withChange((d) => void (d.id = 'psps-cervical-2')))).toEqual([]);
    expect(issuesOf(withChange((d) => void (d.version = 0)))).toEqual(['version']);
    expect(issuesOf(withChange((d) => void (d.version = 1.5)))).toEqual(['version']);
    expect(issuesOf(withChange((d) => void (d.title = '')))).toEqual(['title']);
  });

  it('bounds the clinical numbers', () => {
    expect(issuesOf(withChange((d) => void (d.stages.conservative.response.painReductionPercent = 101)))).toEqual([
      'stages.conservative.response.painReductionPercent',
    ]);
    expect(issuesOf(withChange((d) => void (d.stages.interventional.response.reliefPercent = -1)))).toEqual([
      'stages.interventional.response.reliefPercent',
    ]);
    expect(issuesOf(withChange((d) => void (d.stages.conservative.minimumDays = 3651)))).toEqual(['stages.conservative.minimumDays']);
    expect(issuesOf(withChange((d) => void (d.stages.conservative.minimumDays = 1.5)))).toEqual(['stages.conservative.minimumDays']);
    // Zero days is allowed where it means "no minimum" or "no grace", but not for cadences and windows.
    expect(issuesOf(withChange((d) => void (d.stages.conservative.minimumDays = 0)))).toEqual([]);
    expect(issuesOf(withChange((d) => void (d.followUp.graceDays = 0)))).toEqual([]);
    expect(issuesOf(withChange((d) => void (d.stages.conservative.reassessEveryDays = 0)))).toEqual(['stages.conservative.reassessEveryDays']);
    expect(issuesOf(withChange((d) => void (d.followUp.lostToFollowUpAfterOverdueDays = 0)))).toEqual([
      'followUp.lostToFollowUpAfterOverdueDays',
    ]);
    expect(issuesOf(withChange((d) => void (d.stages.scs.followUpEveryDays = 0)))).toEqual(['stages.scs.followUpEveryDays']);
    // Reminders once overdue: at least every day, whole days, at most the 3650-day bound.
    expect(issuesOf(withChange((d) => void (d.followUp.reminderEveryDays = 0)))).toEqual(['followUp.reminderEveryDays']);
    // A negative interval breaks both lower bounds; every issue names the field.
    expect([...new Set(issuesOf(withChange((d) => void (d.followUp.reminderEveryDays = -7))))]).toEqual(['followUp.reminderEveryDays']);
    expect(issuesOf(withChange((d) => void (d.followUp.reminderEveryDays = 3.5)))).toEqual(['followUp.reminderEveryDays']);
    expect(issuesOf(withChange((d) => void (d.followUp.reminderEveryDays = 3651)))).toEqual(['followUp.reminderEveryDays']);
    expect(issuesOf(withChange((d) => void (d.followUp.reminderEveryDays = '7')))).toEqual(['followUp.reminderEveryDays']);
    expect(issuesOf(withChange((d) => void (d.followUp.reminderEveryDays = 1)))).toEqual([]);
    expect(issuesOf(withChange((d) => void (d.followUp.reminderEveryDays = 3650)))).toEqual([]);
    expect(issuesOf(withChange((d) => void (d.stages.interventional.procedureLimit.count = 0)))).toEqual([
      'stages.interventional.procedureLimit.count',
    ]);
    expect(issuesOf(withChange((d) => void (d.sustainedResponse.consecutiveResponses = 0)))).toEqual([
      'sustainedResponse.consecutiveResponses',
    ]);
    expect(issuesOf(withChange((d) => void (d.sustainedResponse.consecutiveResponses = 11)))).toEqual([
      'sustainedResponse.consecutiveResponses',
    ]);
  });

  it('allows only known procedures and work-up items, and at least one of each', () => {
    expect(issuesOf(withChange((d) => void (d.stages.interventional.procedures = ['scs-trial'])))[0]).toMatch(/^stages\.interventional\.procedures/);
    expect(issuesOf(withChange((d) => void (d.stages.interventional.procedures = [])))).toEqual(['stages.interventional.procedures']);
    expect(issuesOf(withChange((d) => void (d.stages['revision-referral'].workupItems = ['surgical-consult'])))[0]).toMatch(
      /^stages\.revision-referral\.workupItems/,
    );
    expect(issuesOf(withChange((d) => void (d.stages['revision-referral'].workupItems = [])))).toEqual(['stages.revision-referral.workupItems']);
    expect(issuesOf(withChange((d) => void (d.stages.conservative.treatments = [])))).toEqual(['stages.conservative.treatments']);
    expect(issuesOf(withChange((d) => void (d.stages.interventional.procedures = ['nerve-block'])))).toEqual([]);
  });
});

describe('DefinitionRegistry', () => {
  const v = (version: number, id = 'psps-lumbar'): PathwayDefinition => ({ ...raw(), id, version, title: `${id} v${version}` });

  it('returns a named version, or the latest version of an id', () => {
    const r = new DefinitionRegistry([v(1), v(3), v(2), v(1, 'psps-cervical')]);
    expect(r.get('psps-lumbar')?.version).toBe(3);
    expect(r.get('psps-lumbar', 2)?.title).toBe('psps-lumbar v2');
    expect(r.get('psps-lumbar', 4)).toBeUndefined();
    expect(r.get('psps-cervical')?.version).toBe(1);
    expect(r.get('psps-thoracic')).toBeUndefined();
  });

  it('lists by id, then version', () => {
    const r = new DefinitionRegistry([v(2), v(1, 'psps-cervical'), v(1), v(10)]);
    expect(r.list().map((d) => `${d.id}@${d.version}`)).toEqual(['psps-cervical@1', 'psps-lumbar@1', 'psps-lumbar@2', 'psps-lumbar@10']);
  });

  it('refuses the same id and version twice', () => {
    expect(() => new DefinitionRegistry([v(1), v(2), { ...v(1), title: 'other' }])).toThrow('pathway definition psps-lumbar@1 is defined twice');
  });
});

describe('loadDefinitions', () => {
  let folder: string | undefined;
  afterEach(() => {
    if (folder) rmSync(folder, { recursive: true, force: true });
    folder = undefined;
  });
  const tempFolder = (files: Record<string, unknown>): string => {
    folder = mkdtempSync(path.join(tmpdir(), 'pathway-definitions-'));
    for (const [name, content] of Object.entries(files)) {
      writeFileSync(path.join(folder, name), typeof content === 'string' ? content : JSON.stringify(content));
    }
    return folder;
  };

  it('serves the built-in definitions without a folder: v1 stays loadable, v2 is the default for new enrolments', () => {
    const r = loadDefinitions();
    expect(r.list().map((d) => `${d.id}@${d.version}`)).toEqual(['psps-lumbar@1', 'psps-lumbar@2']);
    expect(r.get(DEFAULT_DEFINITION_ID)).toEqual(pspsLumbarV2);
    expect(r.get(DEFAULT_DEFINITION_ID, 1)).toEqual(pspsLumbarV1);
  });

  it('adds every valid JSON file in the folder and ignores other files', () => {
    const v3 = withChange((d) => {
      d.version = 3;
      d.stages.conservative.minimumDays = 28;
      d.followUp.reminderEveryDays = 14;
    });
    const cervical = withChange((d) => {
      d.id = 'psps-cervical';
    });
    const r = loadDefinitions(tempFolder({ 'b.json': v3, 'a.json': cervical, 'notes.txt': 'not a definition', 'c.json.bak': '{' }));
    expect(r.list().map((d) => `${d.id}@${d.version}`)).toEqual(['psps-cervical@1', 'psps-lumbar@1', 'psps-lumbar@2', 'psps-lumbar@3']);
    expect(r.get('psps-lumbar')?.stages.conservative.minimumDays).toBe(28);
    expect(r.get('psps-lumbar', 1)?.stages.conservative.minimumDays).toBe(42);
    expect(r.get('psps-lumbar')?.followUp.reminderEveryDays).toBe(14);
    expect(r.get('psps-lumbar', 1)?.followUp.reminderEveryDays).toBe(7);
  });

  it('names the file and the field of an invalid definition', () => {
    const bad = withChange((d) => {
      d.version = 2;
      d.stages.interventional.response.reliefPercent = 150;
    });
    expect(() => loadDefinitions(tempFolder({ 'broken.json': bad }))).toThrow(
      /pathway definition broken\.json is invalid: stages\.interventional\.response\.reliefPercent: /,
    );
  });

  it('names the missing reminder interval of a definition written for the previous schema', () => {
    const old = withChange((d) => {
      d.version = 2;
      delete d.followUp.reminderEveryDays;
      d.stages.scs.minimumDays = 0;
    });
    const message = (() => {
      try {
        loadDefinitions(tempFolder({ 'old.json': old }));
      } catch (e) {
        return (e as Error).message;
      }
      return 'loaded';
    })();
    expect(message).toMatch(/^pathway definition old\.json is invalid: /);
    expect(message).toContain('followUp.reminderEveryDays: ');
    expect(message).toContain('stages.scs: ');
  });

  it('psps-lumbar v2: the v1 numbers plus every number issue 9 added, from the clinical reference', () => {
    const d = PathwayDefinitionSchema.parse(pspsLumbarV2);
    expect(d).toEqual(pspsLumbarV2);
    expect(d.version).toBe(2);
    expect(d.acceptablePainNrs).toBe(3);
    expect(d.backdateWindowDays).toBe(14);
    expect(d.stages.interventional.minimumIntervalDays).toBe(14);
    expect(d.stages.interventional.requiredBaseline).toEqual(['painNrs', 'odi']);
    expect(d.stages.scs.requiredBaseline).toEqual(['painNrs', 'odi']);
    expect(d.stages.scs.minimumConservativeCareMonths).toBe(6);
    expect(d.stages.scs.response).toEqual({ trialReliefPercent: 50, trialMmeReductionPercent: 50, followUpReliefPercent: 50 });
    expect(d.redFlags).toHaveLength(8);
    // Everything else is v1's.
    expect(d.patientQuestionnaires).toEqual({ inviteDaysBefore: 7, reminderAfterDays: 3, expiresAfterDueDays: 14 });
    const { acceptablePainNrs: _a, backdateWindowDays: _b, redFlags: _r, version: _v, patientQuestionnaires: _q, ...rest } = d;
    const stripped = structuredClone(rest) as Record<string, any>;
    delete stripped.stages.interventional.minimumIntervalDays;
    delete stripped.stages.interventional.requiredBaseline;
    delete stripped.stages.scs.requiredBaseline;
    delete stripped.stages.scs.minimumConservativeCareMonths;
    delete stripped.stages.scs.response.trialMmeReductionPercent;
    const { version: _v1, ...v1 } = pspsLumbarV1;
    expect(stripped).toEqual(v1);
  });

  it('v2 fields are validated: a repeated red flag or measure, an unknown measure, an out-of-range level', () => {
    const v2With = (change: (d: Record<string, any>) => void): string[] => {
      const d = structuredClone(pspsLumbarV2) as Record<string, any>;
      change(d);
      return issuesOf(d);
    };
    expect(v2With(() => undefined)).toEqual([]);
    expect(v2With((d) => d.redFlags.push(d.redFlags[0]))).toEqual(['redFlags']);
    expect(v2With((d) => void (d.redFlags[0].id = 'headache'))).toEqual(['redFlags.0.id']);
    expect(v2With((d) => void (d.stages.interventional.requiredBaseline = ['odi', 'odi']))).toEqual(['stages.interventional.requiredBaseline']);
    expect(v2With((d) => void (d.stages.scs.requiredBaseline = ['pgic']))).toEqual(['stages.scs.requiredBaseline.0']);
    expect(v2With((d) => void (d.acceptablePainNrs = 11))).toEqual(['acceptablePainNrs']);
    expect(v2With((d) => void (d.stages.interventional.minimumIntervalDays = 0))).toEqual(['stages.interventional.minimumIntervalDays']);
  });

  it('refuses a file that redefines the built-in version', () => {
    expect(() => loadDefinitions(tempFolder({ 'copy.json': raw() }))).toThrow('psps-lumbar@1 is defined twice');
  });
});
