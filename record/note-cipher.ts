/**
 * Encrypts free text (notes, reasons, stored answers) before it rests in the record store:
 * AES-256-GCM with the payload key, tagged with the key's id so a rotated key still decrypts
 * what was written before (PATHWAY_PAYLOAD_PREVIOUS_KEYS).
 */
import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes } from 'node:crypto';

const VERSION = 'v1';

export class NoteCipher {
  private readonly keys = new Map<string, Buffer>();
  private readonly currentId: string;

  constructor(
    private readonly current: Buffer,
    previous: Buffer[] = [],
  ) {
    this.currentId = NoteCipher.idOf(current);
    for (const k of [current, ...previous]) this.keys.set(NoteCipher.idOf(k), k);
  }

  static idOf(key: Buffer): string {
    return createHash('sha256').update(key).digest('hex').slice(0, 16);
  }

  /** Secrets for another use of the keys (HMAC of a label): the current key's first, then the previous keys'. */
  derivedSecrets(label: string): string[] {
    const ordered = [this.current, ...[...this.keys.values()].filter((k) => k !== this.current)];
    return ordered.map((k) => createHmac('sha256', k).update(label).digest('hex'));
  }

  encrypt(text: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.current, iv);
    const data = Buffer.concat([iv, cipher.update(text, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return `${VERSION}.${this.currentId}.${data.toString('base64')}`;
  }

  decrypt(sealed: string): string {
    const [version, keyId, body] = sealed.split('.');
    if (version !== VERSION || !keyId || body === undefined) throw new Error('not a sealed note');
    const key = this.keys.get(keyId);
    if (!key) throw new Error(`no payload key with id ${keyId}: set it in PATHWAY_PAYLOAD_PREVIOUS_KEYS`);
    const data = Buffer.from(body, 'base64');
    const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, 12));
    decipher.setAuthTag(data.subarray(data.length - 16));
    return Buffer.concat([decipher.update(data.subarray(12, data.length - 16)), decipher.final()]).toString('utf8');
  }

  seal(text: string | undefined | null): string | null {
    return text === undefined || text === null ? null : this.encrypt(text);
  }

  open(sealed: string | null): string | undefined {
    return sealed === null ? undefined : this.decrypt(sealed);
  }
}
