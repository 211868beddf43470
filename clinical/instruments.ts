/**
 * The questionnaires patients answer at home, as data: each instrument is a FHIR R4 Questionnaire
 * (clinical/questionnaires/*.json, SDC style, with Spanish beside English through the translation
 * extension), replaceable by a clinic's own (its licensed ODI text) from a folder. Scoring is here,
 * pure: the pain NRS as answered, the ODI as the percentage of the sections answered (ODI v2.1a
 * manual; at most two left out), the PGIC 1-7, the daily MME, and the red flags the screen reports.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Questionnaire, QuestionnaireItem, QuestionnaireItemAnswerOption } from '@medplum/fhirtypes';
import type { Scores } from './events';
import type { PatientLanguage } from './patient';
import { RED_FLAGS, type STAGES } from './vocabulary';
import dailyMme from './questionnaires/daily-mme.json';
import odi from './questionnaires/odi.json';
import painNrs from './questionnaires/pain-nrs.json';
import pgic from './questionnaires/pgic.json';
import redFlagScreen from './questionnaires/red-flag-screen.json';

export const INSTRUMENT_IDS = ['pain-nrs', 'odi', 'pgic', 'daily-mme', 'red-flag-screen'] as const;
export type InstrumentId = (typeof INSTRUMENT_IDS)[number];
type RedFlag = (typeof RED_FLAGS)[number];

const TRANSLATION = 'http://hl7.org/fhir/StructureDefinition/translation';
const ORDINAL = 'http://hl7.org/fhir/StructureDefinition/ordinalValue';
const LICENCE = 'https://pathway.invalid/fhir/StructureDefinition/licence';
/** ODI v2.1a: scored only when at most this many sections are left out. */
export const ODI_MAX_MISSING_SECTIONS = 2;

type Translatable = { _text?: unknown; _title?: unknown; _display?: unknown; _description?: unknown };

/** The element's text in the patient's language, English when no translation is given. */
export function translated(english: string | undefined, twin: unknown, language: PatientLanguage): string {
  if (language === 'en' || !twin) return english ?? '';
  const ext = (twin as { extension?: Array<{ url: string; extension?: Array<{ url: string; valueCode?: string; valueString?: string }> }> }).extension ?? [];
  for (const t of ext.filter((e) => e.url === TRANSLATION)) {
    const parts = t.extension ?? [];
    if (parts.find((p) => p.url === 'lang')?.valueCode === language) return parts.find((p) => p.url === 'content')?.valueString ?? english ?? '';
  }
  return english ?? '';
}

export const itemText = (item: QuestionnaireItem, language: PatientLanguage) => translated(item.text, (item as Translatable)._text, language);
export const titleOf = (q: Questionnaire, language: PatientLanguage) => translated(q.title, (q as Translatable)._title, language);
export const descriptionOf = (q: Questionnaire, language: PatientLanguage) => translated(q.description, (q as Translatable)._description, language);
export const optionText = (o: QuestionnaireItemAnswerOption, language: PatientLanguage) =>
  o.valueCoding ? translated(o.valueCoding.display, (o.valueCoding as Translatable)._display, language) : String(o.valueInteger ?? o.valueString ?? '');
export const licenceOf = (q: Questionnaire) => q.extension?.find((e) => e.url === LICENCE)?.valueString;

/** The value an answer option stands for: its ordinal value (the score), or its integer. */
export function optionValue(o: QuestionnaireItemAnswerOption): number | undefined {
  const ordinal = o.valueCoding?.extension?.find((e) => e.url === ORDINAL)?.valueDecimal;
  return ordinal ?? o.valueInteger;
}

/** The items a patient answers (calculated and read-only items are the service's). */
export const answerable = (q: Questionnaire): QuestionnaireItem[] => (q.item ?? []).filter((i) => !i.readOnly);

export class InstrumentRegistry {
  private readonly byId = new Map<string, Questionnaire>();

  constructor(questionnaires: Questionnaire[]) {
    for (const q of questionnaires) this.byId.set(q.id!, q);
    for (const id of INSTRUMENT_IDS) if (!this.byId.has(id)) throw new Error(`instrument ${id} is missing`);
  }

  get(id: InstrumentId): Questionnaire {
    return this.byId.get(id)!;
  }

  all(): Questionnaire[] {
    return INSTRUMENT_IDS.map((id) => this.get(id));
  }
}

function checkInstrument(q: Questionnaire, source: string): Questionnaire {
  if (q.resourceType !== 'Questionnaire' || !INSTRUMENT_IDS.includes(q.id as InstrumentId)) {
    throw new Error(`${source}: not a Questionnaire with one of the ids ${INSTRUMENT_IDS.join(', ')}`);
  }
  const builtIn = BUILT_IN.find((b) => b.id === q.id)!;
  // A clinic's text may change the words, never what is scored: the same items and answer values.
  const shape = (x: Questionnaire) => answerable(x).map((i) => `${i.linkId}:${i.type}:${(i.answerOption ?? []).map(optionValue).join(',')}`).join('|');
  if (shape(q) !== shape(builtIn)) throw new Error(`${source}: ${q.id} must keep the built-in items (linkIds, types and answer values): ${shape(builtIn)}`);
  return q;
}

const BUILT_IN = [painNrs, odi, pgic, dailyMme, redFlagScreen] as unknown as Questionnaire[];

