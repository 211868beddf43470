/**
 * The instruments as data: each a FHIR R4 Questionnaire with Spanish beside English; ODI scored
 * as the percentage of the sections answered (at most two left out); a clinic's own text may
 * replace the words but not what is scored.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { answerable, instrumentsFor, itemText, loadInstruments, odiPercent, redFlagAdvice, scoreAnswers, titleOf } from '../../clinical/instruments';
import { RED_FLAGS } from '../../clinical/vocabulary';
import { fhirProblems, loadR4Definitions } from '../harness/fhir-validator';

const registry = loadInstruments();
const ODI_SECTIONS = answerable(registry.get('odi')).map((i) => i.linkId);

describe('instruments', () => {
  it('are valid FHIR R4 Questionnaires with their LOINC codes, in English and Spanish', () => {
    loadR4Definitions();
    for (const q of registry.all()) {
      expect({ id: q.id, problems: fhirProblems(q) }).toEqual({ id: q.id, problems: [] });
      expect(q.resourceType).toBe('Questionnaire');
      expect(q.status).toBe('active');
      for (const item of answerable(q)) {
        expect(itemText(item, 'en')).not.toBe('');
        expect(itemText(item, 'es'), `${q.id}.${item.linkId} in Spanish`).not.toBe(itemText(item, 'en'));
      }
      expect(titleOf(q, 'es')).not.toBe(titleOf(q, 'en'));
    }
    expect(registry.get('pain-nrs').code?.[0]?.code).toBe('72514-3');
    expect(registry.get('odi').item?.find((i) => i.linkId === 'odi-total')?.code?.[0]?.code).toBe('97909-6');
    expect(ODI_SECTIONS).toHaveLength(10);
    // The red-flag screen asks about every red flag of the definitions.
    expect(answerable(registry.get('red-flag-screen')).map((i) => i.linkId).sort()).toEqual([...RED_FLAGS].sort());
  });

  it('scores the ODI as the percentage of the sections answered, and asks again when more than two are left out', () => {
    expect(odiPercent([5, 5, 5, 5, 5, 5, 5, 5, 5, 5])).toBe(100);
    expect(odiPercent([1, 2, 3, 4, 0, 1, 2, 3, 4])).toBe(44); // 20 of 45
    const answered = (n: number) => Object.fromEntries(ODI_SECTIONS.slice(0, n).map((s) => [`odi.${s}`, '2']));
    expect(scoreAnswers(registry, ['odi'], answered(8)).scores.odi).toBe(40);
    expect(scoreAnswers(registry, ['odi'], answered(7)).errors).toEqual([{ linkId: 'odi', problem: 'too-few-sections' }]);
    expect(scoreAnswers(registry, ['odi'], { ...answered(10), 'odi.lifting': '6' }).errors).toEqual([{ linkId: 'odi.lifting', problem: 'invalid' }]);
  });

  it('reads pain, PGIC, MME and the red flags, and says what the patient must do', () => {
    const scored = scoreAnswers(registry, ['pain-nrs', 'pgic', 'daily-mme', 'red-flag-screen'], {
      'pain-nrs.pain': '6',
      'pgic.pgic': '2',
      'daily-mme.daily-mme': '42,5',
      ...Object.fromEntries(RED_FLAGS.map((f) => [`red-flag-screen.${f}`, f === 'infection' ? 'yes' : 'no'])),
    });
    expect(scored.errors).toEqual([]);
    expect(scored.scores).toEqual({ painNrs: 6, pgic: 2, dailyMme: 42.5 });
    expect(scored.redFlags).toEqual(['infection']);
    expect(redFlagAdvice(scored.redFlags)).toBe('today');
    expect(redFlagAdvice(['saddle-anaesthesia', 'infection'])).toBe('emergency');
    expect(redFlagAdvice([])).toBeNull();
    expect(scoreAnswers(registry, ['pain-nrs'], {}).errors).toEqual([{ linkId: 'pain-nrs.pain', problem: 'required' }]);
    expect(scoreAnswers(registry, ['pain-nrs'], { 'pain-nrs.pain': '11' }).errors).toEqual([{ linkId: 'pain-nrs.pain', problem: 'invalid' }]);
  });

  it('asks for the daily opioid dose only where the stage or the pathway uses it', () => {
    expect(instrumentsFor('conservative', false)).toEqual(['pain-nrs', 'odi', 'pgic', 'red-flag-screen']);
    expect(instrumentsFor('scs', false)).toContain('daily-mme');
    expect(instrumentsFor('conservative', true)).toContain('daily-mme');
  });

  it("loads a clinic's licensed text in place of the placeholder, refusing one that changes what is scored", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'instruments-'));
    const licensed = structuredClone(registry.get('odi'));
    licensed.item![0]!.text = 'Section 1 - Pain intensity (licensed wording)';
    writeFileSync(path.join(dir, 'odi.json'), JSON.stringify(licensed));
    expect(itemText(loadInstruments(dir).get('odi').item![0]!, 'en')).toBe('Section 1 - Pain intensity (licensed wording)');
    licensed.item![0]!.answerOption!.pop();
    writeFileSync(path.join(dir, 'odi.json'), JSON.stringify(licensed));
    expect(() => loadInstruments(dir)).toThrow(/must keep the built-in items/);
  });
});
