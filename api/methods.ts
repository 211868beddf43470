/**
 * Which methods each path has, read from the OpenAPI document so that the two cannot disagree:
 * a method a path does not have answers 405 with Allow, OPTIONS answers with Allow, and each
 * request is logged with its route template (the full path, also when the request fails).
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { HttpProblem } from './problem';

const OPERATIONS = ['get', 'put', 'post', 'delete', 'patch'];

interface PathMethods {
  template: string;
  pattern: RegExp;
  allow: string[];
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Literal paths before templated ones, so /v1/pathways/summary is not read as a pathway id. */
export function pathMethods(doc: { paths: Record<string, Record<string, unknown>> }): PathMethods[] {
  return Object.entries(doc.paths)
    .map(([template, operations]) => {
      const methods = OPERATIONS.filter((m) => m in operations).map((m) => m.toUpperCase());
      const allow = [...methods, ...(methods.includes('GET') ? ['HEAD'] : []), 'OPTIONS'];
      // Express matches paths case-insensitively and with or without a trailing slash; so does this.
      const pattern = new RegExp(`^${template.split(/\{[^}]+\}/).map(escape).join('[^/]+')}/?$`, 'i');
      return { template, pattern, allow, params: (template.match(/\{/g) ?? []).length };
    })
    .sort((a, b) => a.params - b.params)
    .map(({ template, pattern, allow }) => ({ template, pattern, allow }));
}

export function methodCheck(doc: { paths: Record<string, Record<string, unknown>> }): RequestHandler {
  const table = pathMethods(doc);
  return (req: Request, res: Response, next: NextFunction) => {
    const match = table.find((p) => p.pattern.test(req.path));
    if (!match) return next();
    res.locals.route = match.template;
    const allow = match.allow.join(', ');
    if (req.method === 'OPTIONS') {
      res.set('Allow', allow);
      return res.status(204).end();
    }
    if (!match.allow.includes(req.method)) {
      res.set('Allow', allow);
      return next(new HttpProblem(405, `this resource allows ${allow}`));
    }
    next();
  };
}
