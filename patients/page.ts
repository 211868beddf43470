/**
 * The patient's page, rendered on the server as plain HTML: no script, no sign-in, phone-first,
 * large touch targets, one short scrolling form in parts with its progress, native controls a
 * screen reader and the keyboard know, in the patient's language. It shows nothing about the
 * patient but their own questions.
 */
import type { Questionnaire, QuestionnaireItem } from '@medplum/fhirtypes';
import { answerable, descriptionOf, itemText, optionText, titleOf, type Answers, type InstrumentId, type InstrumentRegistry, type Scored } from '../clinical/instruments';
import type { PatientLanguage } from '../clinical/patient';
import { WORDS, type Words } from './words';

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export const PATIENT_CSS = `
:root { font-family: system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif; font-size: 18px; line-height: 1.5; color: #1f2933; background: #f3f5f8; }
* { box-sizing: border-box; }
body { margin: 0; overflow-wrap: anywhere; hyphens: auto; }
main { max-width: 40rem; margin: 0 auto; padding: 1rem; }
h1 { font-size: 1.6rem; margin: 0.5rem 0 0.75rem; }
h2 { font-size: 1.25rem; margin: 0 0 0.25rem; }
.part { background: #fff; border: 1px solid #c5ccd6; border-radius: 8px; padding: 1rem; margin: 0 0 1rem; }
.progress { font-size: 0.95rem; color: #4a5563; margin: 0 0 0.25rem; }
fieldset { border: 0; margin: 0 0 1.25rem; padding: 0; min-width: 0; }
legend { font-weight: 600; padding: 0; margin-bottom: 0.5rem; }
.choices { display: grid; gap: 0.5rem; }
.choices.scale { grid-template-columns: repeat(auto-fill, minmax(3.25rem, 1fr)); }
.choices.pair { grid-template-columns: 1fr 1fr; }
.choice { position: relative; }
.choice input { position: absolute; opacity: 0; width: 1px; height: 1px; }
.choice label { display: flex; align-items: center; min-height: 3rem; padding: 0.6rem 0.8rem; border: 2px solid #4a5563; border-radius: 8px; background: #fff; cursor: pointer; }
.choices.scale .choice label, .choices.pair .choice label { justify-content: center; font-weight: 600; }
.choice input:checked + label { background: #0b5cad; border-color: #0b5cad; color: #fff; }
.choice input:focus-visible + label { outline: 3px solid #b35c00; outline-offset: 2px; }
.anchors { display: flex; justify-content: space-between; font-size: 0.9rem; color: #4a5563; margin-top: 0.25rem; }
input[type=text], textarea { width: 100%; font: inherit; padding: 0.6rem; border: 2px solid #4a5563; border-radius: 8px; min-height: 3rem; }
textarea { min-height: 6rem; }
input:focus-visible, textarea:focus-visible, button:focus-visible, a:focus-visible { outline: 3px solid #b35c00; outline-offset: 2px; }
label.text { display: block; font-weight: 600; margin-bottom: 0.5rem; }
.hint { display: block; font-weight: 400; color: #4a5563; font-size: 0.95rem; }
button { font: inherit; font-weight: 600; width: 100%; min-height: 3.25rem; border: 0; border-radius: 8px; background: #0b5cad; color: #fff; cursor: pointer; }
.error { color: #8e1b13; font-weight: 600; margin: 0 0 0.5rem; }
.invalid legend, .invalid label.text { color: #8e1b13; }
.summary { border: 3px solid #8e1b13; background: #fff; border-radius: 8px; padding: 1rem; margin-bottom: 1rem; }
.summary a { color: #8e1b13; }
.alert { border: 3px solid #8e1b13; background: #fde8e6; border-radius: 8px; padding: 1rem; margin-bottom: 1rem; }
.alert h2 { color: #8e1b13; font-size: 1.4rem; }
.notice { background: #fff; border: 1px solid #c5ccd6; border-radius: 8px; padding: 1rem; }
.notice p, .alert p { margin: 0; }
`;

function shell(language: PatientLanguage, title: string, body: string): string {
  return `<!doctype html>
<html lang="${language}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<meta name="robots" content="noindex, nofollow">
<title>${escape(title)}</title>
<link rel="stylesheet" href="/p/patient.css">
</head>
<body>
<main id="main">
${body}
</main>
</body>
</html>
`;
}

type Problem = Scored['errors'][number];

function problemText(w: Words, p: Problem): string {
  return p.problem === 'required' ? w.required : p.problem === 'too-few-sections' ? w.tooFew : p.linkId.startsWith('daily-mme') ? w.number : w.invalid;
}

const fieldId = (name: string) => `q-${name.replace(/[^A-Za-z0-9-]/g, '-')}`;

function choiceItem(name: string, item: QuestionnaireItem, language: PatientLanguage, w: Words, answers: Answers, problem: Problem | undefined): string {
  const id = fieldId(name);
  const scale = item.type === 'integer';
  const options =
    item.type === 'boolean'
      ? [
          { value: 'yes', text: w.yes },
          { value: 'no', text: w.no },
        ]
      : (item.answerOption ?? []).map((o) => ({ value: o.valueCoding?.code ?? String(o.valueInteger), text: optionText(o, language) }));
  const error = problem ? `<p class="error" id="${id}-error">${escape(problemText(w, problem))}</p>` : '';
  const radios = options
    .map(
      (o, i) =>
        `<div class="choice"><input type="radio" id="${id}-${i}" name="${escape(name)}" value="${escape(o.value)}"${answers[name] === o.value ? ' checked' : ''}${item.required ? ' required' : ''}><label for="${id}-${i}">${escape(o.text)}</label></div>`,
    )
    .join('');
  const anchors = scale ? `<div class="anchors" aria-hidden="true"><span>0</span><span>10</span></div>` : '';
  const kind = scale ? ' scale' : item.type === 'boolean' ? ' pair' : '';
  return `<fieldset id="${id}"${problem ? ` class="invalid" aria-describedby="${id}-error"` : ''}><legend>${escape(itemText(item, language))}${item.required ? '' : ` <span class="hint">${escape(w.optional)}</span>`}</legend>${error}<div class="choices${kind}">${radios}</div>${anchors}</fieldset>`;
}

