/**
 * The remote codec of the Temporal Web UI and CLI (Temporal's codec server convention):
 * POST /codec/decode and /codec/encode take `{ payloads: [...] }` in protobuf JSON (base64 data
 * and metadata) with the namespace in X-Namespace, and answer the same shape run through the
 * payload codec. Only a clinician may read decrypted histories: by API key, or signed in to the
 * console. CORS lets the configured Web UI origins call it from the browser, with credentials.
 * Each use is logged: who, which namespace and workflow, how many payloads; never their content.
 */
import cors from 'cors';
import express, { Router, type NextFunction, type Request, type Response } from 'express';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { z } from 'zod';
import type { Logger } from '../../observability/log';
import { identify, requirePrincipal, type ApiKeyStore, type Principal } from '../auth';
import { HttpProblem, invalid } from '../problem';

export interface CodecOptions {
  codec: PayloadCodec;
  /** The namespace whose payloads this service encrypts. */
  namespace: string;
  /** Web UI origins allowed to call from a browser. */
  origins: string[];
  /**
   * The embedded default's own Web UI has no credentials to send, so it gets a path with a
   * random token, made at start-up and known only to this process and that UI.
   */
  embeddedUiToken?: string;
}

const PayloadsBody = z.object({
  payloads: z.array(z.object({ metadata: z.record(z.string(), z.string()).optional(), data: z.string().optional() }).strict()).max(10_000),
});
const SAFE_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const EMBEDDED_UI: Principal = { id: 'embedded-web-ui', role: 'clinician' };
const Payloads = temporal.api.common.v1.Payload;

function fromJson(body: z.infer<typeof PayloadsBody>): Payload[] {
  return body.payloads.map((p) => Payloads.fromObject(p) as Payload);
}

function toJson(payloads: Payload[]) {
  return { payloads: payloads.map((p) => Payloads.toObject(Payloads.fromObject(p), { bytes: String })) };
}

export function codecRouter(opts: CodecOptions & { apiKeys: ApiKeyStore; logger: Logger }): Router {
  const router = Router();
  router.use(
    cors({
      origin: opts.origins,
      credentials: true,
      methods: ['POST'],
      allowedHeaders: ['Content-Type', 'Authorization', 'X-Namespace', 'X-Workflow-Id', 'X-Request-Id'],
      maxAge: 600,
    }),
  );
  router.use(express.json({ limit: '8mb', strict: true }));

  const convert = (operation: 'decode' | 'encode') => async (req: Request, res: Response) => {
    const principal = req.principal!;
    if (principal.role !== 'clinician') throw new HttpProblem(403, `role ${principal.role} may not read decrypted histories`);
    const namespace = req.get('x-namespace') ?? opts.namespace;
    if (namespace !== opts.namespace) throw new HttpProblem(400, `this codec serves namespace ${opts.namespace}`, { errors: [{ field: 'X-Namespace', message: `must be ${opts.namespace}` }] });
    const parsed = PayloadsBody.safeParse(req.body);
    if (!parsed.success) throw invalid(parsed.error);
    const workflowId = req.get('x-workflow-id');
    opts.logger.info('codec used', {
      operation,
      keyId: principal.id,
      role: principal.role,
      namespace,
      workflowId: workflowId && SAFE_ID.test(workflowId) ? workflowId : undefined,
      payloads: parsed.data.payloads.length,
    });
    let converted: Payload[];
    try {
      const payloads = fromJson(parsed.data);
      converted = operation === 'decode' ? await opts.codec.decode(payloads) : await opts.codec.encode(payloads);
    } catch {
      // The codec's own message may name a key id; the caller needs only to know which call failed.
      throw new HttpProblem(400, `a payload could not be ${operation}d with this service's keys`);
    }
    res.json(toJson(converted));
  };

  const asEmbeddedUi = (req: Request, _res: Response, next: NextFunction) => {
    if (!opts.embeddedUiToken || req.params.token !== opts.embeddedUiToken) return next(new HttpProblem(404, 'no such resource'));
    req.principal = EMBEDDED_UI;
    next();
  };
  // A clinician signed in to the console, calling from an allowed Web UI origin: the browser sends
  // the session cookie (the UI is on the same site), and the Origin stands in for the CSRF token,
  // which the UI cannot send (a page of any other origin is not allowed, and gets no CORS answer).
  const fromWebUi = (req: Request, _res: Response, next: NextFunction) => {
    const origin = req.get('origin');
    if (!req.get('authorization') && req.session?.principal && origin !== undefined && opts.origins.includes(origin)) req.principal = req.session.principal;
    next();
  };
  const apiKey = identify(opts.apiKeys);
  const bearer = [fromWebUi, (req: Request, res: Response, next: NextFunction) => (req.principal ? next() : apiKey(req, res, next)), requirePrincipal];
  for (const operation of ['decode', 'encode'] as const) {
    router.post(`/${operation}`, bearer, convert(operation));
    // The CLI's `--codec-endpoint 'http://…/codec/{namespace}'` form.
    router.post(`/:namespace/${operation}`, bearer, (req: Request, _res: Response, next: NextFunction) => {
      req.headers['x-namespace'] ??= String(req.params.namespace);
      next();
    }, convert(operation));
    router.post(`/embedded-ui/:token/${operation}`, asEmbeddedUi, convert(operation));
  }
  return router;
}
