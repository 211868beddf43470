/**
 * A real HTTP receiver of care-team webhooks: it verifies every signature, can fail a number of
 * times or be down, and keeps each message once by its id, as a receiver should.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifySignature } from '../../activities/webhooks';
import type { CareTeamMessage } from '../../clinical/care-team-messages';

export interface Attempt {
  id: string;
  idempotencyKey: string;
  verified: boolean;
  status: number;
  body: CareTeamMessage & { link?: string };
}

export class WebhookReceiver {
  readonly attempts: Attempt[] = [];
  /** Messages accepted, once per id. */
  readonly accepted = new Map<string, CareTeamMessage & { link?: string }>();
  private failuresLeft = 0;
  private failuresFor: string | undefined;
  private alwaysStatus: number | null = null;
  private readonly statusFor = new Map<string, number>();

  private constructor(
    private readonly server: Server,
    readonly secret: string,
  ) {}

  static async start(secret = 'whsec-test-secret-0123456789abcdef'): Promise<WebhookReceiver> {
    let receiver!: WebhookReceiver;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => receiver.handle(req.headers, Buffer.concat(chunks).toString('utf8'), (status) => res.writeHead(status).end()));
    });
    receiver = new WebhookReceiver(server, secret);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    return receiver;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks/pathway`;
  }

  /** Answer 503 to the next `n` deliveries (of one pathway's messages, if named), then accept. */
  failNext(n: number, pathwayId?: string): void {
    this.failuresLeft = n;
    this.failuresFor = pathwayId;
  }

  /** Answer every delivery with this status (null: behave normally). */
  answerAlways(status: number | null): void {
    this.alwaysStatus = status;
  }

  /** Answer every delivery about one pathway with this status. */
  answerFor(pathwayId: string, status: number): void {
    this.statusFor.set(pathwayId, status);
  }

  private handle(headers: Record<string, string | string[] | undefined>, raw: string, reply: (status: number) => void): void {
    const h = (name: string) => {
      const v = headers[name];
      return Array.isArray(v) ? v[0] : v;
    };
    const id = h('webhook-id') ?? '';
    const verified = verifySignature(this.secret, { id, timestamp: h('webhook-timestamp'), signature: h('webhook-signature') }, raw);
    let status = 204;
    const body = JSON.parse(raw) as CareTeamMessage;
    if (!verified) status = 401;
    else if (body.pathwayId && this.statusFor.has(body.pathwayId)) status = this.statusFor.get(body.pathwayId)!;
    else if (this.alwaysStatus !== null) status = this.alwaysStatus;
    else if (this.failuresLeft > 0 && (this.failuresFor === undefined || body.pathwayId === this.failuresFor)) {
      this.failuresLeft--;
      status = 503;
    }
    this.attempts.push({ id, idempotencyKey: h('idempotency-key') ?? '', verified, status, body });
    if (status < 300 && !this.accepted.has(id)) this.accepted.set(id, body);
    reply(status);
  }

  attemptsFor(pathwayId: string): Attempt[] {
    return this.attempts.filter((a) => a.body.pathwayId === pathwayId);
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}
