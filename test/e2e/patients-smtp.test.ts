/**
 * The email channel against a real SMTP server (smtp-server, by nodemailer's authors) on loopback:
 * the service, as `npm start` runs it with PATHWAY_PATIENT_CHANNEL=email, hands a patient's
 * invitation over with STARTTLS (a self-signed certificate made for this test with openssl, trusted
 * through Node's NODE_EXTRA_CA_CERTS) and SMTP AUTH, in the patient's language, carrying the link
 * and nothing else about them; the link works. Then the server refuses: a 451 is tried three
 * times, a 550 once; a stopped server, three times; each ends "undelivered" on the questionnaire
 * and on the worklist.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SMTPServer, type SMTPServerAddress } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WORDS } from '../../patients/words';
import { eventually } from '../harness/pathway-driver';
import { freePort, ServiceProcess } from '../harness/service-process';

const COORDINATOR = { authorization: 'Bearer local-coordinator-key', 'content-type': 'application/json' };

interface Received {
  rcptTo: string[];
  secure: boolean;
  user: string | undefined;
  raw: string;
}

/** A mail server on loopback whose answer to RCPT TO the test chooses. */
class MailServer {
  readonly received: Received[] = [];
  /** Each RCPT TO it was asked, with the reply code it gave. */
  readonly rcpts: Array<{ address: string; reply: number }> = [];
  reply: 250 | 451 | 550 = 250;
  private server: SMTPServer;

