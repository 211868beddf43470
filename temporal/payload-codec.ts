/**
 * Encrypts every payload Temporal stores (workflow inputs and results, update arguments,
 * query answers, activity arguments, memos) with AES-256-GCM, so scores and notes are never
 * in Temporal's database in plain text. Ids and search attributes are not payloads: they never
 * hold patient data.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { METADATA_ENCODING_KEY, type Payload, type PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';

const ENCODING = 'binary/encrypted';
const KEY_ID = 'encryption-key-id';
const utf8 = (s: string) => new TextEncoder().encode(s);

/** A 32-byte key, as 64 hex characters or base64. */
export function parsePayloadKey(text: string): Buffer {
  const t = text.trim();
  const key = /^[0-9a-f]{64}$/i.test(t) ? Buffer.from(t, 'hex') : Buffer.from(t, 'base64');
  if (key.length !== 32) throw new Error('PATHWAY_PAYLOAD_KEY must be 32 bytes (64 hex characters, or base64)');
  return key;
}

export class EncryptionCodec implements PayloadCodec {
  private readonly keyId: string;

  /** `current` encrypts; `previous` keys still decrypt what was written before a rotation. */
  constructor(
    private readonly current: Buffer,
    previous: Buffer[] = [],
  ) {
    this.keyId = EncryptionCodec.idOf(current);
    for (const k of [current, ...previous]) this.keys.set(EncryptionCodec.idOf(k), k);
  }

  private readonly keys = new Map<string, Buffer>();

  static idOf(key: Buffer): string {
    return createHash('sha256').update(key).digest('hex').slice(0, 16);
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', this.current, iv);
      const plain = temporal.api.common.v1.Payload.encode(payload).finish();
      const data = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
      return { metadata: { [METADATA_ENCODING_KEY]: utf8(ENCODING), [KEY_ID]: utf8(this.keyId) }, data };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      const encoding = payload.metadata?.[METADATA_ENCODING_KEY];
      if (!encoding || Buffer.from(encoding).toString() !== ENCODING) return payload;
      const keyId = Buffer.from(payload.metadata?.[KEY_ID] ?? []).toString();
      const key = this.keys.get(keyId);
      if (!key) throw new Error(`no payload key with id ${keyId}: set it in PATHWAY_PAYLOAD_PREVIOUS_KEYS`);
      const data = Buffer.from(payload.data ?? []);
      const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, 12));
      decipher.setAuthTag(data.subarray(data.length - 16));
      const plain = Buffer.concat([decipher.update(data.subarray(12, data.length - 16)), decipher.final()]);
      return temporal.api.common.v1.Payload.decode(plain) as Payload;
    });
  }
}

/** The codec from settings; outside production a key is generated once in the data folder. */
export interface PayloadKeys {
  current: Buffer;
  /** Earlier keys, still used to decrypt after a rotation. */
  previous: Buffer[];
}

/** The payload keys from settings; outside production a key is generated once in the data folder. */
export function payloadKeysFor(opts: { key?: string; previousKeys?: string; production: boolean; dataDir: string }): PayloadKeys & { generated?: string } {
  const previous = (opts.previousKeys ?? '').split(',').filter(Boolean).map(parsePayloadKey);
  if (opts.key) return { current: parsePayloadKey(opts.key), previous };
  if (opts.production) throw new Error('production mode needs PATHWAY_PAYLOAD_KEY');
  const file = path.join(opts.dataDir, 'payload-key');
  let generated: string | undefined;
  if (!existsSync(file)) {
    mkdirSync(opts.dataDir, { recursive: true });
    writeFileSync(file, randomBytes(32).toString('hex'), { mode: 0o600 });
    generated = file;
  }
  return { current: parsePayloadKey(readFileSync(file, 'utf8')), previous, ...(generated ? { generated } : {}) };
}

/** The codec from settings (see payloadKeysFor). */
export function payloadCodecFor(opts: { key?: string; previousKeys?: string; production: boolean; dataDir: string }): { codec: EncryptionCodec; generated?: string } {
  const { current, previous, generated } = payloadKeysFor(opts);
  return { codec: new EncryptionCodec(current, previous), ...(generated ? { generated } : {}) };
}