function numberItem(name: string, item: QuestionnaireItem, language: PatientLanguage, w: Words, answers: Answers, problem: Problem | undefined): string {
  const id = fieldId(name);
  const error = problem ? `<p class="error" id="${id}-error">${escape(problemText(w, problem))}</p>` : '';
  return `<div class="field${problem ? ' invalid' : ''}"><label class="text" for="${id}">${escape(itemText(item, language))} <span class="hint">${escape(w.optional)}</span></label>${error}<input type="text" inputmode="decimal" id="${id}" name="${escape(name)}" value="${escape(answers[name] ?? '')}" autocomplete="off"${problem ? ` aria-invalid="true" aria-describedby="${id}-error"` : ''}></div>`;
}

/** The questionnaire as a form posting back to its own link; `problems` re-renders it with what to fix. */
export function questionnairePage(opts: {
  registry: InstrumentRegistry;
  instruments: readonly InstrumentId[];
  language: PatientLanguage;
  action: string;
  answers?: Answers;
  comment?: string;
  problems?: Scored['errors'];
}): string {
  const w = WORDS[opts.language];
  const answers = opts.answers ?? {};
  const problems = opts.problems ?? [];
  const problemFor = (name: string) => problems.find((p) => p.linkId === name);
  const parts = opts.instruments.map((id, index) => {
    const q: Questionnaire = opts.registry.get(id);
    const items = answerable(q)
      .map((item) => {
        const name = `${id}.${item.linkId}`;
        return item.type === 'decimal' ? numberItem(name, item, opts.language, w, answers, problemFor(name)) : choiceItem(name, item, opts.language, w, answers, problemFor(name));
      })
      .join('\n');
    const whole = problemFor(id);
    return `<section class="part" aria-labelledby="part-${id}" id="part-${id}">
<p class="progress">${escape(w.part(index + 1, opts.instruments.length))}</p>
<h2 id="part-${id}">${escape(titleOf(q, opts.language))}</h2>
<p class="hint">${escape(descriptionOf(q, opts.language))}</p>
${whole ? `<p class="error" id="q-${id}-error">${escape(problemText(w, whole))}</p>` : ''}
${items}
</section>`;
  });
  const summary = problems.length
    ? `<div class="summary" role="alert" aria-labelledby="summary-title" tabindex="-1"><h2 id="summary-title">${escape(w.fix)}</h2><ul>${problems
        .map((p) => `<li><a href="#${p.problem === 'too-few-sections' ? `part-${p.linkId}` : fieldId(p.linkId)}">${escape(problemText(w, p))}</a></li>`)
        .join('')}</ul></div>`
    : '';
  const body = `<h1>${escape(w.title)}</h1>
<p>${escape(w.intro)}</p>
${summary}
<form method="post" action="${escape(opts.action)}" novalidate>
${parts.join('\n')}
<section class="part" aria-labelledby="comment-label">
<label class="text" id="comment-label" for="q-comment">${escape(w.comment)}</label>
<textarea id="q-comment" name="comment" maxlength="2000">${escape(opts.comment ?? '')}</textarea>
</section>
<button type="submit">${escape(w.send)}</button>
</form>`;
  return shell(opts.language, w.title, body);
}

/** After a submission (and for every later opening of the same link): thanks, and what to do now for a red flag. */
export function confirmationPage(language: PatientLanguage, advice: 'emergency' | 'today' | null): string {
  const w = WORDS[language];
  const alert =
    advice === 'emergency'
      ? `<div class="alert" role="alert"><h2>${escape(w.emergencyTitle)}</h2><p>${escape(w.emergency)}</p></div>`
      : advice === 'today'
        ? `<div class="alert" role="alert"><h2>${escape(w.todayTitle)}</h2><p>${escape(w.today)}</p></div>`
        : '';
  return shell(language, advice === 'emergency' ? w.emergencyTitle : w.thanksTitle, `${alert}<h1>${escape(w.thanksTitle)}</h1><div class="notice"><p>${escape(w.thanks)}</p></div>`);
}

export type NoticeKind = 'expired' | 'replaced' | 'invalid' | 'too-many' | 'unavailable';

/** A friendly page for a link that cannot be used; it changes nothing. */
export function noticePage(language: PatientLanguage, kind: NoticeKind): string {
  const w = WORDS[language];
  const notices: Record<NoticeKind, [string, string]> = {
    expired: [w.expiredTitle, w.expired],
    replaced: [w.replacedTitle, w.replaced],
    invalid: [w.invalidTitle, w.invalidText],
    'too-many': [w.tooManyTitle, w.tooMany],
    unavailable: [w.unavailableTitle, w.unavailable],
  };
  const [title, text] = notices[kind];
  return shell(language, title, `<h1>${escape(title)}</h1><div class="notice"><p>${escape(text)}</p></div>`);
}