  constructor(
    tls: { key: Buffer; cert: Buffer },
    readonly user: string,
    readonly pass: string,
  ) {
    this.server = new SMTPServer({
      ...tls,
      // AUTH only after STARTTLS (the server's default): a delivery that authenticated went over TLS.
      authMethods: ['PLAIN', 'LOGIN'],
      onAuth: (auth, _session, done) => (auth.username === user && auth.password === pass ? done(null, { user }) : done(new Error('invalid credentials'))),
      onRcptTo: (address: SMTPServerAddress, _session, done) => {
        this.rcpts.push({ address: address.address, reply: this.reply });
        if (this.reply === 250) return done();
        done(Object.assign(new Error(this.reply === 451 ? 'mailbox busy, try later' : 'no such mailbox'), { responseCode: this.reply }));
      },
      onData: (stream, session, done) => {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          this.received.push({ rcptTo: session.envelope.rcptTo.map((r) => r.address), secure: session.secure, user: session.user, raw: Buffer.concat(chunks).toString('utf8') });
          done();
        });
      },
      logger: false,
    });
  }

  async listen(port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => resolve());
    });
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** RFC 2047 encoded words and RFC 2045 quoted-printable, as nodemailer writes them (UTF-8). */
const bytesOfQ = (s: string) => Buffer.from(s.replace(/=([0-9A-F]{2})/gi, (_m, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1').toString('utf8');
function decodeHeader(value: string): string {
  return value
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?utf-8\?([QB])\?([^?]*)\?=/gi, (_m, enc: string, text: string) => (enc.toUpperCase() === 'B' ? Buffer.from(text, 'base64').toString('utf8') : bytesOfQ(text.replace(/_/g, ' '))));
}
function parseMessage(raw: string): { headers: Map<string, string>; text: string } {
  const split = raw.indexOf('\r\n\r\n');
  const headers = new Map<string, string>();
  for (const line of raw.slice(0, split).replace(/\r\n[ \t]+/g, ' ').split('\r\n')) {
    const colon = line.indexOf(':');
    headers.set(line.slice(0, colon).toLowerCase(), decodeHeader(line.slice(colon + 1).trim()));
  }
  const body = raw.slice(split + 4);
  const encoding = headers.get('content-transfer-encoding')?.toLowerCase();
  const text = encoding === 'quoted-printable' ? bytesOfQ(body.replace(/=\r\n/g, '')) : encoding === 'base64' ? Buffer.from(body, 'base64').toString('utf8') : body;
  return { headers, text };
}

describe('patient invitations by email through a real SMTP server', () => {
  let dir: string;
  let mail: MailServer;
  let smtpPort: number;
  let service: ServiceProcess | undefined;
  let api: string;
  const smtpPassword = randomBytes(12).toString('hex');

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'pathway-smtp-'));
    // A certificate for 127.0.0.1, made here; the service trusts it the way a deployment trusts a private CA.
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'key.pem', '-out', 'cert.pem', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { cwd: dir, stdio: 'ignore' });
    mail = new MailServer({ key: readFileSync(path.join(dir, 'key.pem')), cert: readFileSync(path.join(dir, 'cert.pem')) }, 'pathway', smtpPassword);
    smtpPort = await freePort();
    await mail.listen(smtpPort);
    service = ServiceProcess.start({
      PATHWAY_DATA_DIR: path.join(dir, 'data'),
      PORT: String(await freePort()),
      TEMPORAL_DEV_SERVER_PORT: String(await freePort()),
      TEMPORAL_UI_PORT: String(await freePort()),
      TEMPORAL_ADDRESS: '',
      PATHWAY_PATIENT_CHANNEL: 'email',
      // requireTLS: no STARTTLS, no message.
      PATHWAY_PATIENT_SMTP_URL: `smtp://pathway:${smtpPassword}@127.0.0.1:${smtpPort}?requireTLS=true`,
      PATHWAY_PATIENT_EMAIL_FROM: 'Spine clinic <care@clinic.example>',
      NODE_EXTRA_CA_CERTS: path.join(dir, 'cert.pem'),
    });
    api = (await service.waitFor((l) => l.msg === 'pathway service ready')).api as string;
    await eventually(() => fetch(`${api}/readyz`).then((r) => r.status), (status) => status === 200);
  });

  afterAll(async () => {
    if (service) await service.interrupt();
    await mail?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const tag = randomBytes(4).toString('hex');
  const patient = { ref: `MRN-SMTP-${tag}`, name: `Lucía Prueba ${tag}`, mobile: '+34600111333', email: `lucia.${tag}@example.org` };

  async function send(pathwayId: string): Promise<{ id: string; state: string; delivery: string }> {
    const res = await fetch(`${api}/v1/pathways/${pathwayId}/questionnaires`, { method: 'POST', headers: COORDINATOR, body: '{}' });
    expect(res.status).toBe(201);
    return ((await res.json()) as { questionnaire: { id: string; state: string; delivery: string } }).questionnaire;
  }
  const worklistItem = async (pathwayId: string) => {
    const res = await fetch(`${api}/v1/worklist?careTeam=spine-a&dueSoonDays=60`, { headers: COORDINATOR });
    expect(res.status).toBe(200);
    return ((await res.json()) as { items: Array<{ pathwayId: string; patientQuestionnaire?: { id: string; state: string } }> }).items.find((i) => i.pathwayId === pathwayId)!;
  };

  it("delivers the invitation over STARTTLS in the patient's language, with the link and nothing else about them; then records each refusal as undelivered", async () => {
    const enrolled = await fetch(`${api}/v1/pathways`, {
      method: 'POST',
      headers: COORDINATOR,
      body: JSON.stringify({ patientRef: patient.ref, patient: { name: patient.name, contact: { mobile: patient.mobile, email: patient.email, language: 'es' } }, careTeam: 'spine-a', baseline: { painNrs: 7, odi: 38 } }),
    });
    expect(enrolled.status).toBe(201);
    const { pathwayId } = ((await enrolled.json()) as { pathway: { pathwayId: string } }).pathway;

    const sent = await send(pathwayId);
    expect(sent).toMatchObject({ state: 'sent', delivery: 'delivered' });
    expect(mail.received).toHaveLength(1);
    const [message] = mail.received;
    // Over TLS (STARTTLS on the plain port), authenticated, to the patient's address only.
    expect(message).toMatchObject({ rcptTo: [patient.email], secure: true, user: 'pathway' });
    const { headers, text } = parseMessage(message!.raw);
    expect(headers.get('to')).toBe(patient.email);
    expect(headers.get('from')).toBe('Spine clinic <care@clinic.example>');
    expect(headers.get('subject')).toBe(WORDS.es.messageSubject);
    expect(headers.get('content-language')).toBe('es');
    expect(headers.get('message-id')).toBe(`<${sent.id}-invitation@pathway.invalid>`);
    expect(text).toContain(WORDS.es.messageIntro);
    // Nothing about the patient beyond the address it must go to: no name, reference or phone, anywhere in the message.
    const decoded = `${[...headers.values()].join('\n')}\n${text}`;
    for (const secret of [patient.name, patient.ref, patient.mobile, 'Lucía']) {
      expect(message!.raw).not.toContain(secret);
      expect(decoded).not.toContain(secret);
    }
    expect(message!.raw.split(patient.email).length - 1).toBe(1);
    // The link in the email opens the patient's questionnaire, in Spanish.
    const link = /https?:\/\/\S+\/p\/[A-Za-z0-9_.-]+/.exec(text)![0];
    const page = await fetch(link);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<html lang="es">');
    // The outcome is recorded: on the questionnaire, and on the worklist.
    const listed = (await (await fetch(`${api}/v1/pathways/${pathwayId}/questionnaires`, { headers: COORDINATOR })).json()) as { items: Array<{ id: string; state: string; delivery: string }> };
    expect(listed.items[0]).toMatchObject({ id: sent.id, state: 'opened', delivery: 'delivered' });
    expect((await worklistItem(pathwayId)).patientQuestionnaire).toMatchObject({ id: sent.id, state: 'opened' });

    // 451 on RCPT TO (try later): three tries, 1 s then 2 s apart, then undelivered.
    mail.reply = 451;
    const busy = await send(pathwayId);
    expect(busy).toMatchObject({ state: 'undelivered', delivery: 'undelivered' });
    expect(mail.rcpts.filter((r) => r.reply === 451)).toHaveLength(3);
    expect((await worklistItem(pathwayId)).patientQuestionnaire).toMatchObject({ id: busy.id, state: 'undelivered' });

    // 550 (permanent, RFC 5321): one try.
    mail.reply = 550;
    const refused = await send(pathwayId);
    expect(refused).toMatchObject({ state: 'undelivered', delivery: 'undelivered' });
    expect(mail.rcpts.filter((r) => r.reply === 550)).toHaveLength(1);

    // The server gone: three tries of a connection, then undelivered.
    await mail.stop();
    const down = await send(pathwayId);
    expect(down).toMatchObject({ state: 'undelivered', delivery: 'undelivered' });
    expect((await worklistItem(pathwayId)).patientQuestionnaire).toMatchObject({ id: down.id, state: 'undelivered' });
    expect(mail.received).toHaveLength(1);

    // The service's own output names neither the patient's address nor the server's password.
    const output = service!.output.join('\n');
    expect(output).not.toContain(patient.email);
    expect(output).not.toContain(smtpPassword);
  });
});