/** The built-in instruments, each replaced by a clinic's own from `folder` (its licensed ODI text) when given. */
export function loadInstruments(folder?: string): InstrumentRegistry {
  const chosen = new Map(BUILT_IN.map((q) => [q.id!, q]));
  if (folder) {
    for (const file of readdirSync(folder).filter((f) => f.endsWith('.json')).sort()) {
      const q = checkInstrument(JSON.parse(readFileSync(path.join(folder, file), 'utf8')) as Questionnaire, `questionnaire ${file}`);
      chosen.set(q.id!, q);
    }
  }
  return new InstrumentRegistry([...chosen.values()]);
}

/** Which instruments a reassessment asks for: the daily opioid dose only where the stage or the pathway uses it. */
export function instrumentsFor(stage: (typeof STAGES)[number], usesMme: boolean): InstrumentId[] {
  return ['pain-nrs', 'odi', 'pgic', ...(usesMme || stage === 'scs' ? (['daily-mme'] as const) : []), 'red-flag-screen'];
}

/** A form's answers: linkId to the submitted value (the option's code, a number, "yes"/"no"). */
export type Answers = Record<string, string | undefined>;

export interface Scored {
  scores: Partial<Scores>;
  redFlags: RedFlag[];
  /** linkId and what is wrong: a required item left out, a value out of range, too few ODI sections. */
  errors: Array<{ linkId: string; problem: 'required' | 'invalid' | 'too-few-sections' }>;
  /** Each answered item as FHIR's QuestionnaireResponse would hold it. */
  items: Array<{ instrument: InstrumentId; linkId: string; value: number | boolean | string; code?: string }>;
}

/** Scores a submission of the given instruments, or says which answers are missing or wrong. */
export function scoreAnswers(registry: InstrumentRegistry, instruments: readonly InstrumentId[], answers: Answers): Scored {
  const out: Scored = { scores: {}, redFlags: [], errors: [], items: [] };
  for (const id of instruments) {
    const q = registry.get(id);
    const values: number[] = [];
    for (const item of answerable(q)) {
      const raw = answers[`${id}.${item.linkId}`]?.trim();
      if (raw === undefined || raw === '') {
        if (item.required) out.errors.push({ linkId: `${id}.${item.linkId}`, problem: 'required' });
        continue;
      }
      if (item.type === 'boolean') {
        if (raw !== 'yes' && raw !== 'no') out.errors.push({ linkId: `${id}.${item.linkId}`, problem: 'invalid' });
        else {
          out.items.push({ instrument: id, linkId: item.linkId, value: raw === 'yes' });
          if (raw === 'yes' && id === 'red-flag-screen' && (RED_FLAGS as readonly string[]).includes(item.linkId)) out.redFlags.push(item.linkId as RedFlag);
        }
        continue;
      }
      if (item.answerOption) {
        const option = item.answerOption.find((o) => (o.valueCoding?.code ?? String(o.valueInteger)) === raw);
        const value = option ? optionValue(option) : undefined;
        if (value === undefined) out.errors.push({ linkId: `${id}.${item.linkId}`, problem: 'invalid' });
        else {
          values.push(value);
          out.items.push({ instrument: id, linkId: item.linkId, value, ...(option?.valueCoding?.code ? { code: option.valueCoding.code } : {}) });
        }
        continue;
      }
      // A free number (the daily MME): decimal, not negative, at most 10,000.
      const n = /^\d{1,5}([.,]\d{1,2})?$/.test(raw) ? Number(raw.replace(',', '.')) : NaN;
      if (!Number.isFinite(n) || n > 10_000) out.errors.push({ linkId: `${id}.${item.linkId}`, problem: 'invalid' });
      else {
        values.push(n);
        out.items.push({ instrument: id, linkId: item.linkId, value: n });
      }
    }
    if (id === 'pain-nrs' && values.length) out.scores.painNrs = values[0]!;
    if (id === 'pgic' && values.length) out.scores.pgic = values[0]!;
    if (id === 'daily-mme' && values.length) out.scores.dailyMme = values[0]!;
    if (id === 'odi') {
      const sections = answerable(q).length;
      if (sections - values.length > ODI_MAX_MISSING_SECTIONS) out.errors.push({ linkId: 'odi', problem: 'too-few-sections' });
      else out.scores.odi = odiPercent(values);
    }
  }
  return out;
}

/** ODI v2.1a: 100 x the sum of the answered sections / (5 x the sections answered), to the nearest whole percent. */
export function odiPercent(sectionScores: readonly number[]): number {
  if (sectionScores.length === 0) throw new Error('no ODI section answered');
  const sum = sectionScores.reduce((a, b) => a + b, 0);
  return Math.round((100 * sum) / (5 * sectionScores.length));
}

/** Red flags that mean possible cauda equina syndrome or a worsening deficit: the patient goes to an emergency department now. */
export const EMERGENCY_RED_FLAGS: readonly RedFlag[] = ['bladder-bowel-dysfunction', 'saddle-anaesthesia', 'bilateral-leg-weakness', 'sexual-dysfunction', 'progressive-motor-deficit'];

/** What the patient is told at once: emergency department now, or the care team today. */
export function redFlagAdvice(flags: readonly RedFlag[]): 'emergency' | 'today' | null {
  if (flags.some((f) => EMERGENCY_RED_FLAGS.includes(f))) return 'emergency';
  return flags.length ? 'today' : null;
}
